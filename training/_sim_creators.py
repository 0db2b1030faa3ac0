"""Creator-level draws of the synthetic world: size, platform, niche, language, fraud kind.

Private to :mod:`training.simulate`, whose module docstring lists every number used here with
its source. Everything is one array per attribute, indexed by creator position.
"""

from __future__ import annotations

import numpy as np

from training._sim_text import LANGUAGES, NICHES

PLATFORMS = np.array(["instagram", "tiktok", "youtube"], dtype=object)
PLATFORM_P = (0.6, 0.25, 0.15)

# Other languages among the ~10% non-English creators, and countries per language.
OTHER_LANG_P = {"es": 0.3, "de": 0.2, "pt": 0.2, "ja": 0.15, "zh": 0.15}
COUNTRIES = {
    "en": (("US", "GB", "CA", "AU", "IN"), (0.5, 0.2, 0.1, 0.1, 0.1)),
    "es": (("ES", "MX", "AR"), (0.5, 0.3, 0.2)),
    "de": (("DE", "AT", "CH"), (0.7, 0.15, 0.15)),
    "pt": (("BR", "PT"), (0.8, 0.2)),
    "ja": (("JP",), (1.0,)),
    "zh": (("CN", "TW", "SG"), (0.4, 0.4, 0.2)),
}

# Fraud kinds among fraudulent creators (combinations joined with "+").
FRAUD_KINDS = (
    ("burst", 0.30),
    ("drip", 0.14),
    ("likes", 0.14),
    ("pod", 0.12),
    ("f4f", 0.12),
    ("burst+likes", 0.08),
    ("drip+likes", 0.04),
    ("burst+pod", 0.06),
)

# Engagement rate (likes + comments) / followers by log10(followers), per platform.
ER_LOG10F = {
    "instagram": ((3.0, 4.0, 5.0, 5.7, 6.0, 6.7), (4.2, 2.4, 1.3, 0.75, 0.5, 0.36)),
    "tiktok": ((3.0, 4.0, 5.0, 6.0, 6.7), (2.55, 1.87, 1.34, 0.96, 0.8)),
    "youtube": ((3.0, 4.0, 5.0, 6.0, 6.7), (1.03, 0.75, 0.57, 0.42, 0.35)),
}
# Likes per view by log10(followers), for video posts.
PER_VIEW_LOG10F = {
    "instagram": ((3.0, 4.0, 5.0, 6.0, 6.7), (6.0, 4.5, 3.0, 2.0, 1.5)),
    "tiktok": ((3.0, 4.0, 5.0, 6.0, 6.7), (9.0, 6.0, 3.5, 1.8, 1.3)),
    "youtube": ((3.0, 4.0, 5.0, 6.0, 6.7), (5.4, 4.5, 3.5, 2.5, 2.0)),
}
# Engagement by niche relative to the average (Statista 2023: travel 2.4%, beauty 1.95%,
# sports 1.6%, fashion 1.53%, education 1.21% against about 1.7% overall).
NICHE_ER = {"travel": 1.35, "beauty": 1.12, "fitness": 0.95, "fashion": 0.9, "tech": 0.75}


def curve(log10f: np.ndarray, platform: np.ndarray, table: dict) -> np.ndarray:
    """Interpolate a per-platform curve (in percent) at log10(followers); returns a fraction."""
    out = np.empty(len(log10f))
    for name, (xs, ys) in table.items():
        rows = platform == name
        out[rows] = np.interp(log10f[rows], xs, ys) / 100.0
    return out


def draw_creators(rng: np.random.Generator, cfg) -> dict[str, np.ndarray]:
    """Draw every creator-level attribute; returns a dict of equal-length arrays."""
    n = cfg.n_creators
    c: dict[str, np.ndarray] = {}
    c["creator_id"] = ("c" + np.char.zfill(np.arange(1, n + 1).astype(str), 6)).astype(object)
    # Truncated Pareto on [min, max] followers: inverse CDF of P(F > x) ~ x^-alpha.
    lo, hi, a = cfg.min_followers, cfg.max_followers, cfg.size_alpha
    u = rng.random(n)
    c["size"] = lo * (1.0 - u * (1.0 - (lo / hi) ** a)) ** (-1.0 / a)
    c["platform"] = PLATFORMS[rng.choice(3, n, p=PLATFORM_P)]
    c["niche"] = rng.integers(0, len(NICHES), n)
    # Secondary niche: a quarter of posts are about something else.
    c["niche2"] = (c["niche"] + rng.integers(1, len(NICHES), n)) % len(NICHES)
    other = rng.random(n) < cfg.other_language_share
    codes = list(OTHER_LANG_P)
    lang = np.zeros(n, dtype=np.int64)
    pick = rng.choice(len(codes), n, p=list(OTHER_LANG_P.values()))
    lang[other] = np.array([LANGUAGES.index(k) for k in codes])[pick[other]]
    c["lang"] = lang
    country = np.empty(n, dtype=object)
    u = rng.random(n)
    for li, code in enumerate(LANGUAGES):
        rows = lang == li
        names, p = COUNTRIES[code]
        country[rows] = np.asarray(names, dtype=object)[
            np.searchsorted(np.cumsum(p), u[rows] * 0.999999)
        ]
    c["country"] = country

    fraud = rng.random(n) < cfg.fraud_share
    kinds = np.array([k for k, _ in FRAUD_KINDS], dtype=object)
    p = np.array([w for _, w in FRAUD_KINDS])
    kind = np.full(n, "none", dtype=object)
    kind[fraud] = kinds[rng.choice(len(kinds), fraud.sum(), p=p / p.sum())]
    c["fraud_kind"] = kind
    for part in ("burst", "drip", "likes", "pod", "f4f"):
        c[f"has_{part}"] = np.isin(kind, [k for k in kinds if part in k.split("+")])

    # Organic share of fake accounts (bots follow everyone), bimodal, unrelated to size.
    high = rng.random(n) < cfg.bot_cluster_share
    c["phi"] = np.where(high, rng.beta(8.0, 5.0, n), rng.beta(2.0, 15.0, n))

    # Engagement: creator-level spread around the curve, niche effect, post-to-post spread.
    niche_f = np.array([NICHE_ER.get(nm, 1.0) for nm in NICHES])[c["niche"]]
    c["er_mult"] = np.exp(rng.normal(0.0, 0.3, n)) * niche_f
    c["like_sigma"] = rng.uniform(0.42, 0.75, n)
    c["comment_rate"] = np.clip(np.exp(rng.normal(np.log(0.032), 0.2, n)), 0.021, 0.048)
    c["spam_share"] = np.clip(0.03 + 0.25 * c["phi"] + rng.normal(0, 0.02, n), 0.0, 0.5)

    # Organic growth per month: 6-8% for small accounts, 2-5% for established ones.
    log10f = np.log10(c["size"])
    g_mean = np.clip(0.07 - 0.012 * (log10f - 3.0), 0.025, 0.07)
    c["growth_month"] = np.clip(rng.normal(g_mean, 0.012), -0.01, 0.12)
    c["viral"] = rng.random(n) < np.where(fraud, cfg.viral_share * 0.6, cfg.viral_share)
    c["viral"] &= ~c["has_likes"]  # bought likes stay level; no viral post on top of them

    # Profile attributes.
    c["verified"] = rng.random(n) < np.interp(
        log10f, [3, 4, 5, 5.7, 6, 6.7], [0.01, 0.03, 0.15, 0.4, 0.7, 0.9]
    )
    c["age_days"] = rng.integers(cfg.history_days + 30, 12 * 365, n)
    c["following0"] = np.clip(np.exp(rng.normal(np.log(400), 0.9, n)), 10, 7500)
    c["post_rate"] = rng.gamma(3.0, cfg.mean_posts / 3.0, n)
    c["display_round"] = rng.random(n) < 0.1
    return c
