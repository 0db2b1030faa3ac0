"""Brand fit: pair features for (brand, creator) and a LightGBM LambdaRank model over them.

Pair features (:func:`pair_features`, one row per pair, all computed as brand x creator matrix
operations, never a loop over pairs):

==============================  ==================================================================
``fit_topic_cosine``            cosine between the brief's topic vector and the creator's
``fit_top3_overlap``            topics shared by the brief's and the creator's top 3 (0-3)
``fit_excluded_hits``           creator top-3 topics that are excluded topics (0-3; NaN: none given)
``fit_excluded_share``          share of the creator's topic weight on excluded topics (NaN: none)
``fit_country_match``           1 if the creator's country is a target country (NaN: either unknown)
``fit_in_size_window``          1 if followers in [min_followers, max_followers] (NaN: no window)
``fit_size_log_distance``       log10 distance outside the window: < 0 small, > 0 big, 0 inside
``fit_eng_quality``             the creator's ``eng_er_vs_expected``
``fit_fraud_risk``              the creator's calibrated fraud risk
``fit_brief_topic_share``       the creator's topic share on the brief's strongest topic
``fit_creator_topic_in_brief``  the brief's topic share on the creator's strongest topic
``fit_topic_dot``               dot product of the two topic-share vectors (sums to 1 each)
``fit_aud_fake_share``          the creator's estimated fake-follower share (``aud_fake_share``)
``fit_aud_mass_share``          the creator's mass-follower share (``aud_mass_follower_share``)
``fit_related_share``           the creator's topic share on the brief's secondary interests
                                ("our audience also loves ..."; NaN: the brief names none)
``fit_near_topic_share``        the creator's topic shares weighted by each topic's closeness to
                                the brief (:func:`spread_topics`; NaN: no spread vector given)
==============================  ==================================================================

Briefs are mapped to topics without their negated sentences (:func:`affirmative_text`): "we do
not work with creators who post about travel" would otherwise put weight on travel. Sentences
that name a secondary interest ("our audience also loves food") are mapped on their own
(:func:`secondary_text`, ``related_topic_*`` columns of the brief frame): mixed into the main
vector they weighed as much as the brand's own niche, which lowered held-out NDCG@10. Cosine
mixes how on-niche the creator is with how central the creator's niche is to the brand; the two
one-sided shares keep them apart, and audience quality enters because a brand pays for the real
followers it reaches.

A niche can own two topics of the text model ("livemusic / guitar / producer" and "guitar /
singer / newmusic"), and a brief may land on the one its creators rarely lead with: on a
10,000-creator world, music and parenting briefs (a fifth of the brands) had a different main
topic from nearly all creators of their niche, so every share and overlap feature above missed
them. :func:`spread_topics` spreads the brief's vector over the topics that share its words (the
text model's topic-term cosine), and ``fit_near_topic_share`` reads the creator against that:
label-free, it raised NDCG@10 in grouped 5-fold CV over the training world's 100 brands from
0.818 to 0.834 (5 fold seeds), and on a separate validation world from 0.841 to 0.849. With
200 brands (the simulator's one per 50 creators) CV went from 0.837 to 0.846 and held-out
NDCG@10 on a 20,000-creator world is 0.854. The brand's and the creator's dominant topic ids
(or their pair) as categorical features learn the same mismatch from labels; on top of this
feature they added nothing in CV (0.846 either way), so they are not used.

The contract's audience sample carries no follower country, so "country match" uses the
creator's own ``country``.

:class:`FitModel` ranks creators within each brand: a pointwise regression of the graded
outcome (:data:`FIT_OBJECTIVE`), with folds, early stopping (NDCG@10) and the metrics grouped by
brand. With the few brands a training world holds it ranks better than ``objective="lambdarank"``
(still available through ``params``): grouped 5-fold CV NDCG@10 over a 10,000-creator world's
100 brands 0.834 against 0.822.

``fit_score`` is an isotonic map, fitted on out-of-fold pairs, from the ranking score to
P(outcome >= 2) ("good" or "excellent"), so it is in [0, 1] and comparable across brands;
``fit_rank`` is 1 for the best creator of each brand, ties broken by ``creator_id``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Self

import numpy as np
import pandas as pd

from models import metrics
from models._binary import CalibratedBooster
from models._boosting import cross_fit, feature_matrix, make_params, train_final
from models.calibration import IsotonicCalibrator

__all__ = [
    "PAIR_FEATURES",
    "pair_features",
    "affirmative_text",
    "secondary_text",
    "spread_topics",
    "brand_topics",
    "rank_within",
    "FitModel",
]

PAIR_FEATURES: tuple[str, ...] = (
    "fit_topic_cosine",
    "fit_top3_overlap",
    "fit_excluded_hits",
    "fit_excluded_share",
    "fit_country_match",
    "fit_in_size_window",
    "fit_size_log_distance",
    "fit_eng_quality",
    "fit_fraud_risk",
    "fit_brief_topic_share",
    "fit_creator_topic_in_brief",
    "fit_topic_dot",
    "fit_aud_fake_share",
    "fit_aud_mass_share",
    "fit_related_share",
    "fit_near_topic_share",
)

# An excluded-topics text counts as naming a topic when that topic carries at least this share
# of the text's strongest topic weight: short phrases spread a little weight over unrelated
# topics, which must not count as exclusions.
_EXCLUDED_RELATIVE_WEIGHT = 0.5
#: LightGBM objective of :class:`FitModel`. Held-out NDCG@10 on a 20,000-creator world, ranker
#: trained on the 40 brands of a 10,000-creator one: 0.818 against 0.811 for "lambdarank"
#: (mean of 7 seeds; regression ahead on 5), ROC-AUC of ``fit_score`` 0.933 against 0.915.
FIT_OBJECTIVE = "regression"
_TOP = 3
# Topic share columns only (topic_00 ...), not topic_dominant / topic_concentration.
_TOPIC_COLUMN = re.compile(r"topic_\d+")
# Columns of the brief frame holding the topic vector of its secondary-interest sentences.
_RELATED_PREFIX = "related_"
# Columns of the brief frame holding its vector spread over similar topics (spread_topics).
_SPREAD_PREFIX = "spread_"
# Cues of a secondary interest ("our audience also loves food"), English, Spanish, German,
# Portuguese and French: a partial fit, kept out of the brand's main topic vector.
_SECONDARY = re.compile(
    r"\b(?:also|as well|too|también|además|auch|ebenfalls|também|aussi)\b", re.IGNORECASE
)
# Sentence ends (also ";" and line breaks, which briefs use as list separators).
_SENTENCE = re.compile(r"(?<=[.!?;。！？])\s*|\n+")
# Negation and exclusion cues, English, Spanish, German, Portuguese and French: a sentence with
# one of them says what the brand does not want. Whole words only ("no" but not "nova").
_NEGATION = re.compile(
    r"\b(?:no|not|never|don't|dont|won't|avoid\w*|exclud\w*|without|nor|except"
    r"|nunca|sin|evit\w*|excepto|tampoco"
    r"|kein\w*|nicht|nie|ohne|au(?:ss|ß)er|ausgeschlossen|verzicht\w*"
    r"|não|nao|sem|jamais"
    r"|ne|pas|sans|aucun\w*)\b",
    re.IGNORECASE,
)


def _topic_matrix(frame: pd.DataFrame, ids: pd.Index, cols: list[str]) -> np.ndarray:
    return frame.reindex(ids)[cols].to_numpy(dtype="float64", na_value=np.nan)


def _top_hot(m: np.ndarray, k: int = _TOP) -> np.ndarray:
    """Multi-hot of each row's k largest positive weights (ties: lower topic index first)."""
    filled = np.where(np.isnan(m), -np.inf, m)
    top = np.argsort(-filled, axis=1, kind="stable")[:, :k]
    hot = np.zeros(m.shape, dtype="float64")
    np.put_along_axis(hot, top, 1.0, axis=1)
    return hot * (filled > 0)


def _col(frame: pd.DataFrame, name: str, ids: pd.Index) -> np.ndarray:
    if name not in frame.columns:
        return np.full(len(ids), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").reindex(ids).to_numpy("float64", np.nan)


def pair_features(
    brands: pd.DataFrame,
    creators: pd.DataFrame,
    creator_features: pd.DataFrame,
    brief_topics: pd.DataFrame,
    excluded_topics: pd.DataFrame | None = None,
    fraud_risk: pd.Series | None = None,
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Features of each (brand, creator) pair for the fit model.

    Parameters
    ----------
    brands : contract ``brands`` table (``brand_id``; optional ``target_countries``,
        ``min_followers``, ``max_followers``).
    creators : contract ``creators`` table (``creator_id``, ``followers``; optional ``country``).
    creator_features : feature frame indexed by creator_id with ``topic_*`` columns and
        ``eng_er_vs_expected`` (missing columns give NaN features).
    brief_topics : topic vector of each brand's brief, indexed by brand_id, same ``topic_*``
        columns as ``creator_features``; optional ``related_topic_*`` columns hold the vector of
        its secondary interests (:func:`brand_topics`; absent or all-NaN: none named) and
        optional ``spread_topic_*`` columns its :func:`spread_topics` vector (absent: NaN
        ``fit_near_topic_share``).
    excluded_topics : topic vector of each brand's ``excluded_topics`` text, indexed by brand_id;
        brands absent or all-NaN have no exclusions (NaN exclusion features).
    fraud_risk : calibrated fraud risk indexed by creator_id.
    pairs : ``brand_id``, ``creator_id`` pairs to build; default every brand x every creator
        (brands in table order, creators in table order within each brand).

    Returns
    -------
    DataFrame with ``brand_id``, ``creator_id`` and the :data:`PAIR_FEATURES` columns (float64),
    one row per pair, in the order of ``pairs``.
    """
    b_ids = pd.Index(brands["brand_id"].astype(str), name="brand_id")
    c_ids = pd.Index(creators["creator_id"].astype(str), name="creator_id")
    if pairs is None:
        bi = np.repeat(np.arange(len(b_ids)), len(c_ids))
        ci = np.tile(np.arange(len(c_ids)), len(b_ids))
    else:
        bi = b_ids.get_indexer(pairs["brand_id"].astype(str))
        ci = c_ids.get_indexer(pairs["creator_id"].astype(str))
        unknown = [*pairs["brand_id"][bi < 0].unique(), *pairs["creator_id"][ci < 0].unique()]
        if unknown:
            raise KeyError(f"pairs name unknown brand or creator ids: {unknown[:10]}")

    cols = sorted(c for c in brief_topics.columns if _TOPIC_COLUMN.fullmatch(str(c)))
    missing = [c for c in cols if c not in creator_features.columns]
    if not cols or missing:
        raise KeyError(f"topic columns missing from creator_features: {missing or 'topic_*'}")
    feats = creator_features.copy()
    feats.index = feats.index.astype(str)
    brief = brief_topics.copy()
    brief.index = brief.index.astype(str)
    B = _topic_matrix(brief, b_ids, cols)
    C = _topic_matrix(feats, c_ids, cols)

    with np.errstate(invalid="ignore", divide="ignore"):
        bn = B / np.linalg.norm(B, axis=1, keepdims=True)
        cn = C / np.linalg.norm(C, axis=1, keepdims=True)
    cos = (bn @ cn.T)[bi, ci]
    with np.errstate(invalid="ignore", divide="ignore"):
        bs = B / np.nansum(np.clip(B, 0, None), axis=1, keepdims=True)
        cs = C / np.nansum(np.clip(C, 0, None), axis=1, keepdims=True)
    dot = (bs @ cs.T)[bi, ci]
    # The creator's share on the brief's main topic, and the brief's weight on the creator's
    # main topic: cosine mixes both directions, these keep "on-niche" and "brand's niche" apart.
    b_top1, c_top1 = _top_hot(B, 1), _top_hot(C, 1)
    brief_top_share = (b_top1 @ np.nan_to_num(cs).T)[bi, ci]
    creator_in_brief = (np.nan_to_num(bs) @ c_top1.T)[bi, ci]
    b_known = ~np.isnan(B).any(axis=1)
    both = (~np.isnan(C).any(axis=1))[ci] & b_known[bi]
    brief_top_share = np.where(both, brief_top_share, np.nan)
    creator_in_brief = np.where(both, creator_in_brief, np.nan)
    c_hot = _top_hot(C)
    c_known = ~np.isnan(C).any(axis=1)
    overlap = np.where(
        c_known[ci] & ~np.isnan(B).any(axis=1)[bi], (_top_hot(B) @ c_hot.T)[bi, ci], np.nan
    )

    if excluded_topics is not None:
        exc = excluded_topics.copy()
        exc.index = exc.index.astype(str)
        E = _topic_matrix(exc, b_ids, cols)
    else:
        E = np.full(B.shape, np.nan)
    has_exc = ~np.isnan(E).all(axis=1) & (np.nan_to_num(E) > 0).any(axis=1)
    E0 = np.nan_to_num(E)
    e_set = _top_hot(E0) * (E0 >= _EXCLUDED_RELATIVE_WEIGHT * E0.max(axis=1, keepdims=True))
    with np.errstate(invalid="ignore", divide="ignore"):
        c_share = C / np.nansum(np.clip(C, 0, None), axis=1, keepdims=True)
    ok = has_exc[bi] & c_known[ci]
    hits = np.where(ok, (e_set @ c_hot.T)[bi, ci], np.nan)
    exc_share = np.where(ok, (e_set @ np.nan_to_num(c_share).T)[bi, ci], np.nan)

    # Secondary interests: the creator's share on the topics the brief's "also" sentences name,
    # with the same relative-weight cut as exclusions.
    rel_cols = [_RELATED_PREFIX + c for c in cols]
    if all(c in brief.columns for c in rel_cols):
        R = np.nan_to_num(_topic_matrix(brief, b_ids, rel_cols))
    else:
        R = np.zeros(B.shape)
    has_rel = (R > 0).any(axis=1)
    r_set = _top_hot(R) * (R >= _EXCLUDED_RELATIVE_WEIGHT * R.max(axis=1, keepdims=True))
    rel_share = np.where(
        has_rel[bi] & c_known[ci], (r_set @ np.nan_to_num(c_share).T)[bi, ci], np.nan
    )

    # Closeness: the creator's shares weighted by the brief's spread vector (max 1 per brand).
    spread_cols = [_SPREAD_PREFIX + c for c in cols]
    if all(c in brief.columns for c in spread_cols):
        W = _topic_matrix(brief, b_ids, spread_cols)
        w_known = ~np.isnan(W).any(axis=1)
        near = np.where(
            w_known[bi] & c_known[ci], (np.nan_to_num(W) @ np.nan_to_num(c_share).T)[bi, ci], np.nan
        )
    else:
        near = np.full(len(ci), np.nan)

    # Country: brand x country incidence, looked up by each creator's country code.
    targets = (
        brands["target_countries"].astype(object).where(brands["target_countries"].notna(), "")
        if "target_countries" in brands.columns
        else pd.Series("", index=brands.index)
    )
    target_lists = [[t.strip().upper() for t in str(s).split(";") if t.strip()] for s in targets]
    country = (
        creators["country"].astype(object).where(creators["country"].notna(), None)
        if "country" in creators.columns
        else pd.Series(None, index=creators.index, dtype=object)
    )
    c_country = pd.Series([str(x).strip().upper() if x else None for x in country], dtype=object)
    vocab = pd.Index(sorted({t for ts in target_lists for t in ts}))
    inc = np.zeros((len(b_ids), len(vocab) + 1))  # last column: country not targeted by anyone
    for row, ts in enumerate(target_lists):  # one pass over brands, not pairs
        inc[row, vocab.get_indexer(ts)] = 1.0
    code = vocab.get_indexer(c_country)
    code = np.where(code < 0, len(vocab), code)
    brand_has = np.array([bool(ts) for ts in target_lists])
    country_match = np.where(
        brand_has[bi] & c_country.notna().to_numpy()[ci], inc[bi, code[ci]], np.nan
    )

    followers = _col(creators.set_index(c_ids), "followers", c_ids)[ci]
    lo = _col(brands.set_index(b_ids), "min_followers", b_ids)[bi]
    hi = _col(brands.set_index(b_ids), "max_followers", b_ids)[bi]
    has_window = ~(np.isnan(lo) & np.isnan(hi))
    lo0, hi0 = np.where(np.isnan(lo), 0.0, lo), np.where(np.isnan(hi), np.inf, hi)
    f = np.where(np.isnan(followers), np.nan, np.maximum(followers, 1.0))
    inside = np.where(has_window & ~np.isnan(f), ((f >= lo0) & (f <= hi0)).astype(float), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        below = np.log10(np.maximum(lo0, 1.0) / f)
        above = np.log10(f / hi0)
    dist = np.where(f < lo0, -below, np.where(f > hi0, above, 0.0))
    dist = np.where(np.isnan(inside), np.nan, dist)

    fraud = (
        fraud_risk.set_axis(fraud_risk.index.astype(str)).reindex(c_ids).to_numpy("float64")[ci]
        if fraud_risk is not None
        else np.full(len(ci), np.nan)
    )
    out = pd.DataFrame(
        {
            "brand_id": b_ids.to_numpy(dtype=object)[bi],
            "creator_id": c_ids.to_numpy(dtype=object)[ci],
            "fit_topic_cosine": cos,
            "fit_top3_overlap": overlap,
            "fit_excluded_hits": hits,
            "fit_excluded_share": exc_share,
            "fit_country_match": country_match,
            "fit_in_size_window": inside,
            "fit_size_log_distance": dist,
            "fit_eng_quality": _col(feats, "eng_er_vs_expected", c_ids)[ci],
            "fit_fraud_risk": fraud,
            "fit_brief_topic_share": brief_top_share,
            "fit_creator_topic_in_brief": creator_in_brief,
            "fit_topic_dot": dot,
            "fit_aud_fake_share": _col(feats, "aud_fake_share", c_ids)[ci],
            "fit_aud_mass_share": _col(feats, "aud_mass_follower_share", c_ids)[ci],
            "fit_related_share": rel_share,
            "fit_near_topic_share": near,
        }
    )
    if pairs is not None:
        out.index = pairs.index
    return out


def affirmative_text(brief: str | None, excluded: str | None = None) -> str | None:
    """The brief without the sentences that say what the brand does *not* want.

    A brief such as "We sell hiking boots. No alcohol, no gambling." would otherwise map onto the
    alcohol and gambling topics it rules out. A sentence is dropped when it carries a negation
    or exclusion cue in one of the supported languages (:data:`_NEGATION`) or contains the
    brand's ``excluded_topics`` text; when every sentence would go, the brief is kept whole.

    Examples
    --------
    >>> affirmative_text("We sell tents. We do not work with creators who post about travel.")
    'We sell tents.'
    >>> affirmative_text("Tents for families; no alcohol, no gambling")
    'Tents for families;'
    """
    if not isinstance(brief, str):
        return brief
    needle = excluded.strip().casefold() if isinstance(excluded, str) else ""
    parts = [p.strip() for p in _SENTENCE.split(brief) if p.strip()]
    kept = [p for p in parts if not _NEGATION.search(p) and not (needle and needle in p.casefold())]
    return " ".join(kept) if kept else brief


def secondary_text(brief: str | None) -> tuple[str | None, str | None]:
    """Split a brief into its main sentences and those naming a *secondary* interest.

    "We sell tents. Our audience also loves food." is a camping brand for which food creators
    are a partial fit: the "also" sentence (a cue of :data:`_SECONDARY`) goes to the second
    text. When every sentence carries a cue the brief stays main and the second text is None.

    Examples
    --------
    >>> secondary_text("We sell tents. Our audience also loves food.")
    ('We sell tents.', 'Our audience also loves food.')
    >>> secondary_text("We sell tents.")
    ('We sell tents.', None)
    """
    if not isinstance(brief, str):
        return brief, None
    parts = [p.strip() for p in _SENTENCE.split(brief) if p.strip()]
    extra = [p for p in parts if _SECONDARY.search(p)]
    main = [p for p in parts if not _SECONDARY.search(p)]
    if not extra or not main:
        return brief, None
    return " ".join(main), " ".join(extra)


def spread_topics(topics: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Topic vectors spread over the topics that share their words, scaled to a maximum of 1.

    Row ``b`` becomes ``b @ S`` with ``S[i, j]`` the cosine between the term weights of topics
    ``i`` and ``j`` (``components``, topics x terms, e.g. ``TopicModel.components_``), divided
    by its largest entry. A topic the vector does not name gets weight in proportion to how
    many of its words the named topics share; rows with NaN (no known term) stay NaN.

    Examples
    --------
    >>> comp = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    >>> spread_topics(np.array([[1.0, 0.0, 0.0]]), comp).round(2).tolist()
    [[1.0, 0.5, 0.0]]
    """
    comp = np.asarray(components, dtype="float64")
    norm = np.linalg.norm(comp, axis=1, keepdims=True)
    unit = np.divide(comp, norm, out=np.zeros_like(comp), where=norm > 0)
    out = np.asarray(topics, dtype="float64") @ (unit @ unit.T)
    with np.errstate(invalid="ignore", divide="ignore"):
        return out / out.max(axis=1, keepdims=True)


def brand_topics(
    text_model, brands: pd.DataFrame, *, drop_negated: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Topic vectors of each brand's ``brief`` and ``excluded_topics`` text, indexed by brand_id.

    ``text_model`` is the fitted ``features.topics.TopicModel`` (its ``transform_brief``); a brand
    without excluded topics (or whose text has no known term) gets an all-NaN row: no exclusions.
    With ``drop_negated`` (default) the brief is mapped without its negated sentences
    (:func:`affirmative_text`), so "we do not work with travel creators" does not make travel a
    wanted topic. Sentences naming a secondary interest (:func:`secondary_text`) are mapped on
    their own. Columns of the brief frame are ``topic_00`` ... as in the creator feature frame,
    then ``related_topic_00`` ... (all-NaN: no secondary interest), then ``spread_topic_00`` ...
    (:func:`spread_topics` of the main vector over ``text_model.components_``); the excluded
    frame has the ``topic_*`` columns only.
    """
    ids = pd.Index(brands["brand_id"].astype(str), name="brand_id")
    ex_texts = (
        [t if isinstance(t, str) and t.strip() else None for t in brands["excluded_topics"]]
        if "excluded_topics" in brands.columns
        else [None] * len(brands)
    )
    briefs = list(brands["brief"])
    if drop_negated:  # one regex pass per brand: brands are few
        briefs = [affirmative_text(b, e) for b, e in zip(briefs, ex_texts, strict=True)]
    main, extra = zip(*(secondary_text(b) for b in briefs), strict=True) if briefs else ((), ())
    brief = np.asarray(text_model.transform_brief(list(main)), dtype="float64")
    related = np.asarray(text_model.transform_brief(list(extra)), dtype="float64")
    cols = [f"topic_{k:02d}" for k in range(brief.shape[1])]
    if "excluded_topics" in brands.columns:
        excluded = np.asarray(text_model.transform_brief(ex_texts), dtype="float64")
    else:
        excluded = np.full(brief.shape, np.nan)
    spread = spread_topics(brief, text_model.components_)
    return (
        pd.DataFrame(
            np.hstack([brief, related.reshape(brief.shape), spread]),
            index=ids,
            columns=[
                *cols,
                *(_RELATED_PREFIX + c for c in cols),
                *(_SPREAD_PREFIX + c for c in cols),
            ],
        ),
        pd.DataFrame(excluded, index=ids, columns=cols),
    )


def rank_within(groups, score, tiebreak) -> np.ndarray:
    """Rank 1..n of ``score`` (descending) inside each group; ties go to the smaller ``tiebreak``.

    Examples
    --------
    >>> rank_within(["a", "a", "b", "a"], [0.2, 0.9, 0.1, 0.2], ["z", "y", "x", "w"]).tolist()
    [3, 1, 1, 2]
    """
    g = pd.factorize(pd.Series(np.asarray(groups, dtype=object)))[0]
    t = pd.factorize(pd.Series(np.asarray(tiebreak, dtype=object)), sort=True)[0]
    s = np.asarray(score, dtype="float64")
    order = np.lexsort((t, -s, g))
    gs = g[order]
    start = np.r_[0, np.flatnonzero(np.diff(gs)) + 1]
    pos = np.arange(gs.size) - np.repeat(start, np.diff(np.r_[start, gs.size]))
    rank = np.empty(gs.size, dtype="int64")
    rank[order] = pos + 1
    return rank


class FitModel(CalibratedBooster):
    """Ranker of brand x creator fit, with a 0-1 ``fit_score`` and a per-brand rank."""

    kind = "fit"
    _ID_COLUMNS = ("brand_id", "creator_id")

    def __init__(self) -> None:
        super().__init__()
        self.good_outcome_: float = 2.0

    def fit(
        self,
        pairs: pd.DataFrame,
        outcome,
        *,
        feature_names: list[str] | None = None,
        params: Mapping[str, object] | None = None,
        seed: int = 0,
        n_folds: int = 5,
        good_outcome: int = 2,
        max_rounds: int = 500,
        early_stopping_rounds: int = 30,
    ) -> Self:
        """Train the ranker on labelled pairs (``fit_labels.outcome``, 0-3).

        Parameters
        ----------
        pairs : ``brand_id``, ``creator_id`` and feature columns (e.g. :func:`pair_features`).
        outcome : graded label per pair, 0 (poor) ... 3 (excellent).
        feature_names : columns to learn from; default every column but the two ids.
        params : LightGBM overrides; seed, n_folds : as for the fraud model, folds by brand.
        good_outcome : ``fit_score`` estimates P(outcome >= good_outcome).
        """
        names = feature_names or [c for c in pairs.columns if c not in self._ID_COLUMNS]
        Xm = feature_matrix(pairs, names)
        y = np.asarray(outcome, dtype="float64")
        if y.shape != (len(pairs),) or np.isnan(y).any() or (y < 0).any() or (y % 1 != 0).any():
            raise ValueError("outcome must be one whole number >= 0 per pair, none missing")
        g = pd.factorize(pairs["brand_id"].astype(str))[0]
        prm = make_params(
            {"objective": FIT_OBJECTIVE, "metric": "ndcg", "eval_at": [10]}, params, seed
        )
        oof_raw, fold, best = cross_fit(
            Xm,
            y,
            g,
            names,
            prm,
            n_folds=n_folds,
            seed=seed,
            ranking=True,
            max_rounds=max_rounds,
            early_stopping_rounds=early_stopping_rounds,
        )
        good = (y >= good_outcome).astype("float64")
        self.calibrator_ = IsotonicCalibrator().fit(oof_raw, good)
        oof = np.empty_like(oof_raw)
        for k in np.unique(fold):
            held = fold == k
            oof[held] = (
                IsotonicCalibrator().fit(oof_raw[~held], good[~held]).transform(oof_raw[held])
            )
        self.n_rounds_ = max(1, int(round(float(np.median(best)))))
        self.booster_ = train_final(Xm, y, g, names, prm, self.n_rounds_, ranking=True)
        self.feature_names_, self.params_, self.best_iterations_ = names, prm, best
        self.good_outcome_ = float(good_outcome)
        self.oof_raw_, self.oof_, self.oof_y_ = oof_raw, oof, y
        self.metrics_ = {
            "ndcg_at_5": metrics.ndcg_at_k(y, oof_raw, g, k=5),
            "ndcg_at_10": metrics.ndcg_at_k(y, oof_raw, g, k=10),
            "n_pairs": float(y.size),
            "n_brands": float(g.max() + 1),
        }
        if 0 < good.sum() < good.size:
            self.metrics_["good_roc_auc"] = metrics.roc_auc(good, oof)
            self.metrics_["good_brier"] = metrics.brier(good, oof)
        return self

    def predict(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """``brand_id``, ``creator_id``, ``fit_score`` (0-1) and ``fit_rank`` (1 = best per brand).

        Ranks order the raw ranking score, so creators that share a calibrated ``fit_score``
        step are still told apart; equal scores go to the smaller ``creator_id``.
        """
        raw = self.raw_score(pairs)
        return pd.DataFrame(
            {
                "brand_id": pairs["brand_id"].to_numpy(dtype=object),
                "creator_id": pairs["creator_id"].to_numpy(dtype=object),
                "fit_score": self.calibrator_.transform(raw),
                "fit_rank": rank_within(pairs["brand_id"], raw, pairs["creator_id"].astype(str)),
            },
            index=pairs.index,
        )

    def _meta(self) -> dict:
        return {**super()._meta(), "good_outcome": self.good_outcome_}

    def _set_meta(self, meta: Mapping) -> None:
        self.good_outcome_ = float(meta["good_outcome"])
