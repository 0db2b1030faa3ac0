"""The data contract (docs/SCHEMA.md) as code: tables, columns, types and what is required.

This module is the single place that knows the contract. The loader validates against it, the
simulator writes it, and the scorer's output columns come from it.

Loaded representation (what every builder can rely on after :func:`features.dataset.load`):

- ``str``       -> ``object`` dtype holding Python ``str`` or ``None`` (unknown).
- ``int``       -> ``float64``; whole numbers >= 0, ``NaN`` = unknown. Float keeps one numeric
                   dtype for counts with gaps and is exact far beyond any follower count.
- ``float``     -> ``float64``.
- ``bool``      -> pandas nullable ``boolean``; ``<NA>`` = unknown.
- ``date``      -> ``datetime64[ns]``, midnight, naive.
- ``timestamp`` -> ``datetime64[ns]``, naive, in UTC (zoned input is converted; naive input is UTC).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Column",
    "TABLES",
    "INPUT_TABLES",
    "LABEL_TABLES",
    "REQUIRED_TABLES",
    "PLATFORMS",
    "TIERS",
    "TIER_BOUNDS",
    "SCORE_COLUMNS",
    "SCORE_EXTRA_COLUMNS",
    "FIT_COLUMNS",
    "KEYS",
    "tier_of",
]


@dataclass(frozen=True)
class Column:
    """One contract column: its name, contract type and whether it is required."""

    name: str
    type: str  # str | int | float | bool | date | timestamp
    required: bool = False
    meaning: str = ""


def _cols(*spec: tuple) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in spec)


AUDIENCE_COLUMNS = (
    ("username", "str", False, "public user name"),
    ("username_length", "int", False, "length of the user name"),
    ("username_digit_count", "int", False, "digits in the user name"),
    ("full_name", "str", False, "display name"),
    ("has_profile_pic", "bool", False, "has a profile picture"),
    ("is_private", "bool", False, "private account"),
    ("biography_length", "int", False, "characters in the bio"),
    ("has_external_url", "bool", False, "bio links out"),
    ("media_count", "int", False, "posts of the account"),
    ("followers", "int", False, "followers of the account"),
    ("following", "int", False, "accounts it follows"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "creators": _cols(
        ("creator_id", "str", True, "unique, non-empty"),
        ("platform", "str", False, "instagram, tiktok, youtube, x, other (default instagram)"),
        ("handle", "str", False, "public user name"),
        ("followers", "int", True, "follower count at snapshot_at"),
        ("following", "int", False, "accounts the creator follows"),
        ("posts_count", "int", False, "lifetime posts"),
        ("bio", "str", False, "profile text, any language"),
        ("is_verified", "bool", False, ""),
        ("country", "str", False, "ISO 3166-1 alpha-2 of the creator"),
        ("created_at", "date", False, "account creation day"),
        ("snapshot_at", "date", False, "default: latest date in the creator's history or posts"),
    ),
    "follower_history": _cols(
        ("creator_id", "str", True, ""),
        ("date", "date", True, "irregular sampling and gaps are allowed"),
        ("followers", "int", True, ""),
        ("following", "int", False, ""),
    ),
    "posts": _cols(
        ("creator_id", "str", True, ""),
        ("post_id", "str", True, "unique per creator"),
        ("posted_at", "timestamp", True, ""),
        ("likes", "int", True, ""),
        ("comments", "int", True, ""),
        ("views", "int", False, "video views"),
        ("caption", "str", False, "text with hashtags and mentions, any language"),
        ("is_sponsored", "bool", False, "paid partnership / #ad"),
        ("media_type", "str", False, "image, video, carousel, reel, short"),
    ),
    "comments": _cols(
        ("creator_id", "str", True, ""),
        ("post_id", "str", True, ""),
        ("text", "str", True, ""),
        ("commenter_id", "str", False, ""),
        ("created_at", "timestamp", False, ""),
    ),
    "audience_sample": _cols(
        ("creator_id", "str", True, "the creator followed"),
        ("follower_id", "str", True, ""),
        *AUDIENCE_COLUMNS,
    ),
    "brands": _cols(
        ("brand_id", "str", True, "unique"),
        ("name", "str", False, ""),
        ("brief", "str", True, "what the brand sells, to whom, its values; any language"),
        ("target_countries", "str", False, "ISO-2 codes separated by ;"),
        ("min_followers", "int", False, "size window, lower end"),
        ("max_followers", "int", False, "size window, upper end"),
        ("excluded_topics", "str", False, "topics the brand will not appear next to"),
    ),
    "fraud_labels": _cols(
        ("creator_id", "str", True, ""),
        ("bought_followers", "bool", True, ""),
        ("source", "str", False, ""),
        ("labeled_at", "date", False, ""),
        (
            "fraud_kind",
            "str",
            False,
            "simulator extension: none, burst, drip, likes, pod, f4f, ...",
        ),
    ),
    "fit_labels": _cols(
        ("brand_id", "str", True, ""),
        ("creator_id", "str", True, ""),
        ("outcome", "int", True, "0 poor fit ... 3 excellent"),
    ),
    "account_labels": _cols(
        ("follower_id", "str", False, ""),
        *AUDIENCE_COLUMNS,
        ("is_fake", "bool", True, ""),
    ),
}

INPUT_TABLES = ("creators", "follower_history", "posts", "comments", "audience_sample", "brands")
LABEL_TABLES = ("fraud_labels", "fit_labels", "account_labels")
REQUIRED_TABLES = ("creators",)

# Row identity per table: which columns must be unique together.
KEYS: dict[str, tuple[str, ...]] = {
    "creators": ("creator_id",),
    "posts": ("creator_id", "post_id"),
    "brands": ("brand_id",),
}

PLATFORMS = ("instagram", "tiktok", "youtube", "x", "other")

# Tier lower bounds in followers: nano < 10k <= micro < 100k <= mid < 500k <= macro < 1M <= mega.
TIERS = ("nano", "micro", "mid", "macro", "mega")
TIER_BOUNDS = (0, 10_000, 100_000, 500_000, 1_000_000)

SCORE_COLUMNS = (
    "creator_id",
    "status",
    "error",
    "fraud_risk",
    "risk_band",
    "audience_fake_share",
    "engagement_rate",
    "expected_engagement_rate",
    "tier",
    "reasons",
    "model_version",
)

# Optional columns of the creator scores (SCHEMA.md, "Outputs"): how sure each score is, the
# audience-quality question kept apart from buying, and the evidence counts. Appended after
# SCORE_COLUMNS when asked for (``Scorer.score(..., extra=True)``, ``explain``).
SCORE_EXTRA_COLUMNS = (
    "fraud_confidence",
    "audience_fake_share_low",
    "audience_fake_share_high",
    "low_quality_audience",
    "audience_reasons",
    "evidence",
)

FIT_COLUMNS = (
    "brand_id",
    "creator_id",
    "status",
    "error",
    "fit_score",
    "fit_rank",
    "fraud_risk",
    "reasons",
    "model_version",
)


def tier_of(followers):
    """Tier name(s) for follower count(s): a scalar gives a str, an array gives an object array.

    >>> tier_of(9_999), tier_of(10_000), tier_of(2_000_000)
    ('nano', 'micro', 'mega')
    """
    import numpy as np

    arr = np.asarray(followers, dtype="float64")
    idx = np.searchsorted(np.asarray(TIER_BOUNDS[1:], dtype="float64"), arr, side="right")
    names = np.asarray(TIERS, dtype=object)[idx]
    names = np.where(np.isnan(arr), None, names)
    return names.item() if names.ndim == 0 else names
