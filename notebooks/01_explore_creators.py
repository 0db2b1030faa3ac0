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
# # 01 · Explore creators: what each signal shows, and where it misleads
#
# This notebook walks through the raw material creatorscore scores from: follower-growth curves,
# engagement against what is typical, and the topics creators post about. It uses the synthetic
# creator world that ships with the package, so it runs anywhere in well under a minute, and its
# labels tell us the truth behind every curve: who bought followers, who went viral, who ran a
# giveaway.
#
# Everything here uses the public Python API, the same calls you would make on your own data:
#
# - `training.simulate.simulate` / `write_world`: make a world and write it as a dataset folder;
# - `features.dataset.load`: read and validate a dataset folder against the data contract;
# - `features.build`: one row of named features per creator;
# - `features.growth.largest_jump`, `features.engagement.EngagementCurve`,
#   `features.topics.TopicModel`: the pieces behind the features, for plotting.
#
# To run it on your own export, point `load` at a folder holding `creators.csv` (required) and
# any of `follower_history`, `posts`, `comments`, `audience_sample` (see `docs/SCHEMA.md`).

# %%
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import features
from features.dataset import load
from features.engagement import EngagementCurve
from features.growth import largest_jump
from features.topics import TopicModel, creator_documents
from training.simulate import simulate, write_world

pd.set_option("display.width", 120)
pd.set_option("display.max_columns", 20)
# A private scratch folder: nothing is written into the repository or the working directory.
work = Path(tempfile.mkdtemp(prefix="creatorscore-explore-"))

# %% [markdown]
# ## Load a dataset
#
# We simulate 1,000 creators and write them the way an export from a data vendor would arrive:
# one file per table. The labels go to a separate folder, as they would in real life (you rarely
# have them for the creators you score). `load` coerces every column to its contract type and
# reports bad rows instead of failing; here there are none.

# %%
world = simulate(1_000, seed=7)
write_world(world, work / "data", work / "labels", fmt="csv")
data = load(work / "data")

print(f"{len(data):,} scorable creators, {len(data.unscorable)} unscorable")
print(f"{len(data.errors)} bad rows")
for name in ("creators", "follower_history", "posts", "comments", "audience_sample"):
    table = getattr(data, name)
    print(f"{name:>16}: {len(table):>7,} rows")
data.creators.head(3)

# %% [markdown]
# The labels of the synthetic world say who bought what (`fraud_labels`, with the kind of fraud),
# when each purchase or purge happened (`fraud_events`) and which honest creators had a viral
# post or ran a giveaway (`organic_events`). We use them only to explain the curves; the features
# never see them.

# %%
fraud = world.labels["fraud_labels"].set_index("creator_id")
fraud_events = world.labels["fraud_events"]
organic_events = world.labels["organic_events"]
truth = world.labels["audience_truth"].set_index("creator_id")

group = pd.Series("organic", index=fraud.index, name="group")
for kind in ("viral", "giveaway"):
    group[organic_events.loc[organic_events["kind"] == kind, "creator_id"].unique()] = kind
group[fraud["bought_followers"]] = "bought: " + fraud.loc[fraud["bought_followers"], "fraud_kind"]
group.value_counts().to_frame("creators")

# %% [markdown]
# ## Features
#
# `features.build` turns the tables into one row per creator of float columns; `NaN` means
# "unknown", never zero. Without fitted models the topic and audience features are `NaN`; the
# engagement features compare against `EngagementCurve.prior()`, a curve from published
# benchmarks. `features/catalog.py` (and `python -m features`) explains every column.

# %%
X = features.build(data)
print(X.shape)
X.filter(like="growth_").iloc[:3, :8]

# %% [markdown]
# ## Follower-growth curves: organic, viral, giveaway and bought
#
# We pick four creators with well-sampled histories: one with plain organic growth, one whose
# post went viral, one who ran a giveaway, and one who bought followers in a burst. For each,
# `largest_jump` gives the day and size of the largest resolved two-day jump: the same jump the
# `growth_max_jump_*` features describe. Shaded spans are the true events from the labels;
# grey dots are the likes of each post (right axis), because the key question about any jump is
# whether engagement moved with it.


# %%
def pick(candidates: pd.Index, by: pd.Series) -> str:
    """The candidate with the largest ``by`` among those with a well-sampled history."""
    sampled = X.index[X["growth_n_points"] >= 120]
    return by.reindex(candidates.intersection(sampled)).idxmax()


followers = data.creators.set_index("creator_id")["followers"]


def gain(events: pd.DataFrame) -> pd.Series:
    """Followers an event kind brought (or bought), relative to the creator's audience."""
    return events.groupby("creator_id")["size"].sum() / followers


viral_events = organic_events[organic_events["kind"] == "viral"]
giveaway_events = organic_events[organic_events["kind"] == "giveaway"]
burst_events = fraud_events[fraud_events["kind"] == "burst"]
steady = -X["growth_max_jump_2d_rel"]  # the smoothest honest curve
examples = {
    "organic": pick(group.index[group == "organic"], steady),
    "viral": pick(group.index[group == "viral"], gain(viral_events)),
    "giveaway": pick(group.index[group == "giveaway"], gain(giveaway_events)),
    "bought (burst)": pick(group.index[group == "bought: burst"], gain(burst_events)),
}
ids = list(examples.values())
jumps = largest_jump(data.follower_history, ids)
jumps.assign(group=list(examples))

# %%
event_colours = {
    "burst": "tab:red",
    "purge": "black",
    "viral": "tab:green",
    "giveaway": "tab:orange",
}
history = data.follower_history
posts = data.posts
fig, axes = plt.subplots(2, 2, figsize=(12, 7), sharex=True)
for ax, (label, cid) in zip(axes.ravel(), examples.items(), strict=True):
    h = history[history["creator_id"] == cid]
    ax.plot(h["date"], h["followers"], ".-", ms=3, lw=1, label="followers")
    events = pd.concat([fraud_events, organic_events])
    for ev in events[events["creator_id"] == cid].itertuples():
        ax.axvspan(
            ev.start_date,
            ev.end_date + pd.Timedelta(days=1),
            color=event_colours.get(ev.kind, "grey"),
            alpha=0.2,
            label=f"true {ev.kind}",
        )
    j = jumps.loc[cid]
    if pd.notna(j["date"]):
        ax.axvline(j["date"], color="tab:red", ls="--", lw=1, label="largest detected jump")
        ax.annotate(
            f"+{j['size']:,.0f} ({j['rel']:.1%})",
            (j["date"], h["followers"].max()),
            xytext=(4, -12),
            textcoords="offset points",
            color="tab:red",
        )
    likes = ax.twinx()
    p = posts[posts["creator_id"] == cid]
    likes.scatter(p["posted_at"], p["likes"], s=8, color="grey", alpha=0.6)
    likes.set_ylabel("likes per post", color="grey")
    ax.set_title(f"{label}: {cid}, {followers[cid]:,.0f} followers")
    ax.set_ylabel("followers")
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), loc="best", fontsize=8)
fig.autofmt_xdate()
fig.tight_layout()
plt.show()

# %% [markdown]
# What to read in these curves:
#
# - **Organic growth** is a gentle ramp: about 2-5% a month for established accounts, 6-8% for
#   small ones (FACTS.md, "healthy growth"). Its largest two-day jump is a small fraction of the
#   audience and there is no engagement event around it.
# - **A bought burst** is a near-vertical step over one or two days, often of a round package size
#   (1k, 5k, 10k; sellers charge about $5-15 per 1,000 Instagram followers), sometimes repeated as
#   a staircase, and followed weeks later by a slow loss as the platform removes fakes. The likes
#   do not move: bought followers never engage, so the engagement rate drops after the step.
# - **A viral post** also makes a steep rise, but it comes with the post's likes (5-50x the
#   usual in this world) and spreads over several days. Judged on the follower curve alone it is
#   the classic false positive.
# - **A giveaway** looks like a viral post that partly undoes itself: "tag a friend" followers
#   leave after the draw, so the curve rises with a spike in comments and then loses 30-60% of
#   the gain. The loss afterwards can look like a purge of bought followers.
#
# The table below puts numbers on this across all creators: median values per group of the jump,
# its distance from a round package size, and what engagement did around it.

# %%
signals = [
    "growth_max_jump_2d_rel",
    "growth_max_jump_round_dist",
    "eng_er_vs_expected",
    "eng_er_jump_ratio",
    "eng_spike_follower_growth_rel",
    "eng_likes_cv",
    "eng_comments_per_like",
]
order = ["organic", "viral", "giveaway", "bought: burst", "bought: drip", "bought: likes"]
X[signals].groupby(group.reindex(X.index)).median().reindex(order).T.round(3)

# %% [markdown]
# - `growth_max_jump_2d_rel` separates bursts from organic growth well, but viral and giveaway
#   creators sit in between: a jump alone is not proof.
# - `eng_er_jump_ratio` (engagement rate after the largest jump divided by before) is the
#   disambiguation FACTS.md asks for: near 1 when the new followers are real people who engage,
#   well below 1 when they are bought. Giveaways fall in between, because "tag a friend"
#   followers engage little; what gives them away is the comment count (`eng_comments_per_like`,
#   several times the usual 2-5 per 100 likes) and very uneven likes.
# - `growth_max_jump_round_dist` is small for bought packages; organic jumps land anywhere.
# - `eng_er_vs_expected` is only a little below 1 for follower buyers: the dilution is at most
#   the bought share, small next to the spread between honest creators (next section).
# - `eng_likes_cv` below 0.4 means likes held at an even level (bought likes, trendHERO); above
#   1.0 usually a giveaway or an ad, not fraud. A drip buyer has no jump at all: it shows only as a
#   run of near-constant daily gains (`growth_drip_*`).

# %% [markdown]
# ## Engagement rate against the expected curve, per platform
#
# Engagement rate is (likes + comments) / followers, the median over the recent posts. It falls
# with size (Instagram: about 2-5% for nano accounts down to 0.3-0.5% for mega accounts), and
# differs by platform (TikTok's median is 1.31% per follower, YouTube's 0.54% per subscriber), so a
# fixed cut-off such as "under 1% is low" would flag every large account. creatorscore compares
# each creator with an expected curve for its platform and size instead, and reports a
# percentile. The line is `EngagementCurve.prior()`; the band is its 10th-90th percentile range.
# Training replaces the prior with a curve fitted on your honest creators.

# %%
curve = EngagementCurve.prior()
kind = group.reindex(X.index)
platform = data.creators.set_index("creator_id")["platform"].reindex(X.index)
size = followers.reindex(X.index)
levels = np.asarray(curve.quantile_levels_)
grid = np.logspace(3, np.log10(5e6), 100)
styles = {
    "honest": dict(color="lightgrey", s=6),
    "bought followers (burst, drip)": dict(color="tab:red", s=14),
    "follow-for-follow": dict(color="tab:purple", s=14),
    "bought likes or pod (alone or with followers)": dict(color="tab:blue", s=14),
}
who = {
    "honest": ~kind.str.startswith("bought"),
    "bought followers (burst, drip)": kind.isin(["bought: burst", "bought: drip"]),
    "follow-for-follow": kind == "bought: f4f",
    "bought likes or pod (alone or with followers)": kind.str.contains("likes|pod"),
}
fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), sharey=True)
for ax, name in zip(axes, ["instagram", "tiktok", "youtube"], strict=True):
    on = platform == name
    for label, mask in who.items():
        ax.scatter(size[on & mask], X.loc[on & mask, "eng_er_median"], label=label, **styles[label])
    expected = curve.expected(grid, [name] * len(grid))
    q = np.asarray(curve.residual_quantiles_[name])
    lo, hi = np.interp([0.1, 0.9], levels, q)
    ax.plot(grid, expected, color="black", lw=1.5, label="expected (prior)")
    ax.fill_between(grid, expected * 10**lo, expected * 10**hi, color="black", alpha=0.08)
    ax.set(xscale="log", yscale="log", title=name, xlabel="followers")
axes[0].set_ylabel("median engagement rate")
axes[0].legend(fontsize=8, loc="lower left")
fig.tight_layout()
plt.show()

# %% [markdown]
# Read the cloud, not single dots:
#
# - **Bought followers** dilute the rate, but only by the bought share: 25% more followers who
#   never engage lower the rate by a fifth, while honest creators of one size already differ by
#   a factor of four across the band. The red dots lean below the curve without leaving the
#   cloud, so a low rate alone is weak evidence. A ghost audience, the "very low" tail (under
#   1% on Instagram where 2-3% is typical), takes a large purchase relative to the audience.
# - **Bought likes and pods** push the rate *up*: the blue dots sit above the curve. Above the
#   90th percentile is an engagement-farm flag, not a compliment; check how even the likes are
#   (`eng_likes_cv`) and how few comments come per like (healthy: about 2-5 per 100 likes).
# - **Where it misleads.** Niches differ (travel about 2.4%, education about 1.2% on Instagram,
#   Statista 2023), so a tech creator below the curve may be fine; a giveaway or one viral post
#   inflates the median for months; and the prior is a blend of vendors who each define
#   engagement differently. Percentiles from a curve fitted on *your* honest creators (training
#   does this) are better than any published number.
#
# ### Small samples
#
# The median over a handful of posts is noisy. Among honest creators, the spread of the log
# ratio to the expected rate (interquartile range, in natural-log units) shrinks as the number of
# posts grows:

# %%
honest = ~kind.str.startswith("bought")
posts_used = pd.cut(X["eng_n_posts"], [0, 9, 19, 30], labels=["2-9 posts", "10-19", "20-30"])
ratio = X.loc[honest, "eng_er_log_ratio"]
spread = ratio.groupby(posts_used[honest], observed=True).agg(
    creators="size", iqr=lambda r: r.quantile(0.75) - r.quantile(0.25)
)
spread.round(3)

# %% [markdown]
# A creator with five posts can sit at the 10th percentile by chance. The fraud model sees
# `eng_n_posts` next to the rate and learns to trust thin evidence less; when you read a single
# creator's numbers, do the same. The same holds for follower histories with a few points
# (`growth_n_points`): a rise across a three-week gap in the history is never called a one-day
# jump, but it is not ruled out either.
#
# ## Bots follow everyone
#
# A large share of fake-looking followers is the most quoted fraud signal and the most
# misleading one. Bots follow honest creators too: SRF found about 30% fake followers on average
# across 115 Swiss influencers, with a bimodal spread unrelated to size, and HypeAuditor reports
# that only about 60% of US followers are real. The synthetic world reproduces this; here is the
# true fake share of honest creators and of buyers:

# %%
fake = truth["fake_share"].reindex(X.index)
fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.linspace(0, 1, 41)
ax.hist(fake[honest], bins=bins, alpha=0.6, label="honest", density=True)
ax.hist(fake[~honest], bins=bins, alpha=0.6, label="bought followers or engagement", density=True)
ax.axvline(0.4, color="black", ls=":", lw=1)
ax.set(xlabel="true share of fake followers", ylabel="density")
ax.legend()
plt.show()
above = (fake > 0.4).groupby(honest.map({True: "honest", False: "bought"})).mean()
print("share of creators with more than 40% fake followers:")
print(above.round(3).to_string())

# %% [markdown]
# A rule such as "over 40% fake followers means bought" would accuse a large group of honest
# creators (the high-bot cluster) and miss most buyers of likes or pods, whose audiences look
# normal. creatorscore therefore estimates the fake share from an audience sample
# (`aud_fake_share`, trained in notebook 02) and lets the fraud model weigh it together with the
# growth curve and engagement, and its reasons name which of these drove the score.
#
# ## The topic map
#
# Brand fit starts from what creators post about. `creator_documents` joins each creator's bio
# and recent captions (hashtags count extra); `TopicModel` learns topics from these texts in any
# language (words for scripts with spaces, character pairs for Chinese and Japanese). Each topic
# is labelled by its three heaviest terms. The heat map shows how the topics line up with the
# creators' true niches in the synthetic world.

# %%
days = features.resolve_as_of(data)
documents = creator_documents(data.creators, data.posts, days)
topics = TopicModel(n_topics=12, random_state=0).fit(documents)
shares = pd.DataFrame(
    topics.transform(documents), index=documents.index, columns=topics.topic_labels_
)
niche = truth["niche"].reindex(shares.index)
topic_map = shares.groupby(niche).mean()
# Columns in the order of the niche each topic is strongest in: a diagonal is a clean mapping.
topic_map = topic_map.iloc[:, np.argsort(topic_map.to_numpy().argmax(axis=0), kind="stable")]

fig, ax = plt.subplots(figsize=(11, 5))
im = ax.imshow(topic_map.to_numpy(), cmap="viridis", aspect="auto")
ax.set_xticks(range(topic_map.shape[1]), topic_map.columns, rotation=45, ha="right", fontsize=8)
ax.set_yticks(range(topic_map.shape[0]), topic_map.index)
ax.set(xlabel="topic (three heaviest terms)", ylabel="true niche")
fig.colorbar(im, ax=ax, label="mean topic share")
fig.tight_layout()
plt.show()

# %% [markdown]
# Each niche maps onto one topic, with faint second ones: a quarter of each creator's posts in
# this world are about a second niche, as real creators drift off-topic. The synthetic world is
# cleaner than real text, where 12 topics will not line up with 12 tidy niches. Two things to
# keep in mind when you read topic shares:
#
# - **Topics are learned, not named.** The labels are the heaviest terms, and a topic can mix two
#   niches that share words (hashtags such as `#tech` and `#gaming` travel together), especially
#   with fewer topics than niches. Read the terms before trusting a name.
# - **Text in a minority language** is mapped by the same model: Spanish or German fitness
#   captions land on the fitness topic only if enough such captions were in the training texts.
#   A brand brief is mapped the same way (`TopicModel.transform_brief`); notebook 03 ranks
#   creators for a brief.
#
# ## What each signal means, and where it misleads
#
# - **Largest one- or two-day jump** (`growth_max_jump_*`): a near-vertical follower step,
#   typical of a bought package. *Misleads* after a viral post, a giveaway, a shout-out or
#   press: check engagement around the jump.
# - **Round jump size** (`growth_max_jump_round_dist`): the step matches a seller's package (1k,
#   2.5k, 5k, ...). *Misleads* for small jumps, which are round by chance, and for counts read
#   from a rounded display ("12.3k").
# - **Losses after a rise** (`growth_purge_share`): the platform removing fakes weeks after a
#   purchase. *Misleads* when giveaway followers leave after the draw; a platform-wide purge
#   also takes a little from everyone, so compare with peers on the same day.
# - **Near-constant daily gains** (`growth_drip_*`): followers bought as a slow drip. *Misleads*
#   for very regular organic growth and for sparse histories, which are interpolated linearly.
# - **Engagement rate against expected** (`eng_er_vs_expected`, `eng_er_percentile`): very low
#   means a ghost audience, above the 90th percentile bought engagement. *Misleads* across
#   niches and formats, with few posts, and after one viral post or giveaway.
# - **Even likes** (`eng_likes_cv` under 0.4): likes bought at a level. *Misleads* for a very
#   steady small community; a CV over 1.0 points to giveaways or ads, not fraud.
# - **Few comments per like** (healthy: about 2-5 per 100 likes): bought likes. *Misleads* on
#   formats where people like but rarely comment, such as short video.
# - **Fake followers in the audience** (`aud_fake_share`): bought followers. *Misleads* because
#   bots follow honest creators too; about 30% fake is an ordinary average.
# - **Following seesaw** (`growth_following_*`): follow/unfollow automation. *Misleads* when a
#   creator cleans up their following list once.
# - **Topic shares** (`topic_*`): what the creator posts about. *Misleads* when a topic mixes two
#   niches, when there is little text, or for languages rare in the training texts.
#
# No single signal is proof. The fraud model combines them, and each score comes with the
# reasons that drove it, so a reviewer can check the dates and posts behind a flag. Next:
# `02_retrain_on_your_labels` trains that model on your own labels.

# %%
shutil.rmtree(work)
