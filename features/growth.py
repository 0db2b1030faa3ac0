"""Follower-growth features: the shape of each creator's follower curve up to the snapshot day.

Bought followers leave marks in the curve (FACTS.md, "Bought followers in the growth curve"): a
near-vertical step over one or two days, often of a round package size (1k, 5k, 10k); repeated
steps; losses in the weeks after as the platform removes fakes; or a "drip" of near-constant daily
gains. Follow-for-follow automation shows as a seesaw in the following count.

The irregular ``follower_history`` is resampled to one value per day by linear interpolation
between observations. A change is only called a k-day jump where the observations pin it down:
the last observation at or before the window start and the first at or after its end may be at
most k + 1 days apart. So a rise spread over a three-week gap is never a 1-day jump (it still
shows in the 30-day growth and in ``growth_max_gap_days``), while one missing day is tolerated.

Besides :func:`growth_features` this module offers :func:`followers_at` (followers interpolated
at arbitrary (creator, time) points) and :func:`largest_jump` (date and size of each creator's
largest jump), used by the engagement builder and by the evidence shown with reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, pairwise

import numpy as np
import pandas as pd

from features._series import (
    NO_AS_OF,
    Segments,
    as_of_days,
    block_frame,
    creator_codes,
    creator_index,
    day_numbers,
    fractional_days,
    lag,
)
from features.catalog import Feature

__all__ = [
    "FEATURES",
    "PreparedHistory",
    "followers_at",
    "growth_features",
    "largest_jump",
    "prepare_history",
]

# Only the last two years before as_of are used: older rows say little about recent buying, and
# the window bounds the daily grid at 730 rows per creator whatever the sampling.
WINDOW_DAYS = 730
MAD_SCALE = 1.4826  # MAD -> standard deviation for normal noise
# Noise floor for the robust scale, relative to the follower level: a creator whose count never
# moves would otherwise give an infinite z-score to any change.
NOISE_FLOOR_REL = 1e-4
STEP_Z = 6.0  # a day is a step when its change is this many robust SDs above the median change
PURGE_DAYS = 30
# Purchase packages offered by follower sellers: 1, 2, 2.5 and 5 times a power of ten (100, 250,
# 500, 1k, 2.5k, 5k, 10k, ...). Jumps smaller than the smallest package get no roundness.
PACKAGE_MANTISSAS = np.array([1.0, 2.0, 2.5, 5.0, 10.0])
MIN_PACKAGE = 100.0
DRIP_WINDOW = 7  # days of real daily changes per drip window
DRIP_CV_MAX = 0.25  # a drip window's daily gains vary by at most this coefficient of variation
DRIP_CV_REL = 0.5  # ... and by at most half the creator's typical window CV

_SRC = "follower_history"
FEATURES: tuple[Feature, ...] = (
    Feature(
        "growth_n_points", "history observations used (last 730 days up to as_of)", "rows", _SRC
    ),
    Feature("growth_span_days", "days from the first to the last observation used", "days", _SRC),
    Feature("growth_last_obs_days_ago", "days from the last observation to as_of", "days", _SRC),
    Feature(
        "growth_interp_share",
        "share of days between first and last observation that were interpolated",
        "share",
        _SRC,
    ),
    Feature("growth_max_gap_days", "longest gap between consecutive observations", "days", _SRC),
    Feature(
        "growth_7d_rel", "relative follower growth over the last 7 days observed", "fraction", _SRC
    ),
    Feature(
        "growth_30d_rel",
        "relative follower growth over the last 30 days observed",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_90d_rel",
        "relative follower growth over the last 90 days observed",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_accel_30d",
        "last 30 days' relative growth minus the previous 30 days'",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_max_jump_1d_rel",
        "largest 1-day follower change relative to the level before "
        "it (only where observations resolve the day)",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_max_jump_2d_rel",
        "largest 2-day follower change relative to the level before "
        "it; this window defines 'the largest jump' below",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_max_jump_7d_rel",
        "largest 7-day follower change relative to the level before "
        "it (catches jumps in weekly sampled histories)",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_max_jump_abs",
        "followers gained in the largest jump (2-day window)",
        "followers",
        _SRC,
    ),
    Feature(
        "growth_max_jump_z",
        "robust z-score of the largest jump against the creator's own "
        "daily changes (median and MAD)",
        "robust SD",
        _SRC,
    ),
    Feature(
        "growth_max_jump_days_ago", "days from the day of the largest jump to as_of", "days", _SRC
    ),
    Feature(
        "growth_max_jump_round_dist",
        "distance of the largest jump's excess over normal "
        "growth to the nearest purchase package (1, 2, 2.5, 5 x 10^k), relative to the "
        "excess; small = round",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_step_count",
        f"step jumps: runs of days whose change is over {STEP_Z:g} "
        "robust SDs above the creator's median daily change",
        "events",
        _SRC,
    ),
    Feature(
        "growth_step_total_rel",
        "followers gained in step jumps above normal growth, relative to the last follower count",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_step_size_cv",
        "coefficient of variation of the sizes of the step jumps (needs 2 or more); low = a "
        "staircase of equal purchases",
        "ratio",
        _SRC,
    ),
    Feature(
        "growth_purge_share",
        f"share of the largest jump lost within {PURGE_DAYS} days after "
        "it (fall below the creator's normal trend from the jump's end)",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_drip_days",
        "length of the longest run of near-constant positive daily gains "
        "(drip-feed signature; 0 = none)",
        "days",
        _SRC,
    ),
    Feature(
        "growth_drip_gain_rel",
        "followers gained during that run, relative to the last follower count",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_drip_cv_ratio",
        "lowest 7-day coefficient of variation of daily gains over "
        "the creator's median one; low = unusually steady gains",
        "ratio",
        _SRC,
    ),
    Feature(
        "growth_following_flip_share",
        "share of consecutive changes of the following count "
        "that reverse direction (follow/unfollow seesaw)",
        "share",
        _SRC,
    ),
    Feature(
        "growth_following_range_rel",
        "range (max - min) of the following count relative to its median",
        "fraction",
        _SRC,
    ),
    Feature(
        "growth_following_ratio", "following / followers at the last observation", "ratio", _SRC
    ),
)


_NAMES = [f.name for f in FEATURES]
_COLUMNS = pd.Index(_NAMES)
_ROW = {name: j for j, name in enumerate(_NAMES)}


def _as_of_values(as_of: pd.Series, ids: pd.Index) -> np.ndarray:
    """``as_of.reindex(ids)`` as datetime64[ns] values.

    ``features.resolve_as_of`` indexes as_of by the creators in order, so the reindex (a hash
    look-up per creator and a new Series, tens of microseconds a call) is skipped when the
    index already is ``ids``; a unique index equal to ``ids`` reindexes to itself.
    """
    index = as_of.index
    if index.is_unique and index.equals(ids):
        return as_of.to_numpy(dtype="datetime64[ns]")
    return as_of.reindex(ids).to_numpy(dtype="datetime64[ns]")


def _as_of_days(as_of: pd.Series | None, ids: pd.Index) -> np.ndarray:
    """``as_of_days(as_of, ids)``, with the reindex skipped as in :func:`_as_of_values`."""
    if as_of is None:
        return as_of_days(None, ids)
    return day_numbers(_as_of_values(as_of, ids))


def _flags(values: pd.Series) -> np.ndarray:
    """A flag column as float64: True 1.0, False 0.0, unknown NaN.

    A pandas ``boolean`` column (the loaded bool type) converts directly, skipping the
    ``Float64`` copy that any other dtype goes through.
    """
    if isinstance(values.dtype, pd.BooleanDtype):
        return values.array.to_numpy(dtype="float64", na_value=np.nan)
    return values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _medians(*parts: tuple[Segments, np.ndarray]) -> list[np.ndarray]:
    """``seg.median(values)`` for each ``(seg, values)`` pair, from one median call.

    A segment's median depends on its own rows only, so the value arrays laid end to end,
    each pair's segments shifted by the rows before it, give every pair's medians exactly as
    separate calls would: the median's fixed cost (a dozen NumPy calls, most of it for a few
    creators) is paid once.
    """
    if len(parts) == 1:
        seg, values = parts[0]
        return [seg.median(values)]
    rows = list(accumulate((len(v) for _, v in parts[:-1]), initial=0))
    ends = list(accumulate((len(seg) for seg, _ in parts), initial=0))
    values = np.concatenate([np.asarray(v, dtype="float64") for _, v in parts])
    starts = np.concatenate([seg.starts for seg, _ in parts])
    starts += np.repeat(rows, np.diff(ends))
    lengths = np.concatenate([seg.lengths for seg, _ in parts])
    med = Segments(starts, lengths, lengths).median(values)  # codes play no part in a median
    return [med[a:b] for a, b in pairwise(ends)]


@dataclass(frozen=True)
class _Obs:
    """Cleaned observations: one row per (creator, day), sorted, within the window up to as_of."""

    n_creators: int
    code: np.ndarray
    day: np.ndarray
    followers: np.ndarray
    following: np.ndarray
    seg: Segments
    ref_day: np.ndarray  # per creator: as_of day, or the last observed day when as_of is unknown
    as_of_day: np.ndarray  # per creator: the as_of day number, NO_AS_OF when unknown

    @cached_property
    def int_key(self) -> np.ndarray:
        """Sorted whole key per row, (creator, day), for searching (creator, day) points."""
        return (self.code << 32) + (self.day + 2**31)


def _observations(history: pd.DataFrame | None, ids: pd.Index, as_of: pd.Series | None) -> _Obs:
    """Select, sort and de-duplicate the history rows of ``ids`` up to each creator's as_of."""
    asd = _as_of_days(as_of, ids)
    if history is None or len(history) == 0:
        code = np.zeros(0, dtype="int64")
        day, fol, foll = code, np.zeros(0), np.zeros(0)
    else:
        code = creator_codes(ids, history["creator_id"])
        day = day_numbers(history["date"].to_numpy())
        fol = history["followers"].to_numpy(dtype="float64")
        if "following" in history.columns:
            foll = history["following"].to_numpy(dtype="float64")
        else:
            foll = np.full(len(history), np.nan)
        # asd[-1] for unknown creators is harmless: they are dropped by code >= 0 anyway.
        keep = (code >= 0) & (day != NO_AS_OF) & np.isfinite(fol) & (day <= asd[code])
        if not keep.all():
            code, day, fol, foll = code[keep], day[keep], fol[keep], foll[keep]
        key = (code << 32) + (day + 2**31)
        if len(key) > 1 and not (key[1:] >= key[:-1]).all():
            order = np.argsort(key, kind="stable")
            code, day, fol, foll, key = code[order], day[order], fol[order], foll[order], key[order]
        if len(key) > 1 and not (key[1:] > key[:-1]).all():
            # Several rows for one day: average them, summed in value order so that the result
            # does not depend on input row order.
            order = np.lexsort((foll, fol, key))
            code, day, fol, foll, key = code[order], day[order], fol[order], foll[order], key[order]
            dup = Segments.of(key)
            n = dup.lengths.astype("float64")
            known = np.isfinite(foll)
            with np.errstate(invalid="ignore"):
                foll = dup.sum(foll) / dup.count(known)
            fol = dup.sum(fol) / n
            code, day = code[dup.starts], day[dup.starts]
    seg = Segments.of(code)
    ref = asd.copy()
    last = seg.scatter(day[seg.ends].astype("float64"), len(ids)) if len(seg) else None
    if last is not None:
        unknown = (ref == NO_AS_OF) & np.isfinite(last)
        ref[unknown] = last[unknown].astype("int64")
    if len(code):
        keep = day > ref[code] - WINDOW_DAYS
        if not keep.all():
            code, day, fol, foll = code[keep], day[keep], fol[keep], foll[keep]
            seg = Segments.of(code)
    return _Obs(len(ids), code, day, fol, foll, seg, ref, asd)


@dataclass(frozen=True)
class _Grid:
    """The history resampled to one row per day from each creator's first to last observation."""

    seg: Segments
    first_day: np.ndarray  # per segment: the day of its first row
    followers: np.ndarray
    prev_obs: np.ndarray  # day of the last observation at or before the row's day
    next_obs: np.ndarray  # day of the first observation at or after the row's day
    daily: np.ndarray  # change from the previous day (NaN on each creator's first day)
    obs_row: np.ndarray  # grid row of each observation

    def day_at(self, rows: np.ndarray) -> np.ndarray:
        """The day of each of ``rows`` (a few rows: no day column is kept for the grid)."""
        if len(self.seg) == 1:  # one creator's call: its segment starts on row 0
            return self.first_day[0] + rows
        seg = np.searchsorted(self.seg.starts, rows, side="right") - 1
        return self.first_day[seg] + (rows - self.seg.starts[seg])


def _daily_grid(obs: _Obs) -> _Grid:
    s = obs.seg
    if len(s) == 0:
        empty = np.zeros(0, dtype="int64")
        return _Grid(s, empty, np.zeros(0), empty, empty, np.zeros(0), empty)
    d0, d1 = obs.day[s.starts], obs.day[s.ends]
    lengths = d1 - d0 + 1
    if np.array_equal(lengths, s.lengths):
        # Every day observed (the common daily scrape): the grid is the observations.
        daily = lag(obs.followers, 1, s)
        np.subtract(obs.followers, daily, out=daily)
        rows = np.arange(len(obs.day), dtype="int64")
        return _Grid(s, d0, obs.followers, obs.day, obs.day, daily, rows)
    # Observation i owns the grid rows from its day up to the day before the next observation
    # (one row after a creator's last): a row's left observation is a running count of the
    # observation rows, and every per-row value is a gather of a per-observation one, from the
    # same operands, in the same order, as interpolating row by row between the observations
    # on either side.
    day_o, fol = obs.day, obs.followers
    gap = np.ones(len(day_o), dtype="int64")
    np.subtract(day_o[1:], day_o[:-1], out=gap[:-1])
    gap[s.ends] = 1
    obs_row = np.cumsum(gap)
    obs_row -= gap
    n = int(obs_row[-1]) + 1
    gstarts = obs_row[s.starts]
    grid_seg = Segments(gstarts, lengths, s.codes)
    at_obs = np.zeros(n, dtype="int64")
    at_obs[obs_row] = 1
    left = np.cumsum(at_obs)
    left -= 1
    nxt = np.arange(1, len(day_o) + 1)
    nxt[s.ends] -= 1  # a creator's last observation is its own next one
    prev_obs = day_o[left]
    # The row after an observation's own row looks ahead to the next observation.
    next_obs = day_o[nxt][left]
    next_obs[obs_row] = day_o
    # Interpolation weight: days since the left observation over days to the next, as floats
    # (what int64 true division computes); 0 / gap equals 0 / 1 on an observation's own row.
    weight = np.arange(n, dtype="float64")
    weight -= obs_row.astype("float64")[left]
    weight /= gap.astype("float64")[left]
    followers = (fol[nxt] - fol)[left]
    followers *= weight
    followers += fol[left]
    followers[obs_row] = fol + (fol - fol) * 0.0
    daily = np.empty(n)
    np.subtract(followers[1:], followers[:-1], out=daily[1:])
    daily[gstarts] = np.nan
    return _Grid(grid_seg, d0, followers, prev_obs, next_obs, daily, obs_row)


def _window_change(grid: _Grid, k: int) -> tuple[np.ndarray, np.ndarray]:
    """k-day change ending on each row and the level before it; NaN where not resolved.

    Resolved means the observations around the window are at most k + 1 days apart.
    """
    before = lag(grid.followers, k, grid.seg)
    change = grid.daily.copy() if k == 1 else grid.followers - before
    if grid.prev_obs is not grid.next_obs:  # some days interpolated: keep resolved windows only
        # Rows within k of a segment start have no level before (change NaN already), so the
        # span needs no blanking there: whole days, compared as the float lag would be.
        span = grid.next_obs[k:] - grid.prev_obs[: max(len(grid.prev_obs) - k, 0)]
        change[k:][span > k + 1] = np.nan
    return change, before


def _relative(change: np.ndarray, before: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before > 0, change / before, np.nan)


@dataclass(frozen=True)
class _Jump:
    """Each grid segment's largest 2-day jump (row -1 / NaN where none is resolved)."""

    end_row: np.ndarray  # last row of the 2-day window
    day_row: np.ndarray  # the day inside the window with the larger 1-day change
    size: np.ndarray
    rel: np.ndarray
    rel_1d: np.ndarray  # per grid row, for reuse by the caller
    change_1d: np.ndarray
    rel_2d: np.ndarray


def _largest_jump(grid: _Grid) -> _Jump:
    d1, b1 = _window_change(grid, 1)
    d2, b2 = _window_change(grid, 2)
    r1, r2 = _relative(d1, b1), _relative(d2, b2)
    end = grid.seg.first_argmax(r2)
    has = end >= 0
    size = np.full(len(end), np.nan)
    rel = np.full(len(end), np.nan)
    day_row = np.full(len(end), -1, dtype="int64")
    e = end[has]
    size[has], rel[has] = d2[e], r2[e]
    # The jump's date: the day of the window whose own change was larger (the later on ties or
    # when the day is not resolved, since the window ends there).
    prev_d1 = np.where(np.isfinite(d1[e - 1]), d1[e - 1], -np.inf)
    day_row[has] = np.where(prev_d1 > np.nan_to_num(d1[e], nan=-np.inf), e - 1, e)
    return _Jump(end, day_row, size, rel, r1, d1, r2)


def _round_distance(excess: np.ndarray) -> np.ndarray:
    """Relative distance of each value to the nearest package size; NaN below the smallest."""
    out = np.full(len(excess), np.nan)
    ok = np.isfinite(excess) & (excess >= MIN_PACKAGE)
    x = excess[ok]
    scale = 10.0 ** np.floor(np.log10(x))
    candidates = scale[:, None] * PACKAGE_MANTISSAS[None, :]
    out[ok] = np.min(np.abs(x[:, None] - candidates), axis=1) / x
    return out


def _runs(flag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start row and length of every run of consecutive True values."""
    padded = np.concatenate([[False], flag, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[::2], edges[1::2] - edges[::2]


@dataclass(frozen=True)
class PreparedHistory:
    """The follower history cleaned, resampled daily and its largest jumps found, for one
    creator index and as_of; :func:`prepare_history` makes it once for both the growth and the
    engagement builder (``features.build`` does), which would otherwise each make it."""

    ids: pd.Index
    obs: _Obs
    grid: _Grid
    jump: _Jump
    # The as_of it was made for: the engagement builder reuses its day numbers when handed the
    # same object.
    as_of: pd.Series | None = None


def prepare_history(
    history: pd.DataFrame | None, creators: pd.DataFrame, as_of: pd.Series | None
) -> PreparedHistory:
    """Clean, resample and find the largest jumps of ``history`` for ``creators`` up to as_of."""
    ids = creator_index(creators)
    obs = _observations(history, ids, as_of)
    grid = _daily_grid(obs)
    return PreparedHistory(ids, obs, grid, _largest_jump(grid), as_of)


def _prepared(
    prepared: PreparedHistory | None,
    history: pd.DataFrame | None,
    creators: pd.DataFrame,
    as_of: pd.Series | None,
) -> PreparedHistory:
    """``prepared`` when it was made for these creators, else a new one."""
    matching = _matching(prepared, creators)
    return matching if matching is not None else prepare_history(history, creators, as_of)


def _matching(prepared: PreparedHistory | None, creators: pd.DataFrame) -> PreparedHistory | None:
    """``prepared`` when it was made for these creators (same ids in order), else None."""
    if prepared is None:
        return None
    ids = prepared.ids
    values = creators["creator_id"].to_numpy(dtype=object)
    if len(ids) != len(values):
        return None
    try:
        # Equal cells are equal ids: a check of the arrays, without building the Index
        # creator_index would (which costs more than the check for a handful of creators).
        same = bool((ids.to_numpy() == values).all())
    except TypeError:  # cells that do not compare as bools (pd.NA): the Index decides
        same = False
    return prepared if same or ids.equals(creator_index(creators)) else None


def growth_features(
    history: pd.DataFrame | None,
    creators: pd.DataFrame,
    as_of: pd.Series,
    *,
    prepared: PreparedHistory | None = None,
) -> pd.DataFrame:
    """Follower-growth curve features, one row per creator.

    Parameters
    ----------
    history : DataFrame or None
        The loaded ``follower_history`` table (creator_id, date, followers, following).
    creators : DataFrame
        The loaded ``creators`` table; the output has its creators in its order.
    as_of : Series
        Snapshot day per creator_id; history rows dated after it are ignored. A creator without
        an as_of uses all its rows and measures "days ago" from its last observation.
    prepared : PreparedHistory, optional
        ``prepare_history(history, creators, as_of)`` when already made; made here otherwise.

    Returns
    -------
    DataFrame
        Indexed by creator_id, the columns of ``FEATURES`` in order, float64; NaN where the
        history cannot tell (all NaN for a creator without history rows).

    Examples
    --------
    >>> creators = pd.DataFrame({"creator_id": ["a"], "followers": [12_000.0]})
    >>> days = pd.date_range("2024-01-01", periods=5)
    >>> history = pd.DataFrame({"creator_id": "a", "date": days,
    ...                         "followers": [2000.0, 2000, 12000, 12010, 12020],
    ...                         "following": 300.0})
    >>> out = growth_features(history, creators, pd.Series({"a": days[-1]}))
    >>> out.loc["a", ["growth_max_jump_1d_rel", "growth_max_jump_days_ago"]].tolist()
    [5.0, 2.0]
    """
    prep = _prepared(prepared, history, creators, as_of)
    ids, obs, grid = prep.ids, prep.obs, prep.grid
    block = np.full((len(_NAMES), len(ids)), np.nan)
    gs = grid.seg
    if len(gs) == 0:
        return block_frame(block, _COLUMNS, ids)
    codes = gs.codes

    def put(name: str, per_segment: np.ndarray) -> None:
        block[_ROW[name], codes] = per_segment

    s = obs.seg
    ends = gs.ends
    f_end = grid.followers[ends]
    span = (gs.lengths - 1).astype("float64")
    last_day = grid.prev_obs[ends]  # a segment ends on an observation
    ref = obs.ref_day[gs.codes]

    put("growth_n_points", s.lengths.astype("float64"))
    put("growth_span_days", span)
    put("growth_last_obs_days_ago", (ref - last_day).astype("float64"))
    put("growth_interp_share", 1.0 - s.lengths / gs.lengths)
    gaps = lag(obs.day.astype("float64"), 1, s)
    gaps = obs.day - gaps
    put("growth_max_gap_days", s.max(gaps))

    # Growth over the last k days observed (windows end at the last observation, not as_of):
    # the level k days before each segment's end, for the four k at once; NaN when too short.
    lags = np.array([[7], [30], [60], [90]])
    ok = gs.lengths > lags
    f7, f30, f60, f90 = np.where(ok, grid.followers[np.where(ok, ends - lags, 0)], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = {
            k: np.where(b > 0, f_end / b - 1.0, np.nan) for k, b in ((7, f7), (30, f30), (90, f90))
        }
        prev30 = np.where(f60 > 0, f30 / f60 - 1.0, np.nan)
    put("growth_7d_rel", rel[7])
    put("growth_30d_rel", rel[30])
    put("growth_90d_rel", rel[90])
    put("growth_accel_30d", rel[30] - prev30)

    jump = prep.jump
    d7, b7 = _window_change(grid, 7)
    put("growth_max_jump_1d_rel", gs.max(jump.rel_1d))
    put("growth_max_jump_2d_rel", jump.rel)
    put("growth_max_jump_7d_rel", gs.max(_relative(d7, b7)))
    put("growth_max_jump_abs", jump.size)

    # The creator's own normal daily change, from every day of the resampled curve; with it,
    # in the same median call, the medians the drip and following features need.
    daily = grid.daily
    drip = _drip_cv(grid, obs)
    fk = _known_following(obs)
    med, drip_med, foll_med = _medians((gs, daily), (drip.seg, drip.cv), (fk[2], fk[1]))
    typical = np.full(len(gs), np.nan)
    typical[drip.seg.codes] = drip_med
    med_rows = gs.spread(med)
    (mad,) = _medians((gs, np.abs(daily - med_rows)))
    scale = np.maximum(MAD_SCALE * mad, NOISE_FLOOR_REL * np.maximum(f_end, 1.0))
    put("growth_max_jump_z", (jump.size - 2.0 * med) / (np.sqrt(2.0) * scale))
    has = jump.end_row >= 0
    days_ago = np.full(len(gs), np.nan)
    days_ago[has] = ref[has] - grid.day_at(jump.day_row[has])
    put("growth_max_jump_days_ago", days_ago)
    excess_1d = np.full(len(gs), np.nan)
    excess_1d[has] = jump.change_1d[jump.day_row[has]] - med[has]
    put(
        "growth_max_jump_round_dist",
        # One call for both excesses: the distance is worked out value by value.
        np.fmin(*np.split(_round_distance(np.concatenate([excess_1d, jump.size - 2.0 * med])), 2)),
    )

    # Step jumps: resolved days far above the creator's normal change; adjacent days are one event.
    excess = jump.change_1d - med_rows  # change above the normal daily change
    step = excess > STEP_Z * gs.spread(scale)
    starts = step.copy()
    starts[1:] &= ~step[:-1]
    starts[gs.starts] = step[gs.starts]
    n_steps = gs.count(starts)
    # Without a single resolved day there is nothing to judge: unknown, not "no steps".
    judged = gs.count(np.isfinite(jump.change_1d)) > 0
    put("growth_step_count", np.where(judged, n_steps, np.nan))
    excess = np.where(step, excess, 0.0)
    with np.errstate(invalid="ignore"):
        total_rel = gs.sum(excess) / np.where(f_end > 0, f_end, np.nan)
        put("growth_step_total_rel", np.where(judged, total_rel, np.nan))
    put("growth_step_size_cv", _step_size_cv(gs, step, starts, excess, n_steps))

    # Purge: the deepest fall, within PURGE_DAYS after the jump, below where the curve would be
    # had it gone on at the creator's normal daily change from the jump's end level.
    # One row per creator, one column per day after the jump: small, whatever the history.
    after = np.arange(1, PURGE_DAYS + 1)
    rows = jump.end_row[:, None] + after[None, :]
    inside = has[:, None] & (rows <= ends[:, None])
    top = grid.followers[np.maximum(jump.end_row, 0)]
    deficit = (
        top[:, None] + med[:, None] * after[None, :] - grid.followers[np.where(inside, rows, 0)]
    )
    with np.errstate(invalid="ignore"):
        lost = np.maximum(np.fmax.reduce(np.where(inside, deficit, np.nan), axis=1), 0.0)
    excess_2d = jump.size - 2.0 * med
    with np.errstate(invalid="ignore", divide="ignore"):
        put("growth_purge_share", np.where(has & (excess_2d > 0), lost / excess_2d, np.nan))

    _drip(grid, f_end, drip, typical, put)
    _following(obs, fk, foll_med, put)
    return block_frame(block, _COLUMNS, ids)


def _step_size_cv(
    gs: Segments, step: np.ndarray, starts: np.ndarray, excess: np.ndarray, n_steps: np.ndarray
) -> np.ndarray:
    """Per creator, the coefficient of variation (ddof=0) of its step events' sizes."""
    if not starts.any():  # no step at all (the usual case): no creator has two
        return np.full(len(gs), np.nan)
    rows = np.flatnonzero(step)
    event = np.cumsum(starts)[rows] - 1  # event number of each step day
    n_events = int(starts.sum())
    size = np.bincount(event, weights=excess[rows], minlength=n_events)
    first = np.flatnonzero(starts)
    owner = np.searchsorted(gs.starts, first, side="right") - 1
    total = np.bincount(owner, weights=size, minlength=len(gs))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n_steps
        sq = np.bincount(owner, weights=(size - mean[owner]) ** 2, minlength=len(gs))
        return np.where((n_steps >= 2) & (mean > 0), np.sqrt(sq / n_steps) / mean, np.nan)


@dataclass(frozen=True)
class _DripCV:
    """The drip windows' coefficients of variation where known, by grid segment.

    ``seg`` groups ``rows`` (ascending grid rows) and ``cv`` (the CV of the DRIP_WINDOW daily
    gains ending on each) by grid segment; its codes are grid segment numbers. Every other row
    of the grid has no known CV (NaN): its window holds a gain that is not a real daily change.
    """

    rows: np.ndarray
    cv: np.ndarray
    seg: Segments


_ZERO = np.zeros(1, dtype="int64")
_NONE = np.zeros(0, dtype="int64")
_NO_DRIP = _DripCV(_NONE, np.zeros(0), Segments(_NONE, _NONE, _NONE))


def _drip_cv(grid: _Grid, obs: _Obs) -> _DripCV:
    """Coefficient of variation of the daily gains over the DRIP_WINDOW rows ending on each row.

    Only real daily changes count (both days observed): interpolation across a gap makes
    perfectly constant increments that are not evidence of anything. So a window is known only
    where DRIP_WINDOW + 1 consecutive days are observations, found from the observations alone,
    and the CV is worked out for those windows only (a few of the grid's rows when sampling has
    gaps), with the same operations, in the same order, as over every row of the grid.
    """
    w = DRIP_WINDOW
    s, day = obs.seg, obs.day
    # A real gain on an observation: the previous observation is the same creator's, a day before.
    real = np.zeros(len(day), dtype=bool)
    np.equal(day[1:] - day[:-1], 1, out=real[1:])
    real[s.starts] = False
    run_start, run_len = _runs(real)
    keep = run_len >= w
    if not keep.any():  # no DRIP_WINDOW + 1 days observed in a row
        return _NO_DRIP
    run_start, run_len = run_start[keep], run_len[keep]
    n_win = run_len - (w - 1)
    total = int(n_win.sum())
    first = np.cumsum(n_win) - n_win
    # Each window's last observation: the w-th to the last of its run of real gains.
    last = np.repeat(run_start + (w - 1) - first, n_win) + np.arange(total)
    rows = grid.obs_row[last]
    # The window's gains, newest first, one row per position in the window: one gather.
    gains = grid.daily[rows[None, :] - np.arange(w)[:, None]]
    # The rolling mean and SD in two passes, summed in the same order as over shifted views of
    # every row (no cumulative sums: no cancellation error, results that depend on the window's
    # rows only).
    mean = gains[0].copy()
    for j in range(1, w):
        mean += gains[j]
    mean /= w
    np.subtract(gains, mean, out=gains)
    np.multiply(gains, gains, out=gains)
    var = gains[0].copy()  # 0.0 + a square is the square
    for j in range(1, w):
        var += gains[j]
    with np.errstate(divide="ignore", invalid="ignore"):
        np.sqrt(var / w, out=var)
        np.divide(var, mean, out=var)
        known = mean > 0
    if not known.all():
        rows, var = rows[known], var[known]
    gs = grid.seg
    if len(rows) == 0:
        return _NO_DRIP
    if len(gs) == 1:  # one creator's call
        return _DripCV(rows, var, Segments(_ZERO, np.array([len(rows)]), _ZERO))
    owner = np.searchsorted(gs.starts, rows, side="right") - 1
    return _DripCV(rows, var, Segments.of(owner))


def _drip(grid: _Grid, f_end: np.ndarray, drip: _DripCV, typical: np.ndarray, put) -> None:
    """Drip-feed signature: the longest run of unusually steady positive daily gains.

    ``drip`` is :func:`_drip_cv` of the grid and ``typical`` its median per grid segment.
    """
    gs = grid.seg
    ds = drip.seg
    flag = (drip.cv <= DRIP_CV_MAX) & (drip.cv <= DRIP_CV_REL * ds.spread(typical[ds.codes]))
    flagged = drip.rows[flag]
    days = np.zeros(len(gs))
    gained = np.zeros(len(gs))
    if len(flagged):
        # Runs of flagged rows that follow each other in the grid.
        breaks = np.flatnonzero(flagged[1:] != flagged[:-1] + 1) + 1
        bounds = np.concatenate([[0], breaks, [len(flagged)]])
        run_start, run_len = flagged[bounds[:-1]], np.diff(bounds)
        run_seg = np.searchsorted(gs.starts, run_start, side="right") - 1
        order = np.lexsort((run_start, -run_len, run_seg))
        best = order[np.concatenate([[True], run_seg[order][1:] != run_seg[order][:-1]])]
        first, last = run_start[best], run_start[best] + run_len[best] - 1
        days[run_seg[best]] = run_len[best] + DRIP_WINDOW - 1
        gained[run_seg[best]] = grid.followers[last] - grid.followers[first - DRIP_WINDOW]
    any_window = np.isfinite(typical)
    low = np.full(len(gs), np.nan)
    if len(ds):
        low[ds.codes] = ds.min(drip.cv)
    with np.errstate(divide="ignore", invalid="ignore"):
        put("growth_drip_days", np.where(any_window, days, np.nan))
        put("growth_drip_gain_rel", np.where(any_window & (f_end > 0), gained / f_end, np.nan))
        put("growth_drip_cv_ratio", np.where(typical > 0, low / typical, np.nan))


def _known_following(obs: _Obs) -> tuple[np.ndarray | None, np.ndarray, Segments, np.ndarray]:
    """The observations with a following count: their rows (None: all), following counts,
    segments and creator codes."""
    known = np.isfinite(obs.following)
    if known.all():
        return None, obs.following, obs.seg, obs.code
    rows = np.flatnonzero(known)
    code = obs.code[rows]
    return rows, obs.following[rows], Segments.of(code), code


def _following(obs: _Obs, known: tuple, med: np.ndarray, put) -> None:
    """Follow/unfollow automation: reversals and range of the following count.

    ``known`` is :func:`_known_following` of ``obs`` and ``med`` the median following count
    per segment of it.
    """
    s = obs.seg
    rows, foll, ks, code = known
    flips = np.zeros(len(s))
    changes = np.zeros(len(s))
    n_known = np.zeros(len(s))
    ratio = np.full(len(s), np.nan)
    range_rel = np.full(len(s), np.nan)
    if len(ks):
        where = np.searchsorted(s.codes, ks.codes)
        step = foll - lag(foll, 1, ks)
        moved_mask = np.isfinite(step) & (step != 0)
        moved = np.flatnonzero(moved_mask)
        # Direction reversals between consecutive non-zero changes of the same creator.
        sign = step[moved] > 0
        mc = code[moved]
        flip_mask = np.zeros(len(step), dtype=bool)
        flip_mask[moved[1:][(sign[1:] != sign[:-1]) & (mc[1:] == mc[:-1])]] = True
        flips[where] = ks.count(flip_mask)
        changes[where] = np.maximum(ks.count(moved_mask) - 1.0, 0.0)
        n_known[where] = ks.lengths
        last = ks.ends if rows is None else rows[ks.ends]
        fl = obs.followers[last]
        with np.errstate(divide="ignore", invalid="ignore"):
            range_rel[where] = np.where(med > 0, (ks.max(foll) - ks.min(foll)) / med, np.nan)
            # Ratio at the last observation that has a following count.
            ratio[where] = np.where(fl > 0, foll[ks.ends] / fl, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Needs three known counts to see a reversal; no moves at all is a flip share of 0.
        share = np.where(n_known >= 3, np.where(changes > 0, flips / changes, 0.0), np.nan)
    put("growth_following_flip_share", share)
    put("growth_following_range_rel", range_rel)
    put("growth_following_ratio", ratio)


def _followers_at_obs(
    obs: _Obs, codes: np.ndarray, days: np.ndarray, max_extrapolation_days
) -> np.ndarray:
    """Followers of creator ``codes`` at fractional ``days``, by linear interpolation.

    ``max_extrapolation_days`` is one limit for all points or one per point: every point is
    answered on its own, so one call for several sets of points gives each set's answers.
    """
    out = np.full(len(codes), np.nan)
    if len(obs.code) == 0 or len(codes) == 0:
        return out
    ok = (codes >= 0) & np.isfinite(days)
    # The last observation at or before each point: an observation's whole day is at or before
    # the point's time exactly when it is at or before the point's day, so one exact search on
    # whole (creator, day) keys finds it, whatever the creator's code (hence however creators
    # are chunked).
    whole = np.floor(days, where=ok, out=np.zeros(len(days)))
    qkey = (codes << 32) + (whole.astype("int64") + 2**31)
    left = np.searchsorted(obs.int_key, qkey, side="right") - 1
    n = len(obs.code)
    lc = np.minimum(np.maximum(left, 0), n - 1)
    rc = np.minimum(np.maximum(left + 1, 0), n - 1)
    has_l = ok & (left >= 0) & (obs.code[lc] == codes)
    has_r = ok & (left + 1 < n) & (obs.code[rc] == codes)
    dl, dr = obs.day[lc], obs.day[rc]
    fl, fr = obs.followers[lc], obs.followers[rc]
    both = has_l & has_r
    w = (days - dl) / np.maximum(dr - dl, 1)
    out[both] = (fl + (fr - fl) * w)[both]
    exact = has_l & (days == dl)
    out[exact] = fl[exact]
    tail = has_l & ~has_r & ~exact & (days - dl <= max_extrapolation_days)
    out[tail] = fl[tail]
    head = has_r & ~has_l & (dr - days <= max_extrapolation_days)
    out[head] = fr[head]
    return out


def followers_at(
    history: pd.DataFrame | None,
    creator_ids,
    times,
    as_of: pd.Series | None = None,
    max_extrapolation_days: float = 30.0,
) -> np.ndarray:
    """Followers interpolated at arbitrary (creator, time) points.

    Parameters
    ----------
    history : DataFrame or None
        The loaded ``follower_history`` table.
    creator_ids : array-like of str
        One creator per query point.
    times : array-like of datetime64
        One time per query point (dates or timestamps; the time of day is used).
    as_of : Series, optional
        Snapshot day per creator_id; later history rows are ignored.
    max_extrapolation_days : float
        Before the first or after the last observation the nearest count is used up to this many
        days away; further out the answer is NaN.

    Returns
    -------
    ndarray of float64, NaN where the history cannot tell.

    Examples
    --------
    >>> h = pd.DataFrame({"creator_id": ["a", "a"], "followers": [100.0, 200.0],
    ...                   "date": pd.to_datetime(["2024-01-01", "2024-01-11"])})
    >>> followers_at(h, ["a", "a", "b"], pd.to_datetime(["2024-01-06", "2024-03-01", "2024-01-06"]))
    array([150.,  nan,  nan])
    """
    ids_arr = np.asarray(creator_ids, dtype=object)
    ids = pd.Index(pd.unique(ids_arr), name="creator_id")
    obs = _observations(history, ids, as_of)
    codes = ids.get_indexer(ids_arr).astype("int64")
    return _followers_at_obs(obs, codes, fractional_days(times), max_extrapolation_days)


def _jump_table(obs: _Obs, ids: pd.Index) -> pd.DataFrame:
    grid = _daily_grid(obs)
    jump = _largest_jump(grid)
    gs = grid.seg
    day = np.full(len(gs), np.nan)
    has = jump.day_row >= 0
    day[has] = grid.day_at(jump.day_row[has])
    n = len(ids)
    day_all = gs.scatter(day, n)
    dates = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = np.isfinite(day_all)
    dates[ok] = day_all[ok].astype("int64").astype("datetime64[D]").astype("datetime64[ns]")
    return pd.DataFrame(
        {"date": dates, "size": gs.scatter(jump.size, n), "rel": gs.scatter(jump.rel, n)},
        index=ids,
    )


def largest_jump(
    history: pd.DataFrame | None, creator_ids, as_of: pd.Series | None = None
) -> pd.DataFrame:
    """Each creator's largest resolved 2-day follower jump: its day, size and relative size.

    The jump is the same one the growth features describe (``growth_max_jump_*``); its ``date``
    is the day within the 2-day window with the larger 1-day change.

    Parameters
    ----------
    history : DataFrame or None
        The loaded ``follower_history`` table.
    creator_ids : array-like of str
        Creators to report, in output order.
    as_of : Series, optional
        Snapshot day per creator_id; later history rows are ignored.

    Returns
    -------
    DataFrame indexed by creator_id with ``date`` (datetime64, NaT when no jump is resolved),
    ``size`` (followers) and ``rel`` (fraction of the level before), NaN when unknown.
    """
    ids = pd.Index(np.asarray(creator_ids, dtype=object), name="creator_id")
    return _jump_table(_observations(history, ids, as_of), ids)
