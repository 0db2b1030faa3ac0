"""Plain-word reasons from LightGBM SHAP values (``pred_contrib``).

Each reason is a sentence with the feature's real value and its signed contribution in
raw-score (log-odds) units, e.g. ``"likes are unusually uniform across posts (CV 0.21) (+0.18)"``.

Sign convention: a positive contribution pushes the model's score up: for the fraud model it
*raises* the risk, for the fit model it raises the fit score. Reasons are the ``top_k``
features with the largest absolute contribution in each row (both signs), strongest first.

Key features have a hand-written template in :data:`TEMPLATES`; every other feature is described
from its catalog entry (``features.catalog.Feature`` meaning and unit), so a reason never shows a
bare column name. Strings are built only for the ``top_k`` cells of each row.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from features._series import frame_dtypes

__all__ = ["TEMPLATES", "reasons_for", "reasons_from_arrays", "describe", "default_catalog"]

Row = Mapping[str, float]
# (value, all feature values of the row, the row's snapshot day) -> phrase
Phrase = Callable[[float, Row, "pd.Timestamp | None"], str]


def _pct(v: float) -> str:
    return f"{v:.0%}" if abs(v) >= 0.01 or v == 0 else f"{v:.1%}"


def _num(v: float) -> str:
    if abs(v) >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.2g}"


def _signed_num(v: float) -> str:
    return ("+" if v >= 0 else "-") + _num(abs(v))


def _get(row: Row, name: str) -> float:
    v = row.get(name, math.nan)
    return float(v) if v is not None else math.nan


def _day(row: Row, name: str, as_of: pd.Timestamp | None) -> str:
    """Calendar day for a feature holding 'days before the snapshot', or ''."""
    days = _get(row, name)
    if as_of is None or pd.isna(as_of) or math.isnan(days):
        return ""
    return (pd.Timestamp(as_of) - pd.Timedelta(days=round(days))).strftime("%Y-%m-%d")


def _share(text: str) -> Phrase:
    return lambda v, row, as_of: text.format(p=_pct(v))


def _flag(yes: str, no: str) -> Phrase:
    return lambda v, row, as_of: yes if v >= 0.5 else no


def _size_distance(v: float, row: Row, as_of) -> str:
    if v < 0:
        return f"followers {10**-v:.1f}x below the brand's minimum"
    if v > 0:
        return f"followers {10**v:.1f}x above the brand's maximum"
    return "follower count inside the brand's size window"


_PLATFORM_NAMES = {
    "instagram": "an Instagram",
    "tiktok": "a TikTok",
    "youtube": "a YouTube",
    "x": "an X",
    "other": "an",
}


def _platform(row: Row) -> str:
    """'an Instagram' etc. from the profile_platform_* flags, or 'an'."""
    for key, words in _PLATFORM_NAMES.items():
        if _get(row, f"profile_platform_{key}") == 1.0:
            return words
    return "an"


def _signed_pct(v: float) -> str:
    return ("+" if v >= 0 else "-") + _pct(abs(v))


def _when(row: Row, as_of) -> str:
    day = _day(row, "growth_max_jump_days_ago", as_of)
    if day:
        return f" around {day}"
    ago = _get(row, "growth_max_jump_days_ago")
    return "" if math.isnan(ago) else f" {ago:.0f} days before the snapshot"


def _likes_after_jump(row: Row) -> str:
    """How likes moved after the largest follower jump: the real-vs-bought disambiguation."""
    r = _get(row, "eng_likes_jump_ratio")
    if math.isnan(r):
        return ""
    if r <= 1.2:
        return f" while likes per post stayed flat ({r:.2f}x)"
    return f" with likes per post up {r:.1f}x"


def _jump(window: str) -> Phrase:
    def phrase(v: float, row: Row, as_of) -> str:
        size = _get(row, "growth_max_jump_abs") if window == "in two days" else math.nan
        amount = (
            f"{_signed_num(size)} ({_signed_pct(v)})" if not math.isnan(size) else _signed_pct(v)
        )
        # The dated event is the largest two-day jump; shorter and longer windows usually
        # peak on the same event, hence "around".
        when = _when(row, as_of)
        return f"followers jumped {amount} {window}{when}{_likes_after_jump(row)}"

    return phrase


def _jump_abs(v: float, row: Row, as_of) -> str:
    rel = _get(row, "growth_max_jump_2d_rel")
    share = f" ({_signed_pct(rel)})" if not math.isnan(rel) else ""
    return f"largest follower jump {_signed_num(v)}{share} in two days{_when(row, as_of)}"


def _jump_day(v: float, row: Row, as_of) -> str:
    day = _day(row, "growth_max_jump_days_ago", as_of)
    return f"largest follower jump on {day}" if day else f"largest follower jump {v:.0f} days ago"


def _round_jump(v: float, row: Row, as_of) -> str:
    if v <= 0.1:
        return f"largest jump is a round package size (within {_pct(v)} of 1k, 2.5k, 5k ...)"
    return f"largest jump is not a round package size ({_pct(v)} off the nearest)"


def _likes_cv(v: float, row: Row, as_of) -> str:
    if v < 0.4:
        return f"likes are unusually uniform across posts (CV {v:.2f})"
    if v > 1.0:
        return f"likes vary widely across posts (CV {v:.2f})"
    return f"likes vary normally across posts (CV {v:.2f})"


def _er_vs_expected(v: float, row: Row, as_of) -> str:
    return f"engagement rate {v:.2f}x what is typical for {_platform(row)} account of this size"


def _er_median(v: float, row: Row, as_of) -> str:
    exp = _get(row, "eng_er_expected")
    typical = f" (typical {exp:.2%})" if not math.isnan(exp) else ""
    return f"median engagement rate {v:.2%}{typical}"


def _count(singular: str, plural: str, none: str) -> Phrase:
    def phrase(v: float, row: Row, as_of) -> str:
        if v == 0:
            return none
        return f"{_num(v)} {singular if v == 1 else plural}"

    return phrase


def _growth(window: str) -> Phrase:
    return lambda v, row, as_of: f"followers {_signed_pct(v)} over the last {window}"


# Key features, by name; the wording follows the catalog meanings in features/*.py (FEATURES)
# and models/fit.py. Thresholds in the words (CV 0.4 / 1.0, 2-5 comments per 100 likes) are the
# published ranges in FACTS.md.
TEMPLATES: dict[str, Phrase] = {
    # follower growth
    "growth_max_jump_1d_rel": _jump("in one day"),
    "growth_max_jump_2d_rel": _jump("in two days"),
    "growth_max_jump_7d_rel": _jump("within a week"),
    "growth_max_jump_abs": _jump_abs,
    "growth_max_jump_days_ago": _jump_day,
    "growth_max_jump_z": lambda v, row, as_of: (
        f"largest follower jump is {v:.0f} robust SDs above the creator's normal daily change"
    ),
    "growth_max_jump_round_dist": _round_jump,
    "growth_step_count": _count(
        "step jump in followers",
        "step jumps in followers (staircase)",
        "no step jumps in followers",
    ),
    "growth_step_total_rel": _share("{p} of followers came in step jumps above normal growth"),
    "growth_purge_share": _share("{p} of the largest jump was lost again within 30 days"),
    "growth_drip_days": _count(
        "day of near-constant daily gains",
        "days of near-constant daily gains (drip-feed)",
        "no drip-feed run of near-constant daily gains",
    ),
    "growth_drip_gain_rel": _share("{p} of followers were gained during a drip-feed run"),
    "growth_drip_cv_ratio": lambda v, row, as_of: (
        f"daily gains vary {v:.2f}x as much as usual at their steadiest week"
    ),
    "growth_following_flip_share": _share(
        "the following count reverses direction in {p} of changes (follow/unfollow seesaw)"
    ),
    "growth_following_range_rel": _share("the following count swung by {p} of its median"),
    "growth_following_ratio": lambda v, row, as_of: f"follows {_num(v)} accounts per follower",
    "growth_7d_rel": _growth("7 days"),
    "growth_30d_rel": _growth("30 days"),
    "growth_90d_rel": _growth("90 days"),
    "growth_accel_30d": lambda v, row, as_of: (
        f"follower growth {_signed_pct(v)} against the previous 30 days"
    ),
    # engagement
    "eng_er_vs_expected": _er_vs_expected,
    "eng_er_log_ratio": lambda v, row, as_of: _er_vs_expected(math.exp(v), row, as_of),
    "eng_er_median": _er_median,
    "eng_er_percentile": lambda v, row, as_of: (
        f"engagement rate at the {v:.0f}th percentile for {_platform(row)} account of this size"
    ),
    "eng_comments_per_like": lambda v, row, as_of: (
        f"{100 * v:.1f} comments per 100 likes (healthy: 2-5)"
    ),
    "eng_likes_cv": _likes_cv,
    "eng_like_spike_ratio": lambda v, row, as_of: (
        f"the most-liked post has {v:.1f}x the median likes"
    ),
    "eng_spike_follower_growth_rel": lambda v, row, as_of: (
        f"followers {_signed_pct(v)} in the week after the most-liked post"
    ),
    "eng_er_jump_ratio": lambda v, row, as_of: (
        f"engagement rate after the largest follower jump is {v:.2f}x what it was before"
    ),
    "eng_likes_jump_ratio": lambda v, row, as_of: (
        f"likes per post after the largest follower jump are {v:.2f}x what they were before"
    ),
    "eng_likes_per_view": _share("{p} of views turn into a like"),
    "eng_views_per_follower": lambda v, row, as_of: (
        f"posts are viewed by {_pct(v)} of the follower count"
    ),
    "eng_sponsored_er_ratio": lambda v, row, as_of: (
        f"sponsored posts engage {v:.2f}x as much as organic ones"
    ),
    "eng_posts_per_week": lambda v, row, as_of: f"{_num(v)} posts per week",
    # audience
    "aud_fake_share": lambda v, row, as_of: (
        f"an estimated {_pct(v)} of followers look fake"
        + (
            f" (sample of {_num(_get(row, 'aud_n_sampled'))} accounts)"
            if not math.isnan(_get(row, "aud_n_sampled"))
            else ""
        )
    ),
    "aud_fake_prob_mean": _share("sampled followers look fake with {p} probability on average"),
    "aud_mass_follower_share": _share("{p} of sampled followers follow more than 1,500 accounts"),
    "aud_no_pic_share": _share("{p} of sampled followers have no profile picture"),
    "aud_private_share": _share("{p} of sampled followers are private accounts"),
    "aud_zero_posts_share": _share("{p} of sampled followers have never posted"),
    "aud_digit_name_share": _share("{p} of sampled followers have digits in their user name"),
    "aud_empty_bio_share": _share("{p} of sampled followers have an empty bio"),
    "aud_n_sampled": lambda v, row, as_of: f"{_num(v)} follower accounts in the audience sample",
    # comments
    "cmt_low_effort_share": _share(
        "{p} of comments are generic praise, emoji-only, mentions or spam"
    ),
    "cmt_generic_share": _share("{p} of comments are only generic praise ('nice pic', 'wow')"),
    "cmt_emoji_only_share": _share("{p} of comments are only emoji"),
    "cmt_mention_only_share": _share("{p} of comments only @mention other accounts"),
    "cmt_spam_share": _share("{p} of comments are follow-back, check-DM or promotion spam"),
    "cmt_duplicate_share": _share("{p} of comments repeat the same text"),
    "cmt_top5_commenter_share": _share("the 5 most frequent commenters wrote {p} of comments"),
    "cmt_repeat_commenter_share": _share("{p} of commenters comment on 3 or more posts"),
    "cmt_first_hour_share": _share("{p} of comments arrive within an hour of the post"),
    "cmt_per_post": lambda v, row, as_of: f"{_num(v)} sampled comments per post",
    "cmt_len_mean": lambda v, row, as_of: f"comments are {_num(v)} characters long on average",
    # profile
    "profile_log10_followers": lambda v, row, as_of: f"{_num(round(10**v))} followers",
    "profile_following_ratio": lambda v, row, as_of: f"follows {_num(v)} accounts per follower",
    "profile_followers_per_post": lambda v, row, as_of: f"{_num(v)} followers per post",
    "profile_account_age_days": lambda v, row, as_of: f"account is {_num(v)} days old",
    "profile_is_verified": _flag("verified account", "account is not verified"),
    "topic_concentration": lambda v, row, as_of: (
        f"niche focus {v:.2f} on a 0-1 scale (1 = a single topic)"
    ),
    # brand x creator pairs (models/fit.py)
    "fit_topic_cosine": lambda v, row, as_of: (
        f"content matches the brief with a topic similarity of {v:.2f} (0-1)"
    ),
    "fit_top3_overlap": lambda v, row, as_of: (
        f"{v:.0f} of the brief's top 3 topics are among the creator's top 3"
    ),
    "fit_excluded_hits": lambda v, row, as_of: (
        f"{v:.0f} of the creator's top 3 topics are topics the brand excludes"
    ),
    "fit_brief_topic_share": _share("{p} of the creator's content is in the brief's main topic"),
    "fit_creator_topic_in_brief": _share(
        "the creator's main topic carries {p} of the brief's topic weight"
    ),
    "fit_topic_dot": lambda v, row, as_of: (
        f"topic overlap between brief and creator {v:.2f} (0-1, 1 = the same single topic)"
    ),
    "fit_related_share": _share(
        "{p} of the creator's content is in interests the brief says its audience also has"
    ),
    "fit_aud_fake_share": _share("an estimated {p} of the creator's followers are fake"),
    "fit_aud_mass_share": _share("{p} of sampled followers follow more than 1,500 accounts"),
    "fit_near_topic_share": _share("{p} of the creator's content is in or near the brief's topics"),
    "fit_excluded_share": _share("{p} of the creator's content is in topics the brand excludes"),
    "fit_country_match": _flag(
        "creator's country is a target country", "creator's country is not a target country"
    ),
    "fit_in_size_window": _flag(
        "follower count inside the brand's size window",
        "follower count outside the brand's size window",
    ),
    "fit_size_log_distance": _size_distance,
    "fit_eng_quality": lambda v, row, as_of: (
        f"engagement rate {v:.2f}x what is typical for an account of this platform and size"
    ),
    "fit_fraud_risk": lambda v, row, as_of: f"fraud risk {_pct(v)}",
}

_FAMILIES = {
    "growth": "follower growth",
    "eng": "engagement",
    "cmt": "comments",
    "aud": "audience sample",
    "profile": "profile",
    "topic": "topics",
    "fit": "brand fit",
    "acc": "follower account",
}


def default_catalog() -> dict[str, object]:
    """Feature name -> catalog entry, from every builder module's ``FEATURES``."""
    from features import feature_modules

    return {f.name: f for m in feature_modules() for f in getattr(m, "FEATURES", ())}


# Plain subjects for features whose catalog meaning is written in terms of other columns.
_SUBJECTS = {
    "eng_er_vs_expected": "engagement rate against what is typical for the platform and size",
    "eng_er_log_ratio": "log of the engagement rate against what is typical",
    "eng_er_median": "median engagement rate",
    "eng_er_expected": "typical engagement rate for the platform and size",
    "as_of": "the snapshot day",
    "n_topics": "the number of topics",
    "media_count": "posts",
}
_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _subject(name: str, catalog: Mapping[str, object]) -> str:
    """What a feature measures, in words, for sentences that cannot show its value."""
    if name in _SUBJECTS:
        return _SUBJECTS[name]
    meaning = str(getattr(catalog.get(name), "meaning", "") or "").strip()
    if not meaning:
        return _humanise(name)
    return _SNAKE.sub(lambda m: _SUBJECTS.get(m.group(0), _humanise(m.group(0))), meaning)


def _from_catalog(entry: object, v: float) -> str:
    meaning = _subject(getattr(entry, "name", ""), {getattr(entry, "name", ""): entry})
    unit = str(getattr(entry, "unit", "")).strip()
    if unit == "flag":
        return f"{meaning.replace(' (1/0)', '')}: {'yes' if v >= 0.5 else 'no'}"
    if unit.startswith("share"):
        return f"{meaning}: {_pct(v)}"
    shown = f"{_num(v)} {unit}" if unit and unit not in ("ratio", "0-1") else _num(v)
    return f"{meaning}: {shown}"


def _humanise(name: str) -> str:
    family, _, rest = name.partition("_")
    if family in _FAMILIES and rest:
        return f"{_FAMILIES[family]}: {rest.replace('_', ' ')}"
    return name.replace("_", " ")


def describe(
    name: str,
    value: float,
    row: Row,
    as_of: pd.Timestamp | None = None,
    catalog: Mapping[str, object] | None = None,
) -> str:
    """The phrase for one feature value: its template, else its catalog meaning, else words."""
    catalog = catalog or {}
    if value is None or math.isnan(value):
        return f"{_subject(name, catalog)}: unknown"
    template = TEMPLATES.get(name)
    if template is not None:
        return template(float(value), row, as_of)
    if name in catalog:
        return _from_catalog(catalog[name], float(value))
    return f"{_humanise(name)}: {_num(float(value))}"


def reasons_for(
    contrib: pd.DataFrame,
    features: pd.DataFrame,
    as_of: pd.Series | pd.Timestamp | None = None,
    top_k: int = 4,
    *,
    catalog: Mapping[str, object] | None = None,
    min_abs: float = 0.005,
) -> list[list[str]]:
    """The ``top_k`` strongest reasons of each row, as plain sentences with signed contributions.

    Parameters
    ----------
    contrib : SHAP contributions (one column per feature, plus ``bias``, which is skipped),
        e.g. ``FraudModel.contributions``. Positive = pushes the score (risk) up.
    features : the feature values the contributions were computed from, same index.
    as_of : each row's snapshot day (Series on the same index) or one day for all; turns
        "days before the snapshot" features into calendar dates.
    top_k : reasons per row, by descending absolute contribution.
    catalog : feature name -> ``Feature`` for the generic wording; default: every builder's
        ``FEATURES``.
    min_abs : contributions smaller than this in absolute value are not reasons.

    Returns
    -------
    One list of strings per row (JSON-able), strongest first.
    """
    # Positions and whole-frame arrays rather than frames selected by name: for the few rows of
    # one request, every column selection or reindex was a fixed cost of ~0.1 ms.
    columns = list(contrib.columns)
    keep = [j for j, c in enumerate(columns) if c != "bias"]
    names = [columns[j] for j in keep]
    values = contrib.to_numpy(dtype="float64")
    if len(keep) < len(columns):
        values = values[:, keep]
    return reasons_from_arrays(
        values, names, features, contrib.index, as_of, top_k, catalog=catalog, min_abs=min_abs
    )


def reasons_from_arrays(
    values: np.ndarray,
    names: list[str],
    features: pd.DataFrame,
    index: pd.Index,
    as_of: pd.Series | pd.Timestamp | None = None,
    top_k: int = 4,
    *,
    catalog: Mapping[str, object] | None = None,
    min_abs: float = 0.005,
) -> list[list[str]]:
    """:func:`reasons_for` from the contributions as a matrix, without the ``bias`` column.

    ``values`` has one row per label of ``index`` and one column per feature of ``names``; the
    models call this directly, as building the contributions frame only to read it back cost
    more than the sentences of a few rows.
    """
    if catalog is None:
        catalog = _default_catalog()
    fcols, fvals = _numeric_values(features, index)
    days = _days(as_of, index)
    k = min(top_k, len(names))
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    out: list[list[str]] = []
    for i in range(len(values)):  # only top_k cells per row get a string
        row = dict(zip(fcols, fvals[i], strict=True))
        day = None if np.isnat(days[i]) else pd.Timestamp(days[i])
        reasons = []
        for j in order[i]:
            c = values[i, j]
            if not abs(c) >= min_abs:
                break
            name = names[j]
            phrase = describe(name, row.get(name, math.nan), row, day, catalog)
            reasons.append(f"{phrase} ({c:+.2f})")
        out.append(reasons)
    return out


_CATALOG: dict[str, object] | None = None


def _default_catalog() -> dict[str, object]:
    """:func:`default_catalog`, built once (the builders' ``FEATURES`` are constants)."""
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = default_catalog()
    return _CATALOG


def _numeric_values(features: pd.DataFrame, index: pd.Index) -> tuple[list, np.ndarray]:
    """Names and float64 values of the numeric columns of ``features``, rows as in ``index``.

    Id and text columns (brand_id, creator_id ...) carry no value to quote. Decided once per
    distinct dtype (a feature frame holds ~100 columns of one or two dtypes).
    """
    is_numeric: dict[object, bool] = {}
    dtypes = frame_dtypes(features)
    for t in dtypes:
        if t not in is_numeric:
            is_numeric[t] = pd.api.types.is_numeric_dtype(t)
    fcols = [c for c, t in zip(features.columns, dtypes, strict=True) if is_numeric[t]]
    feats = features if len(fcols) == len(dtypes) else features.loc[:, fcols]
    if not feats.index.equals(index):
        feats = feats.reindex(index=index)
    return fcols, feats.to_numpy(dtype="float64", na_value=np.nan)


def _days(as_of: pd.Series | pd.Timestamp | None, index: pd.Index) -> np.ndarray:
    """Each row's snapshot day as ``datetime64`` (NaT: none), rows as in ``index``."""
    if isinstance(as_of, pd.Series):
        if as_of.dtype != np.dtype("datetime64[ns]"):
            as_of = pd.to_datetime(as_of)
        days = as_of.to_numpy()
        if as_of.index.equals(index):
            return days
        if not as_of.index.is_unique:
            return as_of.reindex(index).to_numpy()  # raises, as reindexing repeated labels does
        # What ``reindex`` gives (NaT for a row without a day), from positions: the Series
        # method cost ~0.1 ms, a fixed cost that a few flagged rows feel.
        pos = as_of.index.get_indexer(index)
        out = np.full(len(index), np.datetime64("NaT"), dtype=days.dtype)
        found = pos >= 0
        out[found] = days[pos[found]]
        return out
    return np.repeat(
        np.datetime64(pd.Timestamp(as_of)) if as_of is not None else np.datetime64("NaT"),
        len(index),
    )
