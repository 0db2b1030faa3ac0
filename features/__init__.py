"""Feature builders: one row per creator, named float64 columns, NaN = unknown.

``build`` combines the builder families listed here, in this order. Each family is a plain
function of contract tables in one module; adding a feature means adding it to its module's
function and ``FEATURES`` tuple.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from features._series import creator_codes
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
# With n_jobs > 1, the order in which each block's families (positions in ``build``'s list) are
# handed to the threads: the longest first (audience, mostly LightGBM scoring of every sampled
# follower, costs about as much as the other five together; then comments and topics), so that
# no thread is left with a long task at the end.
_THREAD_ORDER = (4, 5, 3, 2, 1, 0)


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
    column = creators["snapshot_at"]
    values = column.to_numpy(dtype="datetime64[ns]")
    if not np.isnat(values).any():  # every creator gives its day: no table to group
        # One Series built once (a Series test, then a rename, were most of a few creators'
        # cost), from a copy (the days never share memory with the creators table); from the
        # column's own datetime array when it has the days' dtype, as a Series made from a
        # NumPy array checks every value again.
        if column.dtype == values.dtype:
            return pd.Series(column.array.copy(), index=ids, name="as_of")
        return pd.Series(values, index=ids, name="as_of")
    snap = pd.Series(values, index=ids)
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
        1: build in this process's thread. 2 or more (-1: the number of cores): from a few
        thousand creators on, the builder families run on that many threads, each family of
        each block a task. The output is identical whatever the value.

    Returns
    -------
    DataFrame indexed by creator_id (the order of ``data.creators``), all float64.

    Notes
    -----
    More than :data:`BLOCK_CREATORS` creators whose child tables list their rows in the order
    of ``data.creators`` are built a block of creators at a time (row ranges, no copies): every
    feature comes from the creator's own rows, so the output is the same, and a block's arrays
    stay small enough to be cheap to fault in and to cache (100,000 creators at once spent a
    third to a half of their CPU time in the kernel, on page faults).
    """
    days = resolve_as_of(data, as_of)
    curve = curve if curve is not None else EngagementCurve.prior()
    blocks = _blocks(data, BLOCK_CREATORS) if len(data.creators) > BLOCK_CREATORS else None
    if blocks is None:
        parts = [(data, days)]
    else:
        parts = [(part, days.iloc[a:b]) for (a, b), part in blocks]
    return _build(parts, len(data.creators), text_model, account_model, curve, n_jobs)


#: Creators per block of a large :func:`build` (see its notes). On 2 cores, 100,000 creators
#: built at once took 41.7 s with ``n_jobs=1`` (peak 3.2 GiB over the tables); in blocks of
#: 20,000, 26-27 s (peak 0.4-1.2 GiB). With ``n_jobs=2`` (threads), blocks of 10,000 measured
#: no faster than 20,000 (18.2-18.4 s against 17.2-18.1 s).
BLOCK_CREATORS = 20_000

_CHILD_TABLES = ("follower_history", "posts", "comments", "audience_sample")


def _blocks(data: CreatorData, size: int) -> list[tuple[tuple[int, int], CreatorData]] | None:
    """``data`` cut into blocks of ``size`` creators with their child rows as row ranges.

    None when some child table does not list its rows in the order of ``data.creators`` (or
    names a creator it does not have): the build then takes the tables whole.
    """
    ids = pd.Index(data.creators["creator_id"])
    edges = np.append(np.arange(0, len(ids), size), len(ids))
    cuts: dict[str, np.ndarray | None] = {}
    for name in _CHILD_TABLES:
        table = getattr(data, name)
        if table is None:
            cuts[name] = None
            continue
        if "creator_id" not in table.columns:
            return None
        codes = creator_codes(ids, table["creator_id"])
        if len(codes) and (codes[0] < 0 or bool(np.any(codes[1:] < codes[:-1]))):
            return None
        cuts[name] = np.searchsorted(codes, edges, side="left")
    out = []
    for k in range(len(edges) - 1):
        a, b = int(edges[k]), int(edges[k + 1])
        tables = {
            name: getattr(data, name).iloc[cut[k] : cut[k + 1]]
            for name, cut in cuts.items()
            if cut is not None
        }
        out.append(((a, b), replace(data, creators=data.creators.iloc[a:b], **tables)))
    return out


def _build(
    blocks: Sequence[tuple[CreatorData, pd.Series]],
    n_creators: int,
    text_model: TopicModel | None,
    account_model: AccountModel | None,
    curve: EngagementCurve,
    n_jobs: int,
) -> pd.DataFrame:
    """:func:`build` over ``blocks`` of (creators' data, their resolved days), in order.

    Every (family, block) pair is one task. With more than one worker the tasks run on a pool
    of threads, a block's families longest first: the tables are shared, not copied, and much
    of the work (NumPy, LightGBM, Arrow string kernels) runs without the GIL. On 2 cores
    threads measured faster than the forked child process used before (100,000 creators:
    17-20 s against 22-26 s): a child writes to the shared pages it reads from (the reference
    count of every str cell it touches), and on a virtual machine each page copy cost about
    10 microseconds (7-10 s of kernel time in the child against 14.5 s of its own work).
    """
    # A block's history cleaned and resampled once for both the growth and the engagement
    # builder, by the first of them to run, and dropped when both have it.
    locks = [threading.Lock() for _ in blocks]
    prepared: dict[int, list] = {}

    def history(k: int, d: CreatorData, days: pd.Series):
        with locks[k]:
            if k not in prepared:
                prepared[k] = [prepare_history(d.follower_history, d.creators, days), 2]
            entry = prepared[k]
            entry[1] -= 1
            if not entry[1]:
                del prepared[k]
            return entry[0]

    # The families in output order, as (block number, block data, days) -> frame. Each reads
    # the shared tables and writes nothing to them.
    families: list[Callable[[int, CreatorData, pd.Series], pd.DataFrame]] = [
        lambda k, d, days: profile_features(d.creators, days),
        lambda k, d, days: growth_features(
            d.follower_history, d.creators, days, prepared=history(k, d, days)
        ),
        lambda k, d, days: engagement_features(
            d.posts, d.creators, d.follower_history, days, curve, prepared=history(k, d, days)
        ),
        lambda k, d, days: topic_features(d.creators, d.posts, days, text_model),
        lambda k, d, days: audience_features(d.audience_sample, d.creators, account_model),
        lambda k, d, days: comment_features(d.comments, d.posts, d.creators, days),
    ]
    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    tasks = [(i, k) for k in range(len(blocks)) for i in _THREAD_ORDER]
    if workers <= 1 or n_creators < _PARALLEL_MIN_CREATORS:
        done = {(i, k): families[i](k, *blocks[k]) for i, k in tasks}
    else:
        # LightGBM keeps its own OpenMP threads: limited to one per task, the build measured
        # 5% slower on 2 cores (100,000 creators, 30 CPU-s against 29).
        with ThreadPoolExecutor(workers) as pool:
            futures = {(i, k): pool.submit(families[i], k, *blocks[k]) for i, k in tasks}
            try:
                done = {task: future.result() for task, future in futures.items()}
            except BaseException:
                # A family failed: the tasks not yet started are of no use.
                pool.shutdown(cancel_futures=True)
                raise
    parts = []
    for i in range(len(families)):
        frames = [done[i, k] for k in range(len(blocks))]
        parts.append(frames[0] if len(frames) == 1 else pd.concat(frames, axis=0))
    return _combine(parts)


def _combine(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The families' frames side by side, all float64, indexed by ``creator_id``.

    Every family indexes its rows by the creators in the same order, so the columns are joined
    as one 2-D array (one block, no index alignment): ``pd.concat`` aligns six frames first, a
    fixed cost that a call for a few creators feels. Frames on other indexes still go through
    ``pd.concat``, which aligns them.
    """
    index = parts[0].index
    if all(_same_labels(p.index, index) for p in parts[1:]) and index.is_unique:
        block = np.concatenate([p.to_numpy(dtype=np.float64).T for p in parts], axis=0)
        labels: list = []
        for p in parts:
            labels += p.columns.tolist()
        columns = _column_index(tuple(labels))
        return pd.DataFrame(block.T, index=index.rename("creator_id"), columns=columns, copy=False)
    frame = pd.concat(parts, axis=1)
    frame.index.name = "creator_id"
    return frame.astype(np.float64)


def _same_labels(a: pd.Index, b: pd.Index) -> bool:
    """``a.equals(b)``, at once when both hold the very same array.

    Most families index their rows by the creators' own id array, so comparing the labels one
    by one (a few us per family) is rarely needed.
    """
    return (type(a) is type(b) and a.dtype == b.dtype and a.values is b.values) or a.equals(b)


# The output's column labels by their tuple: the same ~100 names on every call, and making an
# Index from a list of them cost a third of joining a few creators' frames.
_COLUMNS: dict[tuple, pd.Index] = {}


def _column_index(names: tuple) -> pd.Index:
    """``pd.Index(names)``: a shallow copy (renamed on its own) of one kept per distinct tuple."""
    try:
        cached = _COLUMNS[names]
    except KeyError:
        if len(_COLUMNS) >= 16:  # a few feature sets per process at most: never grows unbounded
            _COLUMNS.clear()
        cached = _COLUMNS[names] = pd.Index(list(names))
    return cached.copy()
