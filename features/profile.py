"""Profile features: what the ``creators`` row itself says about the account."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from features._series import block_frame
from features.catalog import Feature
from features.growth import _as_of_values, _flags
from features.schema import PLATFORMS

__all__ = ["FEATURES", "profile_features"]

FEATURES: tuple[Feature, ...] = (
    Feature(
        "profile_log10_followers",
        "log10 of the follower count at the snapshot",
        "log10(count)",
        "creators",
    ),
    Feature("profile_following_ratio", "accounts followed per follower", "ratio", "creators"),
    Feature("profile_log10_following", "log10(1 + accounts followed)", "log10(count)", "creators"),
    Feature("profile_log10_posts", "log10(1 + lifetime posts)", "log10(count)", "creators"),
    Feature("profile_followers_per_post", "followers per lifetime post", "ratio", "creators"),
    Feature("profile_is_verified", "verified badge (1/0)", "flag", "creators"),
    Feature(
        "profile_account_age_days", "days from account creation to the snapshot", "days", "creators"
    ),
    Feature("profile_bio_chars", "characters in the bio", "characters", "creators"),
    *(
        Feature(f"profile_platform_{p}", f"platform is {p} (1/0)", "flag", "creators")
        for p in PLATFORMS
    ),
)

_NAMES = [f.name for f in FEATURES]
_COLUMNS = pd.Index(_NAMES)
_LEN = np.frompyfunc(len, 1, 1)


def profile_features(creators: pd.DataFrame, as_of: pd.Series) -> pd.DataFrame:
    """Creator-level features from the ``creators`` table, one row per creator.

    Parameters
    ----------
    creators : DataFrame
        The loaded ``creators`` table.
    as_of : Series
        Snapshot day per creator_id (for the account age).

    Returns
    -------
    DataFrame indexed by creator_id, float64, NaN where the profile does not say.
    """
    ids = pd.Index(creators["creator_id"].to_numpy(), name="creator_id")
    followers = creators["followers"].to_numpy(dtype="float64")
    following = creators["following"].to_numpy(dtype="float64")
    posts = creators["posts_count"].to_numpy(dtype="float64")
    block = np.full((len(_NAMES), len(ids)), np.nan)
    # Each column is written straight into its row of the output block.
    out = dict(zip(_NAMES, block, strict=True))
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log10(np.maximum(followers, 1.0), out=out["profile_log10_followers"])
        np.divide(following, np.maximum(followers, 1.0), out=out["profile_following_ratio"])
        np.log10(1.0 + following, out=out["profile_log10_following"])
        np.log10(1.0 + posts, out=out["profile_log10_posts"])
        np.divide(followers, np.maximum(posts, 1.0), out=out["profile_followers_per_post"])
    out["profile_is_verified"][:] = _flags(creators["is_verified"])
    snap = _as_of_values(as_of, ids)
    created = creators["created_at"].to_numpy(dtype="datetime64[ns]")
    np.divide(snap - created, np.timedelta64(1, "D"), out=out["profile_account_age_days"])
    out["profile_bio_chars"][:] = _str_lengths(creators["bio"])
    platform = creators["platform"].to_numpy(dtype=object)
    # fillna("instagram") without a new Series: the missing cells are those pd.isna flags.
    platform = np.where(pd.isna(platform), "instagram", platform)
    for p in PLATFORMS:
        out[f"profile_platform_{p}"][:] = platform == p
    return block_frame(block, _COLUMNS, ids)


def _str_lengths(values: pd.Series) -> np.ndarray:
    """``values.str.len()`` as float64 (NaN for missing cells).

    A column of str and missing cells (the loaded str type) is measured with one vectorised
    ``len`` over the present cells, without the string accessor's fixed cost per call; any
    other column goes through the accessor.
    """
    cells = values.to_numpy()
    if cells.dtype == object and infer_dtype(cells, skipna=True) in ("string", "empty"):
        out = np.full(len(cells), np.nan)
        present = ~pd.isna(cells)
        out[present] = _LEN(cells[present])
        return out
    return values.str.len().to_numpy(dtype="float64", na_value=np.nan)
