"""Feature builders: one row per creator, named float64 columns, NaN = unknown.

``build`` combines the builder families listed here, in this order. Each family is a plain
function of contract tables in one module; adding a feature means adding it to its module's
function and ``FEATURES`` tuple.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features.audience import audience_features
from features.comments import comment_features
from features.engagement import EngagementCurve, engagement_features
from features.growth import growth_features, prepare_history
from features.profile import profile_features
from features.topics import TopicModel, topic_features

if TYPE_CHECKING:
    from features.audience import AccountModel
    from features.dataset import CreatorData

__all__ = ["build", "resolve_as_of", "feature_modules"]

_PARALLEL_MIN_CREATORS = 2_000


def feature_modules() -> tuple:
    """The builder modules, in the order their columns appear in ``build``'s output."""
    from features import audience, comments, engagement, growth, profile, topics

    return (profile, growth, engagement, topics, audience, comments)


def resolve_as_of(data: CreatorData, as_of=None) -> pd.Series:
    """Each creator's snapshot day: ``as_of`` for all when given, else from the creator's own rows.

    Without ``as_of`` a creator's day is its ``snapshot_at``, else the latest day in its follower
    history or posts (SCHEMA.md), else NaT (it then has no dated rows to cut).
    """
    creators = data.creators
    ids = pd.Index(creators["creator_id"], name="creator_id")
    if as_of is not None:
        day = pd.Timestamp(as_of).tz_localize(None).normalize()
        return pd.Series(day, index=ids, dtype="datetime64[ns]")
    snap = pd.Series(creators["snapshot_at"].to_numpy(dtype="datetime64[ns]"), index=ids)
    latest = []
    if data.follower_history is not None and len(data.follower_history):
        latest.append(data.follower_history.groupby("creator_id")["date"].max())
    if data.posts is not None and len(data.posts):
        latest.append(data.posts.groupby("creator_id")["posted_at"].max().dt.floor("D"))
    if latest:
        fallback = pd.concat(latest, axis=1).max(axis=1).reindex(ids)
        snap = snap.fillna(fallback)
    return snap.astype("datetime64[ns]").rename("as_of")


def build(
    data: CreatorData,
    as_of=None,
    text_model: TopicModel | None = None,
    account_model: AccountModel | None = None,
    curve: EngagementCurve | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Every feature for every scorable creator in ``data``.

    Parameters
    ----------
    data : CreatorData
        Loaded, validated contract tables (``features.dataset.load``).
    as_of : date-like, optional
        Snapshot day for all creators; rows after it are ignored. Default: per creator
        (:func:`resolve_as_of`).
    text_model : TopicModel, optional
        Fitted topic model; without it the topic features are NaN.
    account_model : AccountModel, optional
        Fitted follower-account model; without it ``aud_fake_share`` is NaN.
    curve : EngagementCurve, optional
        Frozen expected-engagement curve; default: the prior from published benchmarks.
    n_jobs : int
        Threads running the builder families side by side (-1: one per core). The output is
        identical whatever the value; below a few thousand creators it is not worth a thread.

    Returns
    -------
    DataFrame indexed by creator_id (the order of ``data.creators``), all float64.
    """
    creators = data.creators
    days = resolve_as_of(data, as_of)
    curve = curve if curve is not None else EngagementCurve.prior()
    # The history cleaned and resampled once, for both the growth and the engagement builder.
    history = prepare_history(data.follower_history, creators, days)
    # The families in output order. Each reads the shared tables and writes nothing to them.
    families = [
        lambda: profile_features(creators, days),
        lambda: growth_features(data.follower_history, creators, days, prepared=history),
        lambda: engagement_features(
            data.posts, creators, data.follower_history, days, curve, prepared=history
        ),
        lambda: topic_features(creators, data.posts, days, text_model),
        lambda: audience_features(data.audience_sample, creators, account_model),
        lambda: comment_features(data.comments, data.posts, creators, days),
    ]
    if n_jobs == 1 or len(creators) < _PARALLEL_MIN_CREATORS:
        parts = [family() for family in families]
    else:
        # Families run side by side in threads: the tables are shared, not copied to workers,
        # and much of the work (NumPy, Arrow string kernels, LightGBM) runs without the GIL.
        # Each family's result is the same as alone, so the frame is identical to n_jobs=1.
        workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            # Longest first (comments, audience, topics), so the threads finish together.
            order = [5, 4, 3, 2, 1, 0]
            futures = {i: pool.submit(families[i]) for i in order}
            parts = [futures[i].result() for i in range(len(families))]
    frame = pd.concat(parts, axis=1)
    frame.index.name = "creator_id"
    return frame.astype(np.float64)
