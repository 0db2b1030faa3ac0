# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 03 · A brand shortlist: brief in, vetted candidates out
#
# A brand manager writes a brief; you hand the vetting team a shortlist. This notebook goes
# through the steps with the public Python API:
#
# 1. write the brief as a row of the contract's `brands` table;
# 2. rank creators by fit with `Scorer.fit`;
# 3. gate on fraud risk: drop high-risk creators, mark medium-risk ones for a closer look;
# 4. read the reasons behind each rank and each risk;
# 5. export the shortlist as a CSV a vetting workflow (a spreadsheet, a ticket queue) can take.
#
# In real use the scorer loads the registered champion (`Scorer.load()` reads
# `models:/creatorscore@champion`; notebook 02 shows how one gets there). Here we train a small
# bundle on a synthetic world first, so the notebook runs on its own, and rank the creators of
# a second world the models never saw.

# %%
import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from features.dataset import load, load_labels
from serving.predict import RISK_BANDS, Scorer
from training.config import TrainConfig
from training.pipeline import fit_bundle
from training.simulate import simulate

pd.set_option("display.width", 140)
pd.set_option("display.max_colwidth", 80)
work = Path(tempfile.mkdtemp(prefix="creatorscore-shortlist-"))

# %% [markdown]
# ## A model to rank with
#
# `fit_bundle` trains the text, audience, fraud and fit models without MLflow and returns the
# bundle; `bundle.save` writes it as plain files with checksums, and `Scorer.load` reads a
# bundle folder as readily as a registry URI. The fit model learns from brand outcomes
# (`fit_labels`), so the training world gets 60 brands.

# %%
train_world = simulate(1_200, seed=31, n_brands=60)
trained = fit_bundle(
    load(train_world.tables), load_labels(train_world.labels)[0], TrainConfig.quick()
)
trained.bundle.save(work / "bundle")
scorer = Scorer.load(work / "bundle")
print("model version", scorer.model_version)
print({k: round(trained.metrics[k], 3) for k in ("fraud_roc_auc", "fit_ndcg_at_10")})

# %% [markdown]
# ## The creators to choose from
#
# Your creator database, as contract tables: here 800 synthetic creators an agency pitched, with
# more buyers among them than usual (30% instead of 15-20%). `load` accepts a folder or, as
# here, a mapping of table name to DataFrame.

# %%
pool = simulate(800, seed=32, fraud_share=0.3)
data = load(pool.tables)
creators = data.creators.set_index("creator_id")
print(f"{len(data)} creators; platforms: {creators['platform'].value_counts().to_dict()}")

# %% [markdown]
# ## Write the brief
#
# A brief is free text: what the brand sells, to whom, what it values, in any language. It is
# mapped into the same topic space as the creators' bios and captions, so write it in the words
# creators would use, not in marketing abstractions ("hiking boots and trail running", not
# "outdoor lifestyle solutions"). The optional columns are hard facts the fit model weighs:
# target countries (ISO codes separated by `;`, matched against the creator's country), a
# follower window, and topics the brand will not appear next to.

# %%
brands = pd.DataFrame(
    [
        {
            "brand_id": "trailpeak",
            "name": "Trailpeak",
            "brief": (
                "Trailpeak sells lightweight hiking boots, tents and trail running gear for "
                "camping trips and mountain adventures. Our customers hike, camp and explore "
                "outdoors. We value sustainability and honest reviews."
            ),
            "target_countries": "US;CA;GB",
            "min_followers": 5_000,
            "max_followers": 500_000,
            "excluded_topics": "gambling, crypto and get-rich-quick investing",
        }
    ]
)
print(scorer.bundle.text_model.transform_brief(brands["brief"]).round(2))
print("topics:", scorer.bundle.text_model.topic_labels_)

# %% [markdown]
# The brief's topic shares above: most of its weight should sit on the outdoor topic. If a
# brief lands on no topic (all `NaN`) it shares no words with the creators' texts; add the
# words creators in that niche use.
#
# ## Rank by fit
#
# `Scorer.fit` scores every (brand, creator) pair: `fit_score` estimates the chance that the
# collaboration turns out well (outcome "good" or better), `fit_rank` orders creators within the
# brand, and `fraud_risk` is the creator's calibrated risk of bought followers or engagement.
# The fit model already weighs fraud risk, so likely buyers rank lower; gating below makes
# that a hard rule rather than a trade-off.

# %%
ranked = scorer.fit(data, brands, reasons=True)
ranked = ranked.join(
    creators[["handle", "platform", "country", "followers"]], on="creator_id"
).sort_values("fit_rank")
ranked.head(10)[
    ["fit_rank", "creator_id", "handle", "country", "followers", "fit_score", "fraud_risk"]
]

# %% [markdown]
# ## Gate on fraud risk
#
# The risk bands are cut at fixed, calibrated probabilities (`serving.predict.RISK_BANDS`):
# medium from 0.2, about the base rate of buyers among vetted creators, so "riskier than a
# creator picked at random"; high from 0.5, "more likely than not". The gate drops high-risk
# creators from the shortlist and sends medium-risk ones to a reviewer with their reasons. The
# risk is a probability, not a verdict: a high band on an honest creator happens (a viral post,
# a giveaway, bots that follow everyone), which is why the reasons travel with it.

# %%
print(dict(RISK_BANDS))
scores = scorer.score(data, reasons="flagged")
ranked = ranked.merge(
    scores[["creator_id", "risk_band", "engagement_rate", "expected_engagement_rate", "tier"]]
    .assign(fraud_reasons=scores["reasons"])
    .rename(columns={"engagement_rate": "er", "expected_engagement_rate": "er_expected"}),
    on="creator_id",
)
print("risk bands of all creators:", ranked["risk_band"].value_counts().to_dict())
top = ranked[ranked["fit_rank"] <= 100]
print("risk bands among the 100 best fits:", top["risk_band"].value_counts().to_dict())

# %% [markdown]
# The fit model already pushes likely buyers down the ranking, so few high-risk creators remain
# near the top; the gate catches those whose fit is strong enough to stay there. Since the world
# is synthetic, we can check what it removed against the truth:

# %%
truth = pool.labels["fraud_labels"].set_index("creator_id")
gated = top[top["risk_band"] == "high"]
gated.assign(truly=truth.loc[gated["creator_id"], "fraud_kind"].to_numpy())[
    ["fit_rank", "creator_id", "fit_score", "fraud_risk", "truly"]
]

# %% [markdown]
# ## The shortlist, and why
#
# Keep the best 15 creators that pass the gate. Each row carries two sets of reasons: why it
# fits (from the fit model: topic match, country, size window, exclusions) and, for medium
# risk, why it might not be clean. Each reason is a plain sentence with its signed contribution;
# positive raises the fit score (or the fraud risk).

# %%
shortlist = (
    ranked[ranked["risk_band"] != "high"].sort_values("fit_rank").head(15).reset_index(drop=True)
)
shortlist.insert(0, "shortlist_rank", range(1, len(shortlist) + 1))
for row in shortlist.head(3).itertuples():
    print(f"#{row.shortlist_rank} {row.handle} ({row.country}, {row.followers:,.0f} followers)")
    print(f"   fit {row.fit_score:.2f}, fraud risk {row.fraud_risk:.2f} ({row.risk_band})")
    for reason in json.loads(row.reasons):
        print("   fit:", reason)
    for reason in json.loads(row.fraud_reasons):
        print("   risk:", reason)

# %% [markdown]
# Read the reasons before the score. A creator who fits only through one topic share and a
# country match is a weaker case than one with matching topics in bio *and* captions; a reason
# that mentions an excluded topic deserves a look at the posts themselves. The medium-risk rows
# carry their evidence (which dates, which posts, which followers), which is what a reviewer
# needs to clear or reject them.

# %%
review = top[top["risk_band"] == "medium"]
for row in review.itertuples():
    print(f"#{row.fit_rank} {row.handle}: fraud risk {row.fraud_risk:.2f}")
    for reason in json.loads(row.fraud_reasons):
        print("   -", reason)
on_list = shortlist["risk_band"].eq("medium").sum()
print(f"{len(review)} medium-risk creators in the top 100, {on_list} of them on the shortlist")

# %% [markdown]
# ## Export for the vetting workflow
#
# One row per shortlisted creator, with plain-text reasons and empty columns for the reviewer's
# decision. The model version travels with every row, so a later question ("why was this
# creator on the list?") can be answered with the model that made the list.


# %%
def sentences(reasons: str) -> str:
    """The JSON list of reasons as one cell of text."""
    return " | ".join(json.loads(reasons))


export = shortlist.assign(
    fit_reasons=shortlist["reasons"].map(sentences),
    fraud_reasons=shortlist["fraud_reasons"].map(sentences),
    needs_fraud_review=shortlist["risk_band"] == "medium",
    reviewer="",
    decision="",
)[
    [
        "brand_id",
        "shortlist_rank",
        "fit_rank",
        "creator_id",
        "handle",
        "platform",
        "country",
        "followers",
        "tier",
        "fit_score",
        "fraud_risk",
        "risk_band",
        "needs_fraud_review",
        "er",
        "er_expected",
        "fit_reasons",
        "fraud_reasons",
        "model_version",
        "reviewer",
        "decision",
    ]
]
out = work / "trailpeak_shortlist.csv"
export.to_csv(out, index=False)
back = pd.read_csv(out)
print(f"{out.name}: {len(back)} rows, {len(back.columns)} columns")
back.head(5)[["shortlist_rank", "handle", "fit_score", "risk_band", "fit_reasons"]]

# %% [markdown]
# The command line does the ranking for whole files, and writes a self-contained HTML vetting
# report for one creator and brand, to attach to the review ticket of each medium-risk creator:
#
# ```bash
# creatorscore fit --data data/ --brands brands.csv --top 50 --out fit.csv
# creatorscore report --data data/ --brands brands.csv --brand trailpeak \
#     --creator c000123 --out c000123.html
# ```

# %%
shutil.rmtree(work)
