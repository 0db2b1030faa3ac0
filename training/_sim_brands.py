"""Brands with natural-language briefs, and fit outcomes for sampled brand x creator pairs.

Private to :mod:`training.simulate` (see its docstring for the fit model and its weights).

Can a scorer learn the outcome? Everything it depends on must be readable from the contract
tables, or the target is noise to any model. Checked on a 20,000-creator world: ranking by the
noise-free outcome score gives NDCG@10 0.89 (the ceiling the N(0, 0.45) noise leaves).

- Brand niche: named in the brief with its hashtags ("We are looking for fitness creators
  (#fitness #gym #workout)", :data:`INTEREST`, :data:`LOOKING_TEMPLATE`). The product phrase
  alone let the brief's topic vector find the niche (nearest niche centroid) for about 60% of
  brands; the niche word added 73% (English 89%, but Spanish 14% and German 50%: the text
  model gives Spanish and German words topics of their own); the hashtags, which creators use
  in every language, 100%. Held-out NDCG@10 0.72 -> 0.78.
- Excluded topics: each phrase carries its niche's first hashtag ("cosmetic surgery promotion
  (#beauty)"); about a third of the bare phrases shared no word with creators' captions.
  ROC-AUC of ``fit_excluded_share`` for "creator's niche is excluded" 0.81 -> 0.96, NDCG@10
  0.78 -> 0.81.
- Related niches (``text.RELATED``, a partial fit of 0.55): named in a sentence of their own
  ("Our audience also loves outdoors and food (#outdoors #food)", :data:`RELATED_TEMPLATE`),
  which the scorer maps apart from the main interest (``models.fit.secondary_text``); mixed
  into the main topic vector the related words weighed as much as the brand's own niche and
  NDCG@10 fell (0.70 against 0.72). With the sentence, ``fit_related_share`` separates related
  creators with ROC-AUC 0.96, but held-out NDCG@10 stays within noise (0.809 -> 0.808): the
  ranker trains on only 40 brands (learning curve: 20 brands 0.76, 40 0.83, 80 0.84 on
  another world's brands).
- Creator niche and second niche, country, followers: in captions, ``creators``.
- Fraud and fake share: through the fraud model and the audience-sample estimate.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training import _sim_text as text
from training._sim_creators import COUNTRIES

# Size windows (min, max followers; 0 = open): micro-focused, nano+micro, mid+macro, big, any.
WINDOWS = ((5_000, 100_000), (1_000, 50_000), (50_000, 1_000_000), (500_000, 0), (0, 0))
WINDOW_P = (0.3, 0.2, 0.2, 0.1, 0.2)

# Each niche's everyday name per brief language (NICHES order), and the sentence in which a brief
# names the kind of creator it wants. Real briefs say "we are looking for fitness creators"; the
# product phrase alone ("protein snacks and resistance bands") shares few words with creators'
# captions, so without it the brand's niche was a fact of the simulator that a scorer could read
# for only about 60% of briefs (nearest niche centroid of the brief's topic vector).
INTEREST = {
    "en": "fitness|beauty|fashion|travel|food|gaming|tech|parenting|finance|music|pets|outdoors",
    "es": "fitness|belleza|moda|viajes|comida|videojuegos|tecnología|familia|finanzas|música|"
    "mascotas|naturaleza",
    "de": "Fitness|Beauty|Mode|Reisen|Essen|Gaming|Technik|Familie|Finanzen|Musik|Haustiere|Natur",
}
LOOKING_TEMPLATE = {
    "en": " We are looking for {topic} creators ({tags}).",
    "es": " Buscamos creadores de {topic} ({tags}).",
    "de": " Wir suchen Creators für {topic} ({tags}).",
}
# The sentence in which a brief names its secondary interests, the niches that are a partial fit
# (``text.RELATED``), each by its everyday name and first hashtag.
RELATED_TEMPLATE = {
    "en": " Our audience also loves {topics} ({tags}).",
    "es": " A nuestro público también le gusta {topics} ({tags}).",
    "de": " Unsere Zielgruppe mag auch {topics} ({tags}).",
}
AND_WORD = {"en": " and ", "es": " y ", "de": " und "}
# Hashtags of the niche a brief lists after its interest: the first ones of each niche's tag
# list, which creators use in every language.
N_BRIEF_TAGS = 3


def _tags(niche: str, k: int) -> str:
    """The first ``k`` hashtags of ``niche``, space-separated ("#fitness #gym")."""
    return " ".join(text._HASHTAGS[niche].split("|")[:k])


def brands(rng: np.random.Generator, n_brands: int) -> tuple[pd.DataFrame, dict]:
    """Brand table plus the brand-level facts the fit model needs."""
    b_niche = rng.integers(0, len(text.NICHES), n_brands)
    b_lang = rng.choice(["en", "es", "de"], n_brands, p=[0.8, 0.1, 0.1])
    rows = []
    facts = {"niche": b_niche, "targets": [], "excluded": [], "window": []}
    # One small loop per brand is fine: brands are few (one per 50 creators).
    for i in range(n_brands):
        niche = text.NICHES[b_niche[i]]
        lang = str(b_lang[i])
        names, _ = COUNTRIES[lang]
        if lang == "en" and rng.random() < 0.2:
            targets: tuple[str, ...] = ()
        else:
            k = rng.integers(1, len(names) + 1)
            targets = tuple(sorted(rng.choice(names, k, replace=False)))
        lo, hi = WINDOWS[rng.choice(len(WINDOWS), p=WINDOW_P)]
        blocked = [nm for nm in text.NICHES if nm != niche and nm not in text.RELATED[niche]]
        n_ex = rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2])
        excluded = tuple(rng.choice(blocked, n_ex, replace=False))
        name = (rng.choice(text.BRAND_NAME_A) + rng.choice(text.BRAND_NAME_B)).title()
        ex_text = text.OR_WORD[lang].join(
            f"{text.EXCLUDED_PHRASE[lang].split('|')[text.NICHES.index(e)]} ({_tags(e, 1)})"
            for e in excluded
        )
        brief = text.BRIEF_TEMPLATE[lang].format(
            name=name,
            product=text.BRAND_PRODUCT[lang].split("|")[b_niche[i]],
            audience=rng.choice(text.BRAND_AUDIENCE[lang].split("|")),
            values=rng.choice(text.BRAND_VALUES[lang].split("|")),
        )
        # No random draw here, so every other column and the random stream stay as they were.
        brief += LOOKING_TEMPLATE[lang].format(
            topic=INTEREST[lang].split("|")[b_niche[i]],
            tags=_tags(niche, N_BRIEF_TAGS),
        )
        rel = text.RELATED[niche]
        brief += RELATED_TEMPLATE[lang].format(
            topics=AND_WORD[lang].join(
                INTEREST[lang].split("|")[text.NICHES.index(r)] for r in rel
            ),
            tags=" ".join(_tags(r, 1) for r in rel),
        )
        if excluded:
            brief += text.EXCLUDED_TEMPLATE[lang].format(topics=ex_text)
        rows.append(
            {
                "brand_id": f"b{i + 1:04d}",
                "name": name,
                "brief": brief,
                "target_countries": ";".join(targets) if targets else None,
                "min_followers": lo if lo else None,
                "max_followers": hi if hi else None,
                "excluded_topics": ex_text or None,
            }
        )
        facts["targets"].append(targets)
        facts["excluded"].append([text.NICHES.index(e) for e in excluded])
        facts["window"].append((lo, hi))
    frame = pd.DataFrame(rows)
    for col in ("min_followers", "max_followers"):
        frame[col] = frame[col].astype("Int64")
    return frame, facts


def fit_labels(
    rng,
    c: dict,
    followers: np.ndarray,
    fake_share: np.ndarray,
    brand_ids,
    facts: dict,
    n_min: int,
    n_max: int,
) -> pd.DataFrame:
    """Outcome 0-3 for 60-100 creators per brand, half drawn from matching niches."""
    n = len(followers)
    related = np.zeros((len(text.NICHES), len(text.NICHES)), dtype=bool)
    for i, nm in enumerate(text.NICHES):
        related[i, [text.NICHES.index(r) for r in text.RELATED[nm]]] = True
    eng = np.clip(np.log(c["er_mult"]), -1.0, 1.0)
    fraud = c["fraud_kind"] != "none"
    out = []
    for b, bid in enumerate(brand_ids):
        niche = facts["niche"][b]
        m = min(int(rng.integers(n_min, n_max + 1)), n)
        pool = np.flatnonzero((c["niche"] == niche) | related[niche, c["niche"]])
        n_match = min(m // 2, len(pool))
        picked = rng.choice(pool, n_match, replace=False) if n_match else np.array([], int)
        rest = np.setdiff1d(np.arange(n), picked)
        picked = np.concatenate([picked, rng.choice(rest, m - n_match, replace=False)])
        cn, cn2 = c["niche"][picked], c["niche2"][picked]
        topic = np.where(cn == niche, 1.0, np.where(related[niche, cn] | (cn2 == niche), 0.55, 0.0))
        targets = facts["targets"][b]
        country = np.isin(c["country"][picked], targets) if targets else np.ones(m, bool)
        lo, hi = facts["window"][b]
        f = followers[picked].astype(float)
        below = np.log10(np.maximum(lo, 1) / np.maximum(f, 1)) if lo else np.zeros(m)
        above = np.log10(f / hi) if hi else np.zeros(m)
        miss = np.clip(np.maximum(below, above), 0.0, None)
        excluded = np.isin(cn, facts["excluded"][b]) | np.isin(cn2, facts["excluded"][b])
        score = (
            2.2 * topic
            + 0.7 * country
            + 0.6 * (miss == 0)
            - 0.8 * miss
            - 2.5 * excluded
            - 1.4 * fraud[picked]
            - 1.0 * np.clip((fake_share[picked] - 0.3) / 0.3, 0.0, 1.0)
            + 0.4 * eng[picked]
            + rng.normal(0.0, 0.45, m)
        )
        outcome = np.digitize(score, [1.0, 2.0, 2.9]).astype(np.int64)
        out.append(
            pd.DataFrame(
                {"brand_id": bid, "creator_id": c["creator_id"][picked], "outcome": outcome}
            )
        )
    return pd.concat(out, ignore_index=True)
