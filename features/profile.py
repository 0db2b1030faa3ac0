"""Profile features: what the ``creators`` row itself says about the account."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features._series import feature_frame
from features.catalog import Feature
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
    ids = creators["creator_id"].to_numpy()
    followers = creators["followers"].to_numpy(dtype="float64")
    following = creators["following"].to_numpy(dtype="float64")
    posts = creators["posts_count"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "profile_log10_followers": np.log10(np.maximum(followers, 1.0)),
            "profile_following_ratio": following / np.maximum(followers, 1.0),
            "profile_log10_following": np.log10(1.0 + following),
            "profile_log10_posts": np.log10(1.0 + posts),
            "profile_followers_per_post": followers / np.maximum(posts, 1.0),
        }
    out["profile_is_verified"] = (
        creators["is_verified"].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    )
    snap = as_of.reindex(ids).to_numpy(dtype="datetime64[ns]")
    created = creators["created_at"].to_numpy(dtype="datetime64[ns]")
    out["profile_account_age_days"] = (snap - created) / np.timedelta64(1, "D")
    bio = creators["bio"]
    out["profile_bio_chars"] = bio.str.len().to_numpy(dtype="float64", na_value=np.nan)
    platform = creators["platform"].fillna("instagram").to_numpy(dtype=object)
    for p in PLATFORMS:
        out[f"profile_platform_{p}"] = (platform == p).astype("float64")
    return feature_frame(out, out, pd.Index(ids, name="creator_id"))
