"""Feature builders: one row per creator, named float64 columns, NaN = unknown.

``build`` combines the builder families listed here, in this order. Each family is a plain
function of contract tables in one module; adding a feature means adding it to its module's
function and ``FEATURES`` tuple.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

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
# With n_jobs > 1, the families (positions in ``build``'s list) that a forked child process
# builds: growth, engagement, topics and comments. This process builds profile and audience.
# The split balances the two halves (the audience family, mostly LightGBM scoring of every
# sampled follower, costs about as much as the other four together), and it keeps LightGBM,
# and so OpenMP, out of the child: GNU OpenMP (in LightGBM's wheels) does not survive fork(),
# and a child that used it after this process had started its threads could hang.
_CHILD_FAMILIES = (1, 2, 3, 5)


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
    if not snap.isna().any():  # every creator gives its day: no table to group
        return snap.rename("as_of")
    latest = []
    if data.follower_history is not None and len(data.follower_history):
        latest.append(data.follower_history.groupby("creator_id")["date"].max())
    if data.posts is not None and len(data.posts):
        latest.append(data.posts.groupby("creator_id")["posted_at"].max().dt.floor("D"))
    if latest:
        fallback = pd.concat(latest, axis=1).max(axis=1).reindex(ids)
        snap = snap.fillna(fallback)
    return snap.astype("datetime64[ns]").rename("as_of")


def _can_fork() -> bool:
    """Whether this process can fork a child safely: Linux (fork() is unsafe on macOS)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


# Linux prctl() option that turns transparent huge pages off for the calling process, and glibc
# mallopt() parameters (malloc.h: M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD).
_PR_SET_THP_DISABLE = 41
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_MIB = 1 << 20


def _child_memory_settings() -> None:
    """Make the forked child's fresh memory cheap to fault in; best effort, Linux/glibc only.

    Every page the child writes is a page fault: a new page to zero, or a page shared with this
    process to copy. Measured on 20,000 creators, the four families' system time was 1.7-1.9 s
    in a plain child against 0.5 s with these settings (user time unchanged): (1) no transparent
    huge pages, which NumPy requests for every array of 4 MiB or more: each fault then zeroes
    2 MiB and may compact memory first, a cost the child's short-lived temporaries never earn
    back; (2) malloc keeps freed memory up to 32 MiB per block in its heap instead of returning
    it to the system and faulting it in again for the next array of the same size. Both only
    change where memory comes from, never a value; the child exits when it is done.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0)
        libc.mallopt(_M_MMAP_THRESHOLD, 32 * _MIB)  # glibc's largest allowed threshold
        libc.mallopt(_M_TRIM_THRESHOLD, 1024 * _MIB)
        libc.mallopt(_M_TOP_PAD, 64 * _MIB)
    except (OSError, AttributeError):  # another C library: keep its defaults
        pass


def _forked(families: Sequence[Callable[[], pd.DataFrame]], in_child: Sequence[int]) -> list:
    """Every family's frame, those at ``in_child`` built in a forked child process.

    A forked child shares this process's tables copy-on-write, so nothing is pickled on the way
    in; only the child's frames (a few floats per creator) come back through a pipe. Python
    threads would run the families' pure-Python and pandas parts one at a time (the GIL), and a
    spawned worker would first have to receive pickled copies of the tables.
    """
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        receive.close()
        _child_memory_settings()
        try:
            message = ("ok", [families[i]() for i in in_child])
        except BaseException as exc:  # noqa: BLE001 -- every failure goes back to the parent
            message = ("error", exc, traceback.format_exc())
        try:
            send.send(message)
        except Exception:  # a result or an exception that does not pickle: send its text
            text = traceback.format_exc()
            send.send(("error", RuntimeError(text), text))
        send.close()

    # Not a daemon: daemonic processes (multiprocessing pool workers) may not have any, and this
    # one is always joined below.
    proc = ctx.Process(target=child, name="features.build")
    with warnings.catch_warnings():
        # Python 3.12+ warns about any fork() of a process with threads (NumPy's BLAS and
        # LightGBM's OpenMP keep idle ones). The child runs NumPy, pandas and Arrow code only,
        # whose libraries reset their thread pools at fork; OpenMP is kept out of it.
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        proc.start()
    send.close()
    received = False
    try:
        # The child keeps one core busy: LightGBM's OpenMP team here gets the other one only
        # (two threads competing with the child measured 8% slower at 20,000 creators).
        with threadpool_limits(1, user_api="openmp"):
            parts = {i: f() for i, f in enumerate(families) if i not in in_child}
        try:
            message = receive.recv()
        except EOFError:
            proc.join()
            raise RuntimeError(
                f"the feature process died without a result (exit code {proc.exitcode})"
            ) from None
        received = True
    finally:
        if not received:  # this process failed: the child's work is of no use
            proc.terminate()
        proc.join()
        receive.close()
    if message[0] == "error":
        exc = message[1]
        exc.add_note(f"raised in the feature process (n_jobs > 1):\n{message[2]}")
        raise exc
    parts.update(zip(in_child, message[1], strict=True))
    return [parts[i] for i in range(len(families))]


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
        1: build in this process. 2 or more (-1: the number of cores, if more than one): from
        a few thousand creators on, fork one child process on Linux that builds the growth,
        engagement, topic and comment families while this process builds the others (threads
        elsewhere). The output is identical whatever the value.

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
        blocks = [((0, len(data.creators)), data)]
    parts = [(part, days.iloc[a:b]) for (a, b), part in blocks]
    return _build(parts, len(data.creators), text_model, account_model, curve, n_jobs)


#: Creators per block of a large :func:`build` (see its notes). On 2 cores, 100,000 creators
#: built at once took 41.7 s with ``n_jobs=1`` (peak 3.2 GiB over the tables) and 25.9 s with
#: ``n_jobs=2``; in blocks of 20,000, 26-27 s (peak 0.4-1.2 GiB) and 22-24 s.
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

    Each family runs over every block in turn, so a forked child is forked once for them all.
    """
    lock = threading.Lock()
    prepared: dict[int, object] = {}

    def history(k: int, d: CreatorData, days: pd.Series):
        # A block's history cleaned and resampled once, for both the growth and the engagement
        # builder, by the first of them to run (in the child process when there is one).
        with lock:
            if k not in prepared:
                prepared[k] = prepare_history(d.follower_history, d.creators, days)
            return prepared[k]

    def each(family: Callable[[int, CreatorData, pd.Series], pd.DataFrame]):
        """One family over every block, its frames one after the other."""

        def run() -> pd.DataFrame:
            frames = [family(k, d, days) for k, (d, days) in enumerate(blocks)]
            return frames[0] if len(frames) == 1 else pd.concat(frames, axis=0)

        return run

    # The families in output order. Each reads the shared tables and writes nothing to them.
    families = [
        each(lambda k, d, days: profile_features(d.creators, days)),
        each(
            lambda k, d, days: growth_features(
                d.follower_history, d.creators, days, prepared=history(k, d, days)
            )
        ),
        each(
            lambda k, d, days: engagement_features(
                d.posts, d.creators, d.follower_history, days, curve, prepared=history(k, d, days)
            )
        ),
        each(lambda k, d, days: topic_features(d.creators, d.posts, days, text_model)),
        each(lambda k, d, days: audience_features(d.audience_sample, d.creators, account_model)),
        each(lambda k, d, days: comment_features(d.comments, d.posts, d.creators, days)),
    ]
    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    if workers <= 1 or n_creators < _PARALLEL_MIN_CREATORS:
        parts = [family() for family in families]
    elif _can_fork():
        parts = _forked(families, _CHILD_FAMILIES)
    else:
        # Families side by side in threads: the tables are shared, not copied to workers, and
        # part of the work (NumPy, Arrow string kernels, LightGBM) runs without the GIL.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            # Longest first (comments, audience, topics), so the threads finish together.
            futures = {i: pool.submit(families[i]) for i in (5, 4, 3, 2, 1, 0)}
            parts = [futures[i].result() for i in range(len(families))]
    return _combine(parts)


def _combine(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The families' frames side by side, all float64, indexed by ``creator_id``.

    Every family indexes its rows by the creators in the same order, so the columns are joined
    as one 2-D array (one block, no index alignment): ``pd.concat`` aligns six frames first, a
    fixed cost that a call for a few creators feels. Frames on other indexes still go through
    ``pd.concat``, which aligns them.
    """
    index = parts[0].index
    if all(p.index.equals(index) for p in parts[1:]) and index.is_unique:
        block = np.concatenate([p.to_numpy(dtype=np.float64).T for p in parts], axis=0)
        columns = [c for p in parts for c in p.columns]
        return pd.DataFrame(block.T, index=index.rename("creator_id"), columns=columns, copy=False)
    frame = pd.concat(parts, axis=1)
    frame.index.name = "creator_id"
    return frame.astype(np.float64)
