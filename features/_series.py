"""Private segment helpers for the growth and engagement builders.

Rows are sorted by creator code so that each creator is one contiguous *segment*; per-creator
statistics are then NumPy segment reductions (``np.add.reduceat`` and friends), and medians come
from a row-wise sorted block. A segment's result depends on its own rows only, which is what makes
the builders partition-safe: any chunk of whole creators gives the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "DAY_NS",
    "NO_AS_OF",
    "Segments",
    "as_of_days",
    "creator_codes",
    "creator_index",
    "day_numbers",
    "feature_frame",
    "fractional_days",
    "grouped_lexsort",
    "lag",
    "run_lengths",
    "run_starts",
]

DAY_NS = 86_400 * 10**9
# Day number used for a creator whose as_of is unknown: later than any real date, so nothing is
# cut off; the builders then measure "days ago" from the creator's latest row instead.
NO_AS_OF = np.int64(2**40)
# Segments.median lays out at most this many cells as a single padded block.
_ONE_BLOCK_CELLS = 1 << 16


def creator_index(creators: pd.DataFrame) -> pd.Index:
    """The output index: ``creators["creator_id"]`` in input order, named ``creator_id``."""
    return pd.Index(creators["creator_id"].to_numpy(dtype=object), name="creator_id")


def frame_dtypes(frame: pd.DataFrame) -> list:
    """``frame.dtypes`` as a list, one per column, without building a Series.

    The Series (~15 us) was a tenth of scoring one creator; the frame's blocks know the dtypes.
    """
    get = getattr(getattr(frame, "_mgr", None), "get_dtypes", None)
    if get is None:  # pragma: no cover (a pandas release without it)
        return frame.dtypes.tolist()
    return get().tolist()


def stored(frame: pd.DataFrame, name: str) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """The array ``frame`` stores for column ``name`` (read only, not copied).

    Taking a Series out of a fresh frame and unwrapping it costs about 10 us a column, a good
    share of a one-creator call reading a dozen columns; pandas' accessor of a block's column
    hands the stored array over without a Series. The Series route remains for a frame without
    the accessor or with ``name`` on several columns.
    """
    at = frame.columns.get_loc(name)
    get = getattr(frame, "_get_column_array", None)
    if get is None or not isinstance(at, int):
        return frame[name].array
    return get(at)


def stored_values(frame: pd.DataFrame, name: str, dtype: object = None) -> np.ndarray:
    """``frame[name].to_numpy(dtype)``, from the stored array (no copy of a NumPy column)."""
    raw = stored(frame, name)
    # What Series.to_numpy does: NumPy dtypes (datetimes included) as they are stored.
    if isinstance(raw.dtype, np.dtype):
        return np.asarray(raw, dtype=dtype)
    return raw.to_numpy(dtype=dtype)


def feature_frame(columns: dict, names, index: pd.Index) -> pd.DataFrame:
    """A float64 frame with the columns ``names`` in order, one block built in one step.

    ``columns`` maps a name to one value per row (or a scalar); names it lacks are NaN. Filling
    one 2-D array and wrapping it costs a fraction of a frame built from a dict, or of one
    ``frame[name] = ...`` per column, when there are a few rows: that fixed cost is what a call
    for a handful of creators pays, and it does not grow with the rows. ``names`` given as a
    ``pd.Index`` (built once by the caller) saves building one from the names on every call.
    """
    labels = names.view() if isinstance(names, pd.Index) else pd.Index(list(names))
    block = np.full((len(labels), len(index)), np.nan)
    for j, name in enumerate(labels):
        if name in columns:
            block[j] = columns[name]
    return block_frame(block, labels, index)


def block_frame(block: np.ndarray, columns: pd.Index, ids: pd.Index) -> pd.DataFrame:
    """Wrap a (columns, rows) float64 block as a feature frame, without copying it.

    For builders that fill the block in place: one NaN block and a prebuilt columns Index cost
    a fraction of a NaN array per column, their copy into a block and a columns Index made from
    the names on every call, which is most of a call for a handful of creators. Each frame gets
    its own view of the Index, so renaming one frame's columns never touches another's.
    """
    # The transposed view: pandas keeps a (columns, rows) block, so no copy is made.
    return pd.DataFrame(block.T, index=ids, columns=columns.view(), copy=False)


def run_starts(values: np.ndarray) -> np.ndarray | None:
    """First row of each run of equal neighbours in an object array, or None when runs do not
    pay: fewer than two rows, not object dtype, cells that do not compare (``pd.NA``), or more
    than half as many runs as rows."""
    if values.dtype != object or len(values) < 2:
        return None
    try:
        change = np.empty(len(values), dtype=bool)
        change[0] = True
        np.not_equal(values[1:], values[:-1], out=change[1:])
    except TypeError:  # cells that cannot be compared as bools (pd.NA)
        return None
    starts = np.flatnonzero(change)
    return None if len(starts) * 2 > len(values) else starts


def run_lengths(starts: np.ndarray, n: int) -> np.ndarray:
    """Rows in each run, from the runs' first rows (:func:`run_starts`) and the row count."""
    return np.diff(np.append(starts, n))


# Up to this many (run, creator) pairs, creator codes come from comparing ids directly.
_COMPARE_CELLS = 256


def creator_codes(ids: pd.Index, values: pd.Series | np.ndarray) -> np.ndarray:
    """``ids.get_indexer(values)`` as int64 (-1: not in ``ids``), one look-up per run of rows.

    Contract tables list a creator's rows together, so millions of rows hold only as many runs
    of equal ids as there are creators: comparing neighbours and looking up the first id of each
    run costs a fraction of hashing every row's str. Any row order gives the same codes.

    With few runs and creators (one HTTP request's), the runs' first ids are compared with the
    creators' directly: ``Index.get_indexer`` costs tens of microseconds a call whatever the
    size. A run equal to no creator by ``==`` (unknown, or a missing id) is looked up as
    before, and so is everything when ``ids`` is not unique (the look-up refuses it) or the ids
    do not compare as bools (``pd.NA``).
    """
    arr = values.to_numpy() if isinstance(values, pd.Series | pd.Index) else np.asarray(values)
    starts = run_starts(arr)
    heads = arr if starts is None else arr[starts]
    codes = _compared(ids, heads) if 0 < len(heads) * len(ids) <= _COMPARE_CELLS else None
    if codes is None:
        codes = ids.get_indexer(heads).astype("int64", copy=False)
    return codes if starts is None else np.repeat(codes, run_lengths(starts, len(arr)))


def _compared(ids: pd.Index, heads: np.ndarray) -> np.ndarray | None:
    """Codes of ``heads`` in ``ids`` by direct comparison, or None where that does not apply."""
    if not ids.is_unique:
        return None
    try:
        equal = heads[:, None] == ids.to_numpy()[None, :]
    except TypeError:  # cells that cannot be compared as bools (pd.NA)
        return None
    if not isinstance(equal, np.ndarray) or equal.dtype != bool or equal.ndim != 2:
        return None
    found = equal.any(axis=1)
    codes = equal.argmax(axis=1).astype("int64")
    if not found.all():
        codes[~found] = ids.get_indexer(heads[~found])
    return codes


def grouped_lexsort(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """``np.lexsort(keys)`` (last key primary), sorting only the groups that need it.

    Contract tables list each creator's rows together and in time order, so with the creator
    code as primary key and a time as the next one, most groups are already in order, or in
    exactly reverse order (newest first wanted). Such groups keep or reverse their rows; the
    others are lexsorted on their own. A stable sort restricted to one group of equal primary
    keys orders it as the full sort does, and a strictly monotonic secondary key leaves no tie,
    so the permutation is exactly ``np.lexsort``'s.
    """
    primary = keys[-1]
    n = len(primary)
    if len(keys) < 2 or n < 2 or not np.all(primary[1:] >= primary[:-1]):
        return np.lexsort(keys)
    second = keys[-2]
    same = primary[1:] == primary[:-1]
    up = (second[1:] > second[:-1]) | ~same
    down = (second[1:] < second[:-1]) | ~same
    if up.all():
        return np.arange(n)
    seg = Segments.of(primary)
    # Breaks within a group per group: none up = ascending group, none down = descending.
    not_up = seg.count(np.append(~up, False)) > 0
    not_down = seg.count(np.append(~down, False)) > 0
    order = np.arange(n)
    flip = np.flatnonzero(not_up & ~not_down)
    if len(flip):
        lengths = seg.lengths[flip]
        j = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        order[np.repeat(seg.starts[flip], lengths) + j] = np.repeat(seg.ends[flip], lengths) - j
    mixed = np.flatnonzero(not_up & not_down)
    if len(mixed):
        lengths = seg.lengths[mixed]
        j = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows = np.repeat(seg.starts[mixed], lengths) + j
        order[rows] = rows[np.lexsort(tuple(k[rows] for k in keys))]
    return order


def day_numbers(values) -> np.ndarray:
    """Whole days since 1970-01-01 (int64, floor) of datetime-like values; NaT -> ``NO_AS_OF``."""
    ns = np.asarray(values, dtype="datetime64[ns]").view("int64")
    nat = ns == np.iinfo(np.int64).min
    days = np.floor_divide(ns, DAY_NS)
    return np.where(nat, NO_AS_OF, days)


def fractional_days(values) -> np.ndarray:
    """Days since 1970-01-01 as float64, keeping the time of day; NaT -> NaN."""
    ns = np.asarray(values, dtype="datetime64[ns]").view("int64")
    out = ns / DAY_NS
    out[ns == np.iinfo(np.int64).min] = np.nan
    return out


def as_of_days(as_of: pd.Series | None, ids: pd.Index) -> np.ndarray:
    """Snapshot day number per creator in ``ids`` order; unknown -> ``NO_AS_OF`` (no cut-off)."""
    if as_of is None:
        return np.full(len(ids), NO_AS_OF, dtype="int64")
    aligned = as_of.reindex(ids)
    return day_numbers(aligned.to_numpy(dtype="datetime64[ns]"))


@dataclass(frozen=True)
class Segments:
    """Contiguous segments of rows, one per creator present, in creator-code order.

    Attributes
    ----------
    starts : first row of each segment.
    lengths : rows in each segment.
    codes : creator code (position in the output index) of each segment.
    """

    starts: np.ndarray
    lengths: np.ndarray
    codes: np.ndarray

    @classmethod
    def of(cls, sorted_codes: np.ndarray) -> Segments:
        """Segments of a code array that is already sorted."""
        n = len(sorted_codes)
        if n == 0:
            empty = np.zeros(0, dtype="int64")
            return cls(empty, empty, empty)
        breaks = np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1
        starts = np.concatenate([[0], breaks]).astype("int64")
        lengths = np.diff(np.concatenate([starts, [n]])).astype("int64")
        return cls(starts, lengths, sorted_codes[starts].astype("int64"))

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def n_rows(self) -> int:
        return int(self.lengths.sum())

    @property
    def ends(self) -> np.ndarray:
        """Last row of each segment."""
        return self.starts + self.lengths - 1

    def row_segment(self) -> np.ndarray:
        """Segment number of every row."""
        return np.repeat(np.arange(len(self), dtype="int64"), self.lengths)

    def offset(self) -> np.ndarray:
        """Position of every row within its segment."""
        return np.arange(self.n_rows, dtype="int64") - np.repeat(self.starts, self.lengths)

    def spread(self, per_segment: np.ndarray) -> np.ndarray:
        """Repeat one value per segment onto the segment's rows."""
        return np.repeat(per_segment, self.lengths)

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Sum per segment, NaN counted as 0."""
        if len(self) == 0:
            return np.zeros(0)
        values = np.asarray(values, dtype="float64")
        return np.add.reduceat(np.where(np.isnan(values), 0.0, values), self.starts)

    def count(self, mask: np.ndarray) -> np.ndarray:
        """True rows per segment, as float64."""
        if len(self) == 0:
            return np.zeros(0)
        return np.add.reduceat(mask, self.starts, dtype="int64").astype("float64")

    def max(self, values: np.ndarray) -> np.ndarray:
        """Max per segment ignoring NaN; NaN when the segment has no value."""
        if len(self) == 0:
            return np.zeros(0)
        return np.fmax.reduceat(np.asarray(values, dtype="float64"), self.starts)

    def min(self, values: np.ndarray) -> np.ndarray:
        """Min per segment ignoring NaN; NaN when the segment has no value."""
        if len(self) == 0:
            return np.zeros(0)
        return np.fmin.reduceat(np.asarray(values, dtype="float64"), self.starts)

    def median(self, values: np.ndarray) -> np.ndarray:
        """Median per segment ignoring NaN; NaN when the segment has no value.

        Segments of similar length are laid out as rows of a NaN-padded 2-D block and sorted
        row-wise (NaN sorts last), which is several times faster than a group-by median. The
        loop runs over distinct block widths (a few), never over creators.
        """
        out = np.full(len(self), np.nan)
        if len(self) == 0:
            return out
        values = np.asarray(values, dtype="float64")
        if len(self) == 1:  # one creator's call: the block's one row, sorted as it is
            ordered = np.sort(values)
            count = len(ordered) - int(np.count_nonzero(np.isnan(ordered)))
            if count:
                out[0] = (ordered[(count - 1) // 2] + ordered[count // 2]) / 2.0
            return out
        lengths = self.lengths
        longest = int(lengths.max())
        if len(self) * longest <= _ONE_BLOCK_CELLS:
            # Few rows (a call for a handful of creators): one block as wide as the longest
            # segment, one sort, instead of one pass per distinct length. Padding never changes
            # a median, only the work.
            width = np.full(len(self), longest)
        elif len(np.unique(lengths)) <= 32:
            width = lengths
        else:  # pad each segment up to the next power of two: at most twice the data
            width = 2 ** np.ceil(np.log2(np.maximum(lengths, 1))).astype("int64")
        widths = np.unique(width)
        # Rows of the block are windows of the values padded with NaN at the end: picking
        # windows copies each row at once, with no (segments x width) index array to build.
        padded = np.concatenate([values, np.full(int(widths[-1]), np.nan)])
        for w in widths:
            segs = np.flatnonzero(width == w)
            block = sliding_window_view(padded, int(w))[self.starts[segs]]
            short = lengths[segs] < w
            if short.any():  # cells past a segment's end: NaN, which sorts last
                block[np.arange(w)[None, :] >= lengths[segs][:, None]] = np.nan
            block.sort(axis=1)
            count = w - np.isnan(block).sum(axis=1)
            rows = np.arange(len(segs))
            lo = block[rows, np.maximum((count - 1) // 2, 0)]
            hi = block[rows, np.minimum(count // 2, w - 1)]
            out[segs] = np.where(count > 0, (lo + hi) / 2.0, np.nan)
        return out

    def first_argmax(self, values: np.ndarray) -> np.ndarray:
        """Row of the first maximum per segment ignoring NaN; -1 when the segment has no value."""
        out = np.full(len(self), -1, dtype="int64")
        if len(self) == 0:
            return out
        hit = np.flatnonzero(values == self.spread(self.max(values)))
        seg = np.searchsorted(self.starts, hit, side="right") - 1
        first = np.concatenate([[True], seg[1:] != seg[:-1]]) if len(seg) else seg.astype(bool)
        out[seg[first]] = hit[first]
        return out

    def scatter(self, per_segment: np.ndarray, n_creators: int) -> np.ndarray:
        """Per-creator float64 array: the segment values at their codes, NaN elsewhere."""
        out = np.full(n_creators, np.nan)
        out[self.codes] = per_segment
        return out


def lag(values: np.ndarray, k: int, seg: Segments) -> np.ndarray:
    """``values[t - k]`` as float64, NaN where ``t - k`` falls before the row's segment start.

    ``seg`` covers the rows from row 0 on, one segment after another. The rows to blank (the
    first ``k`` of each segment) are found from the segment starts, without a position column
    for every row.
    """
    out = np.empty(len(values))
    out[:k] = np.nan
    if k < len(values):
        out[k:] = values[: len(values) - k]
    if len(seg) > 1:  # the first segment starts on row 0, blanked above
        j = np.arange(k)
        out[(seg.starts[:, None] + j)[seg.lengths[:, None] > j]] = np.nan
    return out
