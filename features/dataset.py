"""Load a creatorscore dataset and check it against the data contract.

:func:`load` reads the input tables (a folder of ``<table>.<ext>`` files, or a mapping of
DataFrames or Arrow tables), coerces every contract column to the loaded representation described in
:mod:`features.schema`, validates the result with pandera and returns a :class:`CreatorData`.
The same value rules first run as a NumPy pre-check; pandera (milliseconds per table whatever
its size) only runs on a table the pre-check flags, and names its failing cells.

Two kinds of problems are kept apart:

- **Whole-file problems** (folder or required table missing, required column missing, unreadable,
  empty or doubled files, unknown file types) raise :class:`ContractError`: nothing sensible can
  be scored from such a table.
- **Row problems** (a negative count, an unparseable date, a duplicate id, ...) never abort. The
  row is reported in ``CreatorData.errors``; a bad row of a creator, in ``creators`` or in any of
  its child tables, makes that creator *unscorable*: all its rows are removed and one message is
  kept for it in ``CreatorData.unscorable``, so the scorer can still emit one row per creator.

Coercion is vectorised (pandas, NumPy, pyarrow); Python-level work happens only on failing rows.
Columns typed as Parquet gives them take the shortest route: int64 counts and bools are cast,
naive nanosecond timestamps and text without gaps are kept as they are (text is only scanned, in
C loops, for non-text, empty and over-long cells), and what coercion learns (missing cells, whole
numbers) spares the pre-check a second look.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow_lib
import pyarrow.compute as pc

from features._series import frame_dtypes
from features.schema import (
    INPUT_TABLES,
    KEYS,
    LABEL_TABLES,
    PLATFORMS,
    REQUIRED_TABLES,
    TABLES,
    Column,
)

__all__ = [
    "EXTENSIONS",
    "ERROR_COLUMNS",
    "TEXT_LIMIT",
    "ContractError",
    "CreatorData",
    "read_table",
    "arrow_frame",
    "columns_frame",
    "table_schema",
    "load",
    "load_labels",
]

#: File extensions a table may be given in, as the part of the name after the table name.
EXTENSIONS = ("parquet", "csv", "csv.gz", "jsonl", "jsonl.gz")

#: Longest text cell accepted, in characters; longer cells are row errors (a guard against
#: runaway exports, e.g. a whole HTML page pasted into a caption).
TEXT_LIMIT = 20_000

ERROR_COLUMNS = ("table", "row", "column", "creator_id", "problem")

# A table's row problems when it has none. Shared, never modified: the loader only filters
# empty problem frames out or concatenates them into new ones (building one costs ~0.3 ms).
_NO_PROBLEMS = pd.DataFrame({"row": pd.Series(dtype="int64"), "column": [], "problem": []})

# Child tables whose rows belong to one creator: their errors make that creator unscorable.
CHILD_TABLES = ("follower_history", "posts", "comments", "audience_sample")

# Spellings of "missing" that some exporters write into typed columns. They are treated as missing
# in int/bool/date/timestamp columns only; in text columns they are kept (country "NA" is Namibia).
_NA_WORDS = frozenset({"", "na", "n/a", "nan", "null", "none", "nat", "<na>", "#n/a"})

_TRUE_WORDS = ("true", "1", "yes", "1.0")
_FALSE_WORDS = ("false", "0", "no", "0.0")
# Exact-match lookup for the common spellings; other casings fall back to a lower-cased lookup
# on the few cells that miss here. Python True/1/1.0 hash alike, so real bools and 1/0 work too.
_BOOL_FAST = {
    **{w: True for w in _TRUE_WORDS + ("True", "TRUE", "Yes", "YES")},
    **{w: False for w in _FALSE_WORDS + ("False", "FALSE", "No", "NO")},
    True: True,
    False: False,
}
_BOOL_WORDS = {**{w: True for w in _TRUE_WORDS}, **{w: False for w in _FALSE_WORDS}}

_NS_PER_DAY = 86_400 * 10**9
_NS = np.dtype("datetime64[ns]")  # the loaded dtype of dates and timestamps

# Naive ISO 8601 strings NumPy parses exactly as pandas does, and how many cells are checked one
# by one for that pattern (beyond it the vectorised general path is cheaper).
# The cells are checked all at once, joined by newlines: one regex call instead of one per cell.
# The year is matched as 1678..2261 (inside the nanosecond range).
_YEAR_NS = r"(?:1(?:6(?:7[89]|[89]\d)|[7-9]\d\d)|2(?:[01]\d\d|2(?:[0-5]\d|6[01])))"
_PLAIN_ISO_CELL = _YEAR_NS + r"-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?"
_PLAIN_ISO = re.compile(rf"{_PLAIN_ISO_CELL}(?:\n{_PLAIN_ISO_CELL})*", re.ASCII)
_PLAIN_ISO_MAX = 2_000

# An ISO 8601 string carrying a zone designator after its time part ("Z", "+02:00", "-0500").
_ZONED = r"^.{10}.*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$"


class ContractError(Exception):
    """A whole table or file breaks the data contract; the message names it and says what to do."""


@dataclass(eq=False)
class CreatorData:
    """The validated input tables of one batch of creators.

    Attributes
    ----------
    creators : one row per scorable creator, RangeIndex, every contract column present in its
        loaded representation (see :mod:`features.schema`), unknown extra columns kept as read.
    follower_history, posts, comments, audience_sample, brands : same rules; ``None`` when the
        table was not given. Rows of unscorable creators are removed.
    creator_ids : the ``creator_id`` of every input ``creators`` row in input order, bad rows
        included; a missing id is ``""``.
    errors : one row per problem, columns ``table, row, column, creator_id, problem``; ``row`` is
        the 1-based record number within the table as given.
    unscorable : creator_id -> one message naming table, row, column and problem.

    Columns already in their loaded representation (text without gaps, ``datetime64[ns]``
    timestamps, extra columns) are not copied: they may share memory with the DataFrames given
    to :func:`load`, so copy a table before changing its values in place.
    """

    creators: pd.DataFrame
    follower_history: pd.DataFrame | None
    posts: pd.DataFrame | None
    comments: pd.DataFrame | None
    audience_sample: pd.DataFrame | None
    brands: pd.DataFrame | None
    creator_ids: list[str]
    errors: pd.DataFrame
    unscorable: dict[str, str]

    def __len__(self) -> int:
        """Number of scorable creators (rows of ``creators``)."""
        return len(self.creators)

    def error_for(self, creator_id: str) -> str:
        """The message explaining why ``creator_id`` cannot be scored, or ``""`` if it can."""
        return self.unscorable.get(creator_id, "")

    @classmethod
    def concat(cls, parts: Sequence[CreatorData]) -> CreatorData:
        """Loaded batches with disjoint creator ids as one, tables one after the other.

        A table absent from every part stays absent (None); ``brands`` are dropped (brands
        are matched against a batch, not part of it); ``errors`` keep each part's row numbers.
        """

        def stacked(name: str) -> pd.DataFrame | None:
            frames = [f for p in parts if (f := getattr(p, name)) is not None]
            return pd.concat(frames, ignore_index=True) if frames else None

        found = [p.errors for p in parts if len(p.errors)]
        return cls(
            creators=stacked("creators"),
            follower_history=stacked("follower_history"),
            posts=stacked("posts"),
            comments=stacked("comments"),
            audience_sample=stacked("audience_sample"),
            brands=None,
            creator_ids=[cid for p in parts for cid in p.creator_ids],
            errors=pd.concat(found, ignore_index=True) if found else parts[0].errors,
            unscorable={k: v for p in parts for k, v in p.unscorable.items()},
        )


# --------------------------------------------------------------------------------------------
# Reading files


def _extension(name: str) -> str:
    """Everything after the first dot: ``posts.csv.gz`` -> ``csv.gz``."""
    return name.partition(".")[2]


# Text columns of at least this many rows are sampled to decide how Arrow converts them (below it
# both ways cost about the same), and the sample: a few runs of neighbouring cells spread over
# the column, so repeats among neighbours (a creator's rows) show as well as repeats far apart.
_SAMPLE_FROM = 4_096
_SAMPLE_RUNS = 16
_SAMPLE_RUN = 64
# Share of distinct cells in the sample from which a column counts as mostly distinct.
_MOSTLY_DISTINCT = 0.9


def _mostly_distinct(column: pyarrow_lib.ChunkedArray | pyarrow_lib.Array) -> bool:
    """Whether a long text column's cells look mostly distinct, judged from a small sample."""
    n = len(column)
    starts = np.linspace(0, n - _SAMPLE_RUN, _SAMPLE_RUNS).astype(np.int64).tolist()
    runs = [column.slice(start, _SAMPLE_RUN) for start in starts]
    if isinstance(column, pyarrow_lib.ChunkedArray):
        runs = [chunk for run in runs for chunk in run.chunks]
    sample = pyarrow_lib.chunked_array(runs, type=column.type)
    # Slices and a hash of ~1,000 cells: ~45 us a column, without copying the column.
    return len(pc.unique(sample)) >= _MOSTLY_DISTINCT * len(sample)


def _is_text(kind: pyarrow_lib.DataType) -> bool:
    return pyarrow_lib.types.is_string(kind) or pyarrow_lib.types.is_large_string(kind)


@dataclass(frozen=True)
class _TextFacts:
    """What an Arrow text column already knows about the object column made from it.

    Arrow keeps each cell's length in bytes and a bitmap of the missing cells, so these cost a
    C pass over integers rather than the three passes over Python objects that find them from
    the cells (kind, "" cells, longest text: about 17 us a creator of a batch chunk).

    ``nulls``: the missing (None) cells, or None when none is; ``empty``: the "" cells;
    ``longest``: bytes in the longest cell (a str has at most as many characters as bytes).
    """

    nulls: np.ndarray | None
    empty: np.ndarray
    longest: int

    def kind(self) -> tuple[str, bool, np.ndarray | None]:
        """What :func:`_object_kind` answers for the column (the kind, complete, its None cells)."""
        if self.nulls is None:
            return ("string", True, None) if len(self.empty) else ("empty", False, None)
        return ("empty" if self.nulls.all() else "string"), False, self.nulls


def _text_facts(table: pyarrow_lib.Table) -> dict[str, _TextFacts]:
    """:class:`_TextFacts` of every text column of ``table`` (none when names repeat)."""
    names = table.column_names
    if len(set(names)) < len(names):
        return {}
    facts = {}
    for name, column in zip(names, table.columns, strict=True):
        if not _is_text(column.type):
            continue
        lengths = pc.binary_length(column)  # missing for a missing cell
        nulls = None
        if column.null_count:
            nulls = column.is_null().to_numpy()
            lengths = pc.fill_null(lengths, 1)  # neither "" nor long
        lengths = lengths.to_numpy()
        facts[name] = _TextFacts(nulls, lengths == 0, int(lengths.max()) if len(lengths) else 0)
    return facts


def _arrow_raw(table: pyarrow_lib.Table) -> tuple[pd.DataFrame, dict[str, _TextFacts]]:
    """A raw frame of an Arrow table (:func:`arrow_frame`) and its text columns' facts."""
    frame = arrow_frame(table)
    facts = _text_facts(table) if len(frame) == table.num_rows else {}
    return frame, facts


def arrow_frame(table: pyarrow_lib.Table | pyarrow_lib.RecordBatch) -> pd.DataFrame:
    """An Arrow table as the raw frame :func:`load` takes: dates as ``datetime64``, not objects.

    The frame ``table.to_pandas(date_as_object=False)`` gives (values, dtypes, column order,
    RangeIndex), converted faster:

    - Arrow's default hands every date cell over as a Python ``datetime.date`` object, which
      :func:`load` then parses back; a million follower-history rows took 0.39 s to convert that
      way against 0.05 s as ``datetime64[ms]``. Dates beyond the nanosecond range (after 2262)
      stay as they are and become row errors in :func:`load`, as before.
    - Arrow makes one Python str per text cell, and by default looks every cell up in a table of
      the column's strings made so far, to hand repeats the same object. That pays for columns
      of few distinct values (ids of a creator's rows, media types) and costs several times the
      conversion for mostly distinct ones (follower ids, captions): 12.4 against 2.5 us a
      creator for audience follower ids. Long text columns whose sample is mostly distinct are
      therefore converted without the look-up, the others with it, and the columns put together
      in their order without copying them.
    """
    n = table.num_rows
    names = table.column_names
    distinct = []
    if n >= _SAMPLE_FROM and _arrays_to_mgr is not None and len(set(names)) == len(names):
        distinct = [
            i
            for i, field in enumerate(table.schema)
            if _is_text(field.type) and _mostly_distinct(table.column(i))
        ]
    if not distinct or len(distinct) == table.num_columns:
        return table.to_pandas(date_as_object=False, deduplicate_objects=not distinct)
    apart = set(distinct)
    rest = [i for i in range(table.num_columns) if i not in apart]
    arrays: dict[int, _Values] = {}
    for columns, dedupe in ((rest, True), (distinct, False)):
        # Each part keeps the table's pandas metadata (extension dtypes and the like).
        part = table.select(columns).to_pandas(date_as_object=False, deduplicate_objects=dedupe)
        index = part.index
        if (
            part.attrs
            or not isinstance(index, pd.RangeIndex)
            or (index.start, index.step, index.name) != (0, 1, None)
            or not part.columns.identical(pd.Index([names[i] for i in columns]))
        ):
            # Metadata that rebuilds an index, names or column labels: the whole table at once.
            return table.to_pandas(date_as_object=False)
        arrays.update(zip(columns, _raw_columns(part), strict=True))
    return _frame({names[i]: arrays[i] for i in range(len(names))}, n, checked=True)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read one table file as raw values, with a RangeIndex; coercion is left to :func:`load`.

    CSV cells are read as text (an empty cell is missing); JSON Lines values keep their JSON
    types; Parquet keeps its column types.

    Parameters
    ----------
    path : a ``.parquet``, ``.csv``, ``.csv.gz``, ``.jsonl`` or ``.jsonl.gz`` file.

    Raises
    ------
    ContractError
        Unknown extension, empty (zero-byte), unreadable or corrupt file.
    """
    return _read(path)[0]


def _read(path: str | Path) -> tuple[pd.DataFrame, dict[str, _TextFacts]]:
    """:func:`read_table`, and the facts of a Parquet file's text columns (see ``_TextFacts``)."""
    path = Path(path)
    facts: dict[str, _TextFacts] = {}
    ext = _extension(path.name)
    if ext not in EXTENSIONS:
        raise ContractError(
            f"{path}: cannot read files of type '.{ext}'; "
            f"save the table as one of {', '.join('.' + e for e in EXTENSIONS)}"
        )
    if not path.exists():
        raise ContractError(f"{path} does not exist")
    if path.is_file() and path.stat().st_size == 0:
        raise ContractError(
            f"{path} is empty (0 bytes); write at least the header line, or remove the file"
        )
    try:
        if ext == "parquet":
            import pyarrow.parquet as pq

            frame, facts = _arrow_raw(pq.read_table(path, use_pandas_metadata=True))
        elif ext.startswith("csv"):
            # utf-8-sig: spreadsheet exports often start with a byte-order mark, which would
            # otherwise end up in the first column's name.
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
            )
        else:
            frame = pd.read_json(
                path, lines=True, dtype=False, convert_dates=False, keep_default_dates=False
            )
    except pd.errors.EmptyDataError as exc:
        raise ContractError(f"{path} has no header line; write the column names first") from exc
    except Exception as exc:  # any parser failure means the file itself is unusable
        raise ContractError(
            f"cannot read {path} ({type(exc).__name__}: {exc}); check that the file is a "
            f"complete, valid .{ext} file"
        ) from exc
    return _positional(frame), facts


def _positional(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with a 0..n-1 RangeIndex, its data not copied (``reset_index`` copies it all)."""
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return frame
    out = frame.copy(deep=False)
    out.index = pd.RangeIndex(len(frame))
    return out


def _table_files(folder: Path, tables: tuple[str, ...]) -> dict[str, Path]:
    """Map each table present in ``folder`` to its file; files named otherwise are ignored."""
    if not folder.exists():
        raise ContractError(f"dataset folder {folder} does not exist")
    if not folder.is_dir():
        raise ContractError(
            f"{folder} is not a folder; give the folder that holds the table files "
            f"(creators.csv, posts.parquet, ...)"
        )
    found: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        table = path.name.partition(".")[0]
        if table not in tables:
            continue
        if path.is_dir() and _extension(path.name) != "parquet":
            continue  # only a Parquet dataset may be a folder
        if _extension(path.name) not in EXTENSIONS:
            raise ContractError(
                f"{path}: unknown file type for table {table}; "
                f"use one of {', '.join(table + '.' + e for e in EXTENSIONS)}"
            )
        found.setdefault(table, []).append(path)
    for table, paths in found.items():
        if len(paths) > 1:
            raise ContractError(
                f"{len(paths)} files for table {table} in {folder}: "
                f"{', '.join(p.name for p in paths)}; keep exactly one"
            )
    return {table: paths[0] for table, paths in found.items()}


_Tables = Mapping[str, pd.DataFrame | pyarrow_lib.Table]


def _raw_tables(
    source: str | Path | _Tables, tables: tuple[str, ...]
) -> tuple[dict[str, pd.DataFrame], dict[str, str], dict[str, dict[str, _TextFacts]]]:
    """Raw frames of the given tables present in ``source``, a display name for each, and the
    facts of the text columns of those that came from Arrow (see :class:`_TextFacts`)."""
    raw, names, facts = {}, {}, {}
    if isinstance(source, Mapping):
        for table in tables:
            frame = source.get(table)
            if frame is None:
                continue
            if isinstance(frame, pyarrow_lib.Table):
                frame, facts[table] = _arrow_raw(frame)
            elif not isinstance(frame, pd.DataFrame):
                raise ContractError(
                    f"table {table} must be a pandas DataFrame or a pyarrow Table, "
                    f"got {type(frame).__name__}"
                )
            raw[table] = _positional(frame)
            names[table] = f"table {table}"
        return raw, names, facts
    folder = Path(source)
    for table, path in _table_files(folder, tables).items():
        raw[table], facts[table] = _read(path)
        names[table] = str(path)
    return raw, names, facts


# --------------------------------------------------------------------------------------------
# Coercion to the loaded representation. Each coercer returns the coerced values and a boolean
# mask of cells that held something which could not be parsed (missing cells are not failures).


def _show(value: object) -> str:
    """A short rendering of a cell value for messages."""
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, int | float | np.number | bool | np.bool_):
        return str(value)
    text = str(value)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _is_na_word(values: np.ndarray) -> np.ndarray:
    """Which of a few failing cells spell "missing" (``NaN``, ``null``, ...)."""
    return np.array([isinstance(v, str) and v.strip().lower() in _NA_WORDS for v in values], bool)


# A raw column as its frame stores it: a NumPy array, pandas' DatetimeArray/TimedeltaArray for
# NumPy datetimes (what ``Series._values`` holds), or an extension array. Coercion works on these
# rather than on Series: a Series costs ~20 us to take out of a frame and again to unwrap, which
# over a request's ~45 contract columns was a millisecond of every one-creator call.
_Raw = np.ndarray | pd.api.extensions.ExtensionArray


def _raw_columns(frame: pd.DataFrame) -> list[_Raw]:
    """The stored array of every column of ``frame``, in order (read only, not copied)."""
    blocks = getattr(getattr(frame, "_mgr", None), "blocks", ())
    width = frame.shape[1]
    if len(blocks) == width and all(block.shape[0] == 1 for block in blocks):
        # One block per column (the frames :func:`_frame` makes, such as a request's tables):
        # each block's one column, what the accessor below gives, without its ~0.5 us a column
        # of look-ups of where that column is.
        out: list[_Raw] = [None] * width
        for block in blocks:
            at = block.mgr_locs.indexer  # a slice, or an array of one position
            out[at.start if isinstance(at, slice) else int(at[0])] = block.iget(0)
        return out
    get = getattr(frame, "_get_column_array", None)
    if get is not None:  # pandas' own accessor of a block's column, without a Series
        return [get(i) for i in range(width)]
    return [_stored(frame.iloc[:, i]) for i in range(frame.shape[1])]  # pragma: no cover


def _stored(values: pd.Series) -> _Raw:
    """A Series' values as a frame stores them (see ``_Raw``)."""
    if isinstance(values.dtype, pd.api.extensions.ExtensionDtype) or values.dtype.kind in "mM":
        return values.array
    return values.to_numpy()


def _numpy(raw: _Raw, dtype: object = None) -> np.ndarray:
    """``Series(raw).to_numpy(dtype)``: NumPy values (Timestamps for datetimes as objects)."""
    if isinstance(raw.dtype, pd.api.extensions.ExtensionDtype):
        return raw.to_numpy(dtype=dtype)
    return np.asarray(raw, dtype=dtype)


def _series(raw: _Raw) -> pd.Series:
    """``raw`` as the Series its frame would give (RangeIndex; object cells not re-inferred)."""
    return pd.Series(raw, dtype=raw.dtype, copy=False)


def _failed(raw: _Raw, coerced_missing: np.ndarray) -> np.ndarray:
    """Cells present in ``raw`` whose coerced value is missing, ignoring spelled-out missings."""
    bad = np.zeros(len(raw), dtype=bool)
    if coerced_missing.any():
        rows = np.flatnonzero(coerced_missing)
        # Only the cells that came out missing are looked at: usually none or a few.
        cells = _numpy(raw[rows], object)
        present = ~pd.isna(cells)
        rows, cells = rows[present], cells[present]
        bad[rows[~_is_na_word(cells)]] = True
    return bad


def _plain(raw: _Raw) -> _Raw:
    """Categoricals and extension string arrays as plain object columns."""
    dtype = raw.dtype
    if isinstance(dtype, np.dtype):  # the usual case, answered with one test
        return raw
    if isinstance(dtype, pd.CategoricalDtype) or isinstance(dtype, pd.StringDtype):
        return np.asarray(raw.astype(object), dtype=object)
    return raw


def _is_object(dtype: object) -> bool:
    """``dtype == object``, answered without NumPy building a dtype from ``object`` (~0.5 us)."""
    return isinstance(dtype, np.dtype) and dtype.kind == "O"


def _number_text(value: object) -> str:
    """Text of a non-string cell in a text column: ``12.0`` (an id read as a number) -> ``"12"``."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class _Hint:
    """What coercing a column already established, so the pre-check need not find it again.

    ``missing``: the coerced column's missing cells, when known (for text columns, where finding
    them costs a Python-level pass); ``whole``: every present value is a whole number;
    ``short``: no text cell is longer than ``TEXT_LIMIT`` (known from Arrow's cell lengths).
    """

    missing: np.ndarray | None = None
    whole: bool = False
    short: bool = False


_NO_HINT = _Hint()
# The hint of a NumPy number column by its dtype kind: integers are whole.
_WHOLE = {"i": _Hint(whole=True), "u": _Hint(whole=True), "f": _NO_HINT}

# A loaded column's values: a NumPy array, or pandas' BooleanArray for bool columns. Coercion
# hands arrays around, not Series (see ``_Raw``).
_Values = np.ndarray | pd.api.extensions.ExtensionArray


# From this many cells on, a column of text with gaps is told apart by its None cells (below it
# the extra steps cost more than the passes they save: a request's columns are a few cells).
_NONE_SCAN_FROM = 512


def _object_kind(raw: _Raw) -> tuple[str, bool, np.ndarray | None]:
    """pandas' inferred kind of an object column's present cells, whether none is missing, and
    the missing cells when they are all None and every other cell is text (else None).

    An all-text column without missing cells (the usual Parquet case) is recognised in one pass;
    text with None gaps (Parquet text with nulls) in two cheap ones; only other columns pay
    pandas' kind of their present cells.
    """
    if not _is_object(raw.dtype):
        return "", False, None
    # The array, not a Series: given a Series, infer_dtype first probes it for an
    # ``inferred_type`` attribute, a failed pandas attribute look-up of ~10 us per column.
    cells = raw
    whole = pd.api.types.infer_dtype(cells, skipna=False)
    if whole == "string":
        return "string", True, None
    if whole in ("date", "integer", "boolean"):
        # These kinds admit no missing cell: skipping missing cells changes nothing.
        return whole, False, None
    if whole == "mixed" and len(cells) >= _NONE_SCAN_FROM:
        # Text with None gaps: the None cells and a look at the others, ~15 ns a cell less than
        # the kind with missing cells skipped and then pd.isna (which tests every missing marker).
        try:
            nones = cells == None  # noqa: E711 (elementwise)
        except (TypeError, ValueError):  # a cell that will not compare (an array, ...)
            nones = None
        if nones is not None and nones.any() and not nones.all():
            if pd.api.types.infer_dtype(cells[~nones], skipna=False) == "string":
                return "string", False, nones
    return pd.api.types.infer_dtype(cells, skipna=True), False, None


def _coerce_str(
    raw: _Raw,
    kind: str,
    complete: bool,
    nones: np.ndarray | None = None,
    facts: _TextFacts | None = None,
) -> tuple[np.ndarray, np.ndarray, _Hint]:
    """Text cells as str/None; ``nones``: the None cells of a column of text and None only;
    ``facts``: the column came from Arrow text (its "" cells and longest text are known)."""
    values = _numpy(raw, object)
    empty = facts.empty if facts is not None else None
    short = facts is not None and facts.longest <= TEXT_LIMIT
    if complete:
        # Only text, nothing missing: the cells are kept as they are (no copy) unless some are "".
        if empty is None:
            empty = values == ""
        if empty.any():
            values = values.copy()
            values[empty] = None
        return values, np.zeros(len(values), bool), _Hint(missing=empty, short=short)
    values = values.copy()
    if nones is not None:
        missing = nones | (values == "" if empty is None else empty)
        values[missing] = None
        return values, np.zeros(len(values), bool), _Hint(missing=missing, short=short)
    missing = pd.isna(values)
    if kind not in ("string", "empty"):
        # Ids written as JSON numbers, or mixed cells: the only Python-level pass, and only here.
        present = np.flatnonzero(~missing)
        values[present] = [
            v if isinstance(v, str) else _number_text(v) for v in values[present].tolist()
        ]
    missing |= values == ""
    values[missing] = None
    return values, np.zeros(len(values), bool), _Hint(missing=missing)


def _coerce_number(raw: _Raw, kind: str) -> tuple[np.ndarray, np.ndarray, _Hint]:
    dtype = raw.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        # NumPy ints and floats (the usual case; asked first, without pandas' dtype tests) hold
        # no missing marker but NaN: a plain cast (a copy), without the missing-value pass
        # ``to_numpy(na_value=...)`` makes. Integers stay whole as float64 (rounding beyond
        # 2**53 keeps them whole).
        return np.asarray(raw).astype("float64"), np.zeros(len(raw), bool), _WHOLE[dtype.kind]
    if pd.api.types.is_bool_dtype(raw.dtype):
        # A true/false column where a count belongs is a mix-up, not a count.
        values = np.full(len(raw), np.nan)
        return values, ~pd.isna(_numpy(raw)), _NO_HINT
    if pd.api.types.is_numeric_dtype(raw.dtype):
        if isinstance(raw.dtype, np.dtype):
            # NumPy ints and floats hold no missing marker but NaN: a plain cast (a copy),
            # without the missing-value pass ``to_numpy(na_value=...)`` makes.
            values = np.asarray(raw).astype("float64")
        else:
            values = raw.to_numpy(dtype="float64", na_value=np.nan)
        # Integers stay whole as float64 (rounding beyond 2**53 keeps them whole).
        hint = _Hint(whole=pd.api.types.is_integer_dtype(raw.dtype))
        return values, np.zeros(len(values), bool), hint
    values = None
    if kind == "string":
        try:  # arrow's parser is several times faster than pandas' and fails on any bad cell
            arr = pyarrow_lib.array(_numpy(raw), from_pandas=True, type=pyarrow_lib.string())
            values = pc.cast(arr, pyarrow_lib.float64()).to_numpy(zero_copy_only=False)
        except (pyarrow_lib.ArrowInvalid, pyarrow_lib.ArrowTypeError):
            values = None
    if values is None:
        values = pd.to_numeric(_series(raw), errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
    values = np.array(values, dtype="float64")
    values[np.isinf(values)] = np.nan  # "1e400" or "inf" is no count
    return values, _failed(raw, np.isnan(values)), _NO_HINT


def _coerce_bool(raw: _Raw) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray]:
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind == "b":
        # NumPy bools have no missing cell: wrapped as they are (a copy), no conversion pass.
        values = pd.arrays.BooleanArray(np.array(raw, copy=True), np.zeros(len(raw), bool))
        return values, np.zeros(len(raw), bool)
    cells = _series(raw)
    if pd.api.types.is_bool_dtype(raw.dtype):  # pandas' and Arrow's nullable bools
        return cells.astype("boolean").array, np.zeros(len(raw), bool)
    mapped = cells.map(_BOOL_FAST)
    miss = mapped.isna().to_numpy() & ~pd.isna(cells.to_numpy())
    if miss.any():
        rows = np.flatnonzero(miss)
        slow = cells.iloc[rows].map(lambda v: _BOOL_WORDS.get(str(v).lower()))
        mapped.iloc[rows] = slow.to_numpy()
    values = pd.array(mapped.to_numpy(dtype=object), dtype="boolean")
    return values, _failed(raw, np.asarray(values.isna(), dtype=bool))


def _parse_iso(texts: pd.Series) -> pd.Series:
    """Parse ISO 8601 strings to UTC, zoned and naive ones apart.

    pandas (2.x) parses a naive string that follows a zoned one in the same call with the earlier
    string's offset, so naive strings are parsed in their own call (and read as UTC).
    """
    arr = pyarrow_lib.array(texts.to_numpy(), from_pandas=True, type=pyarrow_lib.string())
    zoned = pc.match_substring_regex(arr, _ZONED).to_numpy(zero_copy_only=False)
    zoned = np.asarray(zoned, dtype=object) == True  # noqa: E712  (nulls become False)
    if zoned.all() or not zoned.any():
        return pd.to_datetime(texts, format="ISO8601", utc=True, errors="coerce")
    out = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns, UTC]")
    for part in (zoned, ~zoned):
        out[part] = pd.to_datetime(texts[part], format="ISO8601", utc=True, errors="coerce")
    return out


# The shape of the longest plain ISO 8601 cell (#: a digit); a cell of each length the pattern
# admits is its first characters. From this many cells on, cells of one length are checked by
# their bytes (a table look-up per byte, then a few NumPy steps for the years) instead of by the
# regex, which takes ~0.2 us a cell (but less for a few cells).
_ISO_SHAPE = "####-##-##T##:##:##.#########"
_ISO_LENGTHS = frozenset({10, 16, 19, *range(21, len(_ISO_SHAPE) + 1)})
_FIXED_ISO_FROM = 16
# Digits become "#", and "#" something else, so a "#" left means a digit was there.
_ISO_DIGITS = bytes.maketrans(b"0123456789#", b"##########!")
# The years of the nanosecond range, as the big-endian integers of their four ASCII digits
# (ordered as the years are).
_YEAR_FIRST = int.from_bytes(b"1678", "big")
_YEAR_LAST = int.from_bytes(b"2261", "big")


def _fixed_iso(joined: str, count: int) -> bool:
    """Whether ``count`` cells of one length joined by newlines all match ``_PLAIN_ISO_CELL``.

    The bytes of the cells, each with its newline, with every digit turned into "#", must be
    the cells' shape repeated, and every year (its four bytes) inside 1678-2261. False says
    nothing (few cells, cells of different lengths, ...): the regex decides then.
    """
    width = (len(joined) + 1) // count
    if (
        count < _FIXED_ISO_FROM
        or width * count != len(joined) + 1
        or width - 1 not in _ISO_LENGTHS
        or not joined.isascii()
    ):
        return False
    cells = (joined + "\n").encode("ascii")
    if cells.translate(_ISO_DIGITS) != (_ISO_SHAPE[: width - 1] + "\n").encode() * count:
        return False
    rows = np.frombuffer(cells, dtype=np.uint8).reshape(count, width)
    years = rows[:, :4].copy().view(">u4")
    return bool(years.min() >= _YEAR_FIRST and years.max() <= _YEAR_LAST)


def _plain_iso(cells: np.ndarray, complete: bool = False) -> np.ndarray | None:
    """NumPy's parse of a few plain naive ISO 8601 strings, or None to take the general path.

    Only for up to ``_PLAIN_ISO_MAX`` cells, each None or ``YYYY-MM-DD[THH:MM[:SS[.fff]]]`` with
    a year inside the nanosecond range: there NumPy gives the instant pandas gives (and refuses
    the impossible dates pandas refuses, then the general path reports them), in microseconds
    instead of the general path's half millisecond.
    """
    if len(cells) > _PLAIN_ISO_MAX:
        return None
    # complete: every cell is a str (no None to leave out).
    texts = cells.tolist() if complete else [v for v in cells.tolist() if v is not None]
    if texts:
        try:
            joined = "\n".join(texts)
        except TypeError:  # a cell that is not text
            return None
        # As many newlines as separators: no cell holds one (two dates in one cell fail).
        if joined.count("\n") != len(texts) - 1:
            return None
        if not _fixed_iso(joined, len(texts)) and not _PLAIN_ISO.fullmatch(joined):
            return None
    try:
        return np.array(cells, dtype=_NS)
    except ValueError:
        return None


# Units of naive datetime64 columns scaled to nanoseconds exactly, and the int64 ticks of the
# latest nanosecond time and of NaT.
_FIXED_UNITS = ("D", "h", "m", "s", "ms", "us")
_NS_TICKS_MAX = np.iinfo(np.int64).max
_NAT_TICKS = np.iinfo(np.int64).min


def _coerce_time(
    raw: _Raw, kind: str, *, day: bool, complete: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Dates or timestamps as naive UTC ``datetime64[ns]`` (days floored when ``day``), and the
    cells that failed; ``kind`` and ``complete`` as :func:`_object_kind` answers for ``raw``."""
    if raw.dtype == _NS:
        # Already naive UTC nanoseconds (Parquet timestamps): nothing to convert.
        return _time_values(np.asarray(raw), raw, day=day)
    naive = isinstance(raw.dtype, np.dtype) and raw.dtype.kind == "M"
    if naive and np.datetime_data(raw.dtype)[0] in _FIXED_UNITS:
        # Naive times of another unit (Parquet dates come as milliseconds): UTC already, as
        # above, scaled to nanoseconds; cells outside that range (before 1677, after 2262) fail.
        per = int(np.timedelta64(1, np.datetime_data(raw.dtype)[0]) // np.timedelta64(1, "ns"))
        ticks = np.asarray(raw).view("int64")
        limit = _NS_TICKS_MAX // per
        inside = (ticks >= -limit) & (ticks <= limit)  # NaT (the int64 minimum) is outside
        utc = ticks * per
        if not inside.all():
            utc = np.where(inside, utc, np.int64(_NAT_TICKS))
        return _time_values(utc.view(_NS), raw, day=day)
    if kind == "string":  # an object column of text only
        plain = _plain_iso(_numpy(raw, object), complete)
        if plain is not None:
            return _time_values(plain, raw, day=day)
    stored = raw
    raw = _series(raw)  # the general paths below parse Series
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        parsed = pd.to_datetime(raw, utc=True)
    elif pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        # Numbers are not ISO 8601, and guessing an epoch unit would silently shift dates.
        parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    else:
        if kind == "empty":
            parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
        elif kind == "string":
            parsed = _parse_iso(raw)
        elif kind in ("date", "datetime", "datetime64"):
            parsed = pd.to_datetime(raw, utc=True, errors="coerce")
        else:  # mixed cells (rare): strings parsed as ISO, datetimes converted, others fail
            cells = raw.to_numpy(dtype=object)
            is_text = np.array([isinstance(v, str) for v in cells], bool)
            is_time = np.array([hasattr(v, "year") for v in cells], bool)
            parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
            if is_text.any():
                parsed[is_text] = _parse_iso(raw[is_text])
            if is_time.any():
                parsed[is_time] = pd.to_datetime(raw[is_time], utc=True, errors="coerce")
    # On the arrays, not through the .dt accessor: each accessor call costs ~0.1 ms, which is
    # most of the time for the few rows of one HTTP request.
    utc = np.asarray(parsed.array.tz_convert("UTC").tz_localize(None), dtype="datetime64[ns]")
    return _time_values(utc, stored, day=day)


def _time_values(utc: np.ndarray, raw: _Raw, *, day: bool) -> tuple[np.ndarray, np.ndarray]:
    """The loaded column from naive UTC ``datetime64[ns]`` values, and its failed cells."""
    missing = np.isnat(utc)
    if day:
        ticks = utc.view("int64")
        floored = ticks // _NS_PER_DAY * _NS_PER_DAY  # floor division: days before 1970 too
        utc = floored.view(_NS)
        if missing.any():  # NaT floored is no NaT
            utc = np.where(missing, np.datetime64("NaT", "ns"), utc)
    return utc, _failed(raw, missing)


def _nested_cells(raw: _Raw, kind: str) -> tuple[_Raw, np.ndarray | None]:
    """Blank out list/object cells (JSON Lines, Parquet lists): no contract column holds them."""
    if not kind.startswith("mixed") or not _is_object(raw.dtype):
        return raw, None
    cells = _numpy(raw, object)
    nested = np.array([isinstance(v, list | dict | tuple | set | np.ndarray) for v in cells], bool)
    if not nested.any():
        return raw, None
    clean = raw.copy()
    clean[nested] = None
    return clean, nested


def _coerce_column(
    table: str, name: str, kind: str, raw: _Raw, facts: _TextFacts | None = None
) -> tuple[_Values, np.ndarray, _Hint, np.ndarray | None]:
    """Coerce one contract column as read (Categorical and extension strings included).

    Returns the values (the loaded column's array), a mask of cells that failed to parse, a
    :class:`_Hint` for the pre-check, and a mask of the list/object cells that were blanked out
    (or None). ``facts``: the column came from Arrow text (str and missing cells only).
    """
    raw = _plain(raw)
    if facts is not None and raw.dtype == object and len(facts.empty) == len(raw):
        values, bad, hint = _coerce_cells(table, name, kind, raw, *facts.kind(), facts)
        return values, bad, hint, None
    inferred, complete, nones = _object_kind(raw)
    raw, nested = _nested_cells(raw, inferred)
    if nested is not None:
        inferred, complete, nones = _object_kind(raw)
    values, bad, hint = _coerce_cells(table, name, kind, raw, inferred, complete, nones)
    return values, bad, hint, nested


def _coerce_cells(
    table: str,
    name: str,
    kind: str,
    raw: _Raw,
    inferred: str,
    complete: bool,
    nones: np.ndarray | None = None,
    facts: _TextFacts | None = None,
) -> tuple[_Values, np.ndarray, _Hint]:
    if kind == "str":
        values, bad, hint = _coerce_str(raw, inferred, complete, nones, facts)
        if name == "platform":
            # Missing platform means the contract default; case does not matter.
            # (Per cell in Python: pandas' .str accessor costs ~0.2 ms a call, and these columns
            # hold one short word per row.)
            # hint.missing: the None cells of values (every other cell is a str).
            text = values.copy()  # may be the input's own array
            odd = np.flatnonzero(~hint.missing & ~_known_platform(text))
            if len(odd):
                text[odd] = [v.lower() for v in text[odd].tolist()]
            text[hint.missing] = "instagram"
            values = text
        elif name == "country":
            text = values.copy()
            present = np.flatnonzero(~hint.missing)
            if len(present):
                text[present] = [v.upper() for v in text[present].tolist()]
            values = text
        if name == "platform":
            hint = _Hint(missing=np.zeros(len(values), bool))  # every cell filled in
        elif name == "country":
            hint = _Hint(missing=hint.missing)  # the same cells; lengths may change
        return values, bad, hint
    if kind in ("int", "float"):
        return _coerce_number(raw, inferred)
    if kind == "bool":
        return (*_coerce_bool(raw), _NO_HINT)
    if kind in ("date", "timestamp"):
        return (*_coerce_time(raw, inferred, day=kind == "date", complete=complete), _NO_HINT)
    raise ValueError(f"unknown contract type {kind!r} for {table}.{name}")


_PARSE_PROBLEM = {
    "int": "not a whole number",
    "float": "not a number",
    "bool": "not a boolean (use true/false, 1/0 or yes/no):",
    "date": "not an ISO 8601 date",
    "timestamp": "not an ISO 8601 timestamp",
}

_EMPTY = {
    "str": lambda n: np.full(n, None, dtype=object),
    "int": lambda n: np.full(n, np.nan),
    "float": lambda n: np.full(n, np.nan),
    "bool": lambda n: pd.arrays.BooleanArray(np.zeros(n, bool), np.ones(n, bool)),
    "date": lambda n: np.full(n, np.datetime64("NaT", "ns")),
    "timestamp": lambda n: np.full(n, np.datetime64("NaT", "ns")),
}


# --------------------------------------------------------------------------------------------
# The pandera schema of each table, built from features.schema.TABLES.

_PANDERA_DTYPE = {
    # str cells are guaranteed str/None by the coercion; pandera's element-wise str dtype check
    # would cost a Python pass per column for nothing.
    "str": object,
    "int": "float64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns]",
}


# Value rules as functions of a column's cells (a NumPy array); each returns one bool per cell.
# The same functions back the pandera schema and the quick pre-check below, so the two cannot
# disagree about what passes.


def _within_text_limit(cells: np.ndarray) -> np.ndarray:
    # Runs on every cell (missing ones pass): after _coerce_str a cell is a str or None, and
    # len() per cell is cheaper than converting the column to Arrow.
    known = cells != None  # noqa: E711 (elementwise)
    within = np.ones(len(cells), dtype=bool)
    lengths = np.fromiter(map(len, cells[known]), dtype="int64", count=int(known.sum()))
    within[known] = lengths <= TEXT_LIMIT
    return within


try:  # pandas' C loop for the longest text of an object array (its Stata/HDF writers use it)
    from pandas._libs.writers import max_len_string_array as _max_len_string_array
except ImportError:  # pragma: no cover (a pandas release without it: the Python loop below)
    _max_len_string_array = None


def _longest_text(cells: np.ndarray) -> int:
    """Characters in the longest str of an object array of str and None (0 if none).

    The C loop costs ~3 ns a cell against ~25 ns for ``max(map(len, ...))``, and text columns
    hold most of a batch's cells.
    """
    if _max_len_string_array is not None:
        return int(_max_len_string_array(cells))
    present = cells[cells != None]  # noqa: E711 (elementwise)
    return max(map(len, present), default=0)


def _whole(values: np.ndarray) -> np.ndarray:
    # An infinite count is not a whole number. floor() rather than % 1: the same answer for every
    # float, and no warning on inf to silence (np.errstate costs more than the test on a request).
    return np.isfinite(values) & (np.floor(values) == values)


def _non_negative(values: np.ndarray) -> np.ndarray:
    # 0.0, not 0: the same answer on float64 cells, without NumPy resolving a Python int (~0.7 us).
    return values >= 0.0


_PLATFORM_SET = frozenset(PLATFORMS)


def _known_platform(values: np.ndarray) -> np.ndarray:
    if len(values) > _FEW_IDS:
        return np.isin(values, PLATFORMS)
    # A few cells (str or None here): set look-ups, without np.isin's ~10 us set-up.
    return np.fromiter((v in _PLATFORM_SET for v in values.tolist()), bool, count=len(values))


_COUNTRY = re.compile(r"[A-Z]{2}")


def _country_code(values: np.ndarray) -> np.ndarray:
    return np.fromiter(
        (isinstance(v, str) and _COUNTRY.fullmatch(v) is not None for v in values),
        dtype=bool,
        count=len(values),
    )


def _outcome_max(values: np.ndarray) -> np.ndarray:
    return values <= 3.0


@dataclass(frozen=True)
class _Rule:
    """One value rule of a column: its check name (as pandera reports it) and its function."""

    name: str
    test: Callable[[np.ndarray], np.ndarray]
    ignore_na: bool = True  # missing cells pass without being looked at


# Extra value rules of the contract that features/schema.py does not express as column data.
_EXTRA_RULES: dict[tuple[str, str], tuple[_Rule, ...]] = {
    ("fit_labels", "outcome"): (_Rule("outcome_max", _outcome_max),),
}


def _rules(table: str, col: Column) -> tuple[_Rule, ...]:
    """The value rules of one contract column, in the order pandera reports them."""
    rules: list[_Rule] = []
    if col.type == "str":
        rules.append(_Rule("text_length", _within_text_limit, ignore_na=False))
    if col.type == "int":
        rules += [_Rule("non_negative", _non_negative), _Rule("whole", _whole)]
    if col.name == "platform":
        rules.append(_Rule("platform", _known_platform))
    if col.name == "country":
        rules.append(_Rule("country", _country_code))
    rules += _EXTRA_RULES.get((table, col.name), ())
    return tuple(rules)


def _series_check(rule: _Rule) -> pa.Check:
    """A rule as a pandera check (pandera hands it the column as a Series)."""

    def check(values: pd.Series) -> pd.Series:
        return pd.Series(rule.test(values.to_numpy()), index=values.index)

    return pa.Check(check, name=rule.name, ignore_na=rule.ignore_na)


@functools.cache
def table_schema(table: str) -> pa.DataFrameSchema:
    """The pandera schema of a contract table in its loaded representation."""
    columns = {
        col.name: pa.Column(
            _PANDERA_DTYPE[col.type],
            [_series_check(rule) for rule in _rules(table, col)],
            nullable=not col.required,
            required=True,
        )
        for col in TABLES[table]
    }
    key = list(KEYS.get(table, ()))
    return pa.DataFrameSchema(
        columns,
        unique=key or None,
        report_duplicates="all",
        strict=False,
        coerce=False,
        name=table,
    )


@functools.cache
def _loaded_dtypes(table: str) -> tuple[tuple[Column, object, tuple[_Rule, ...]], ...]:
    return tuple(
        (col, pd.api.types.pandas_dtype(_PANDERA_DTYPE[col.type]), _rules(table, col))
        for col in TABLES[table]
    )


def _missing(cells: np.ndarray) -> np.ndarray:
    """``pd.isna(cells)``; NumPy's own test for floats and datetimes (a few us less a column)."""
    if cells.dtype.kind == "f":
        return np.isnan(cells)
    if cells.dtype.kind == "M":
        return np.isnat(cells)
    return pd.isna(cells)


def _frame_dtypes(frame: pd.DataFrame) -> dict[str, object]:
    """Column name -> dtype of ``frame`` (``frame.dtypes`` without building a Series)."""
    return dict(zip(frame.columns, frame_dtypes(frame), strict=True))


def _ruled_columns(
    table: str,
    frame: pd.DataFrame,
    hints: Mapping[str, _Hint],
    columns: Mapping[str, _Values] | None,
    exact: bool = False,
) -> Iterator[tuple[Column, tuple[_Rule, ...], np.ndarray, _Hint, np.ndarray] | None]:
    """Each contract column of ``frame`` that a rule looks at (a value rule, or required): the
    column, its rules, its cells, its coercion hint and its missing cells.

    None in its place, and nothing after, for a column not in its loaded dtype (a coercion
    bug, which pandera names). ``columns``: the arrays ``frame`` holds (a Series per column
    otherwise); the frame's own dtypes decide too, as building it may infer one, unless
    ``exact``: the frame was made from these arrays as they are (:func:`_frame`, ``checked``).
    """
    dtypes = _frame_dtypes(frame) if columns is not None and not exact else {}
    for col, dtype, rules in _loaded_dtypes(table):
        if columns is not None:
            values = columns[col.name]
            loaded = values.dtype == dtype and (exact or dtypes[col.name] == dtype)
        else:
            values = frame[col.name]
            loaded = values.dtype == dtype
        if not loaded:
            yield None
            return
        if not rules and not col.required:
            continue
        cells = values if isinstance(values, np.ndarray) else values.to_numpy()
        hint = hints.get(col.name, _NO_HINT)
        missing = hint.missing if hint.missing is not None else _missing(cells)
        yield col, rules, cells, hint, missing


def _short_enough(cells: np.ndarray, hint: _Hint) -> bool:
    """Whether no text cell is longer than ``TEXT_LIMIT`` (missing cells pass): known from
    Arrow's cell lengths, else the longest text by the C loop, without a len() per cell."""
    return hint.short or _longest_text(cells) <= TEXT_LIMIT


def _passes(
    table: str,
    frame: pd.DataFrame,
    hints: Mapping[str, _Hint] | None = None,
    columns: Mapping[str, _Values] | None = None,
    exact: bool = False,
) -> bool:
    """Whether ``frame`` surely passes :func:`table_schema`, checked without pandera.

    pandera costs milliseconds per call whatever the size, which dominates small requests. This
    applies the same rules with NumPy; only a table that fails here is handed to pandera, which
    then names every failing cell. It may answer False for a valid table (missing parts of a key
    count as duplicates here), never True for an invalid one. ``hints`` (column -> what its
    coercion established) spare the Python-level passes over text columns; ``columns`` (column
    -> the array ``frame`` holds for it) spare a Series per column, and ``exact`` (the frame
    holds them as they are, no dtype inferred) a look at the frame's dtypes.
    """
    for item in _ruled_columns(table, frame, hints or {}, columns, exact):
        if item is None:
            return False
        col, rules, cells, hint, missing = item
        some_missing = missing.any()
        if col.required and some_missing:
            return False
        present = None  # the present cells, taken when a rule first needs them
        for rule in rules:
            if rule.test is _whole and hint.whole:
                continue
            if rule.test is _within_text_limit:
                if not _short_enough(cells, hint):
                    return False
                continue
            if not rule.ignore_na:
                values = cells
            else:
                if present is None:
                    present = cells[~missing] if some_missing else cells
                values = present
            if len(values) and not rule.test(values).all():
                return False
    key = list(KEYS.get(table, ()))
    if not key:
        return True
    # One unique part (post ids are usually unique across creators) makes the key unique; that
    # hashes one column instead of factorising all. Up to a few thousand str/None cells (a
    # request's, or a few requests'): a set of them, without a Series and pandas' hash table set
    # up (~30 us for 800 follower ids against ~12 us).
    last = columns.get(key[-1]) if columns is not None else None
    if last is not None and len(last) <= _SET_UNIQUE_MAX:
        if len(set(last.tolist())) == len(last):
            return True
    elif frame[key[-1]].is_unique:
        return True
    return len(key) > 1 and not frame.duplicated(key).any()


# Up to this many cells a key column's uniqueness is asked of a Python set (see _passes).
_SET_UNIQUE_MAX = 4_096


def _check_problem(check: str, value: object) -> str:
    if check == "not_nullable":
        return "missing value in a required column"
    if check == "non_negative":
        return f"negative value {_show(value)}"
    if check == "whole":
        return f"not a whole number {_show(value)}"
    if check == "text_length":
        return f"text of {len(str(value)):,} characters exceeds {TEXT_LIMIT:,}"
    if check == "platform":
        return f"unknown platform {_show(value)} (use one of {', '.join(PLATFORMS)})"
    if check == "country":
        return f"country {_show(value)} is not a two-letter ISO 3166-1 code"
    if check == "outcome_max":
        return f"outcome {_show(value)} is above the maximum 3"
    return f"fails check {check}: {_show(value)}"


def _duplicate_problems(table: str, frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """One error per row of a duplicated key, naming the key and the other rows holding it."""
    key = list(KEYS[table])
    dup = frame.iloc[rows][key].copy()
    dup["row"] = rows + 1
    dup = dup.dropna(subset=key)  # a missing key part is reported as missing, not duplicate
    problems = []
    groups = dup.groupby(key, sort=False)["row"].agg(list)
    for row, *parts in dup[["row", *key]].itertuples(index=False):
        others = [r for r in groups.loc[tuple(parts) if len(parts) > 1 else parts[0]] if r != row]
        # A key repeated thousands of times must not give messages of thousands of row numbers.
        shown = ", ".join(map(str, others[:5]))
        if len(others) > 5:
            shown += f" and {len(others) - 5:,} more"
        where = f"also in row{'s' if len(others) > 1 else ''} {shown}"
        if len(key) == 1:
            problems.append(f"duplicate {key[0]} {_show(parts[0])} ({where})")
        else:
            named = ", ".join(f"{k} {_show(v)}" for k, v in zip(key, parts, strict=True))
            problems.append(f"duplicate key {named} ({where})")
    return pd.DataFrame({"row": dup["row"].to_numpy(), "column": key[-1], "problem": problems})


# Tables of more rows than this that fail the quick check are validated by pandera on the rows
# that may fail only: on a whole batch chunk pandera copies the table and checks every text
# cell in Python, which made one bad cell cost ~100 us a creator of the chunk.
_WHOLE_SCHEMA_MAX = 1_000


def _suspect_rows(
    table: str,
    frame: pd.DataFrame,
    hints: Mapping[str, _Hint],
    columns: Mapping[str, _Values] | None,
    exact: bool = False,
) -> np.ndarray | None:
    """Positions of every row of ``frame`` that may fail :func:`table_schema`, or None for all.

    The rules of :func:`_passes`, cell by cell: a missing cell of a required column, a present
    cell failing a value rule (missing ones too for rules that look at them), and every row of a
    key held more than once. pandera's verdict on each cell depends on that cell alone, and on a
    duplicated key on all its rows, which are all kept: on these rows it finds exactly what it
    finds on the whole table. A column not in its loaded dtype (a coercion bug pandera names)
    gives None, and so does a call without ``columns`` (the frame's arrays).
    """
    if columns is None:
        return None
    bad = np.zeros(len(frame), dtype=bool)
    for item in _ruled_columns(table, frame, hints, columns, exact):
        if item is None:
            return None
        col, rules, cells, hint, missing = item
        if col.required:
            bad |= missing
        present = np.flatnonzero(~missing)
        for rule in rules:
            if rule.test is _within_text_limit and _short_enough(cells, hint):
                continue  # the usual answer without a len() per cell
            if rule.ignore_na:
                bad[present[~rule.test(cells[present])]] = True
            else:
                bad |= ~rule.test(cells)
    key = list(KEYS.get(table, ()))
    if key and not frame[key[-1]].is_unique:
        bad |= frame.duplicated(key, keep=False).to_numpy()
    return np.flatnonzero(bad)


def _schema_problems(
    table: str,
    frame: pd.DataFrame,
    name: str,
    hints: Mapping[str, _Hint] | None = None,
    columns: Mapping[str, _Values] | None = None,
    exact: bool = False,
) -> pd.DataFrame:
    """Run the table's pandera schema lazily and turn its failure cases into row problems.

    ``hints``, ``columns``, ``exact``: as for :func:`_passes`.
    """
    if _passes(table, frame, hints, columns, exact):
        return _NO_PROBLEMS
    checked = frame
    if len(frame) > _WHOLE_SCHEMA_MAX:
        rows = _suspect_rows(table, frame, hints or {}, columns, exact)
        if rows is not None:
            # The row labels stay the frame's positions, so failure cases name the right rows.
            checked = frame.take(rows)
    try:
        with warnings.catch_warnings():
            # pandera concatenates its failure cases, some all-missing (the value of a missing
            # cell), which pandas 2.x warns about; the result is fine for our use.
            warnings.filterwarnings(
                "ignore", "The behavior of DataFrame concatenation", FutureWarning
            )
            table_schema(table).validate(checked, lazy=True)
        return _NO_PROBLEMS
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    if cases["index"].isna().any():
        # A column-level failure (wrong dtype) means the coercion above has a bug, not the data.
        raise ContractError(f"{name}: the loaded table does not match its schema:\n{cases}")
    cases = cases.assign(row=cases["index"].astype("int64") + 1)
    is_dup = cases["check"].astype(str).str.contains("uniqueness")
    found = [
        pd.DataFrame(
            {
                "row": cases.loc[~is_dup, "row"].to_numpy(),
                "column": cases.loc[~is_dup, "column"].to_numpy(),
                "problem": [
                    _check_problem(c, v)
                    for c, v in zip(
                        cases.loc[~is_dup, "check"], cases.loc[~is_dup, "failure_case"], strict=True
                    )
                ],
            }
        )
    ]
    if is_dup.any():
        rows = np.unique(cases.loc[is_dup, "row"].to_numpy()) - 1
        found.append(_duplicate_problems(table, frame, rows))
    return pd.concat(found, ignore_index=True)


# --------------------------------------------------------------------------------------------
# One table: required columns, coercion, schema.


def _validate_table(
    table: str, raw: pd.DataFrame, name: str, facts: Mapping[str, _TextFacts] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coerce and check one table; returns all its rows coerced, and its row problems.

    ``facts``: what the Arrow table ``raw`` was made from knows of its text columns.
    """
    frame, found, _ = _validate(table, raw, name, facts)
    return frame, found


def _validate(
    table: str, raw: pd.DataFrame, name: str, facts: Mapping[str, _TextFacts] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, _Values]]:
    """:func:`_validate_table`, and the coerced contract columns' arrays (the frame's cells)."""
    facts = facts or {}
    contract = TABLES[table]
    names = raw.columns.tolist()
    if not all(isinstance(c, str) for c in names):
        raw = raw.rename(columns=str)
        names = raw.columns.tolist()
    if len(set(names)) < len(names):
        doubled = sorted(set(raw.columns[raw.columns.duplicated()]))
        raise ContractError(f"{name}: column {', '.join(doubled)} given more than once; keep one")
    given = dict(zip(names, _raw_columns(raw), strict=True))
    missing = [c.name for c in contract if c.required and c.name not in given]
    if missing:
        raise ContractError(
            f"{name}: required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} missing; columns found: "
            f"{', '.join(map(str, raw.columns)) or '(none)'}"
        )
    n = len(raw)
    coerced: dict[str, _Values] = {}
    hints: dict[str, _Hint] = {}
    problems = []
    for col in contract:
        cells = given.get(col.name)
        if cells is None:
            values = _EMPTY[col.type](n)
            if col.name == "platform":
                values = np.full(n, "instagram", dtype=object)
            coerced[col.name] = values
            continue
        values, bad, hints[col.name], nested = _coerce_column(
            table, col.name, col.type, cells, facts.get(col.name)
        )
        coerced[col.name] = values
        if nested is not None:
            rows = np.flatnonzero(nested)
            problems.append(
                pd.DataFrame(
                    {
                        "row": rows + 1,
                        "column": col.name,
                        "problem": [
                            f"a list or object {_show(v)} where a {col.type} belongs"
                            for v in _numpy(cells, object)[rows]
                        ],
                    }
                )
            )
        if bad.any():
            rows = np.flatnonzero(bad)
            shown = _numpy(cells, object)[rows]
            prefix = _PARSE_PROBLEM[col.type]
            problems.append(
                pd.DataFrame(
                    {
                        "row": rows + 1,
                        "column": col.name,
                        "problem": [f"{prefix} {_show(v)}" for v in shown],
                    }
                )
            )
    extras = {c: _column_array(v) for c, v in given.items() if c not in coerced}
    frame = _frame({**coerced, **extras}, n, checked=not extras)
    exact = not extras and _arrays_to_mgr is not None  # the frame holds coerced as they are
    problems.append(_schema_problems(table, frame, name, hints, coerced, exact=exact))
    problems = [p for p in problems if len(p)]
    if not problems:
        return frame, _NO_PROBLEMS, coerced
    found = pd.concat(problems, ignore_index=True)
    # One problem per cell: the parse failure explains the missing value the schema then sees.
    found = found.drop_duplicates(["row", "column"], keep="first")
    return frame, found, coerced


def _column_array(values: _Raw) -> _Values:
    """The array behind a column: NumPy for NumPy dtypes, else the extension array."""
    if isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
        return values
    return np.asarray(values)


try:  # pandas' step from column arrays to a frame's blocks, without the constructor's checks
    from pandas.core.internals.construction import arrays_to_mgr as _arrays_to_mgr
except ImportError:  # pragma: no cover (a pandas release without it: the constructor below)
    _arrays_to_mgr = None


try:  # pandas' own wrapper of nanosecond datetimes, without re-checking every value
    from pandas.arrays import DatetimeArray as _DatetimeArray

    _wrap_ns = _DatetimeArray._simple_new
except (ImportError, AttributeError):  # pragma: no cover (then pandas wraps them itself)
    _wrap_ns = None


def _wrapped(values: _Values) -> _Values:
    """A column's array as a frame's block holds it: naive nanosecond datetimes wrapped.

    The frame would wrap them anyway, through a constructor that converts and checks a sequence
    of any kind: 15-25 us a column, a tenth of a one-creator load with its five time columns.
    """
    if _wrap_ns is not None and isinstance(values, np.ndarray) and values.dtype == _NS:
        return _wrap_ns(values, dtype=_NS)
    return values


try:  # the blocks a frame built by arrays_to_mgr holds, made directly (see _blocks)
    from pandas._libs.internals import BlockPlacement as _Placement
    from pandas.core.internals.blocks import DatetimeLikeBlock as _TimeBlock
    from pandas.core.internals.blocks import ExtensionBlock as _ExtensionBlock
    from pandas.core.internals.blocks import NumpyBlock as _NumpyBlock
    from pandas.core.internals.managers import BlockManager as _BlockManager
except ImportError:  # pragma: no cover (a pandas release without them: arrays_to_mgr)
    _BlockManager = None

# NumPy kinds whose 1-D arrays a frame's block holds as they are (bool, numbers, objects).
_PLAIN_KINDS = frozenset("biufO")


def _blocks(arrays: list[_Values], n: int) -> list[object] | None:
    """The one-column blocks ``arrays_to_mgr(..., consolidate=False)`` makes of ``arrays``.

    The same block classes, values and places, made without its per-column dispatch (dtype
    tests, wrapping, reshaping: ~1.5 us of its ~2 us a column, twice per column of a request:
    in its input table and its loaded table). None when an array is of another kind (extension
    arrays other than booleans, time zones, other units, ...): pandas then makes the blocks.
    """
    if _BlockManager is None or _wrap_ns is None:
        return None
    blocks = []
    for i, values in enumerate(arrays):
        kind = type(values)
        if getattr(values, "ndim", None) != 1 or len(values) != n:
            return None
        if kind is np.ndarray and values.dtype.kind in _PLAIN_KINDS:
            block = _NumpyBlock(values.reshape(1, -1), ndim=2, placement=_Placement(i))
        elif kind is pd.arrays.BooleanArray:
            block = _ExtensionBlock(values, ndim=2, placement=_Placement(i))
        else:
            values = _wrapped(values)
            if type(values) is not _DatetimeArray or values.dtype != _NS or values.freq is not None:
                return None
            block = _TimeBlock(values.reshape(1, -1), ndim=2, placement=_Placement(i))
        blocks.append(block)
    return blocks


@functools.lru_cache(maxsize=64)
def _column_index(names: tuple[str, ...]) -> pd.Index:
    """The columns Index of a loaded table: one per column list (an Index is ~20 us to build).

    Each frame gets its own view of it (see :func:`_frame`), so renaming one frame's columns
    never renames another's.
    """
    return pd.Index(list(names))


def _frame(columns: dict[str, _Values], n: int, *, checked: bool) -> pd.DataFrame:
    """The loaded frame of ``n`` rows holding ``columns`` (arrays of n values, in row order).

    The arrays are used as they are: not aligned (there is no index to align), not copied into
    2-D blocks. ``checked``: every array is already in its loaded representation (coerced contract
    columns), so the constructor's per-column inference, ~10 us a column, can change nothing and
    is skipped; given extra columns keep going through it, as their dtype may be inferred.
    """
    if checked and _arrays_to_mgr is not None:
        arrays = list(columns.values())
        names = _column_index(tuple(columns)).view()
        blocks = _blocks(arrays, n)
        if blocks is not None:
            mgr = _BlockManager(tuple(blocks), [names, pd.RangeIndex(n)], verify_integrity=False)
        else:
            mgr = _arrays_to_mgr(
                [_wrapped(values) for values in arrays],
                names,
                pd.RangeIndex(n),
                verify_integrity=False,
                typ="block",
                consolidate=False,
            )
        return pd.DataFrame._from_mgr(mgr, axes=mgr.axes)
    return pd.DataFrame(columns, index=pd.RangeIndex(n), copy=False)


def columns_frame(columns: Mapping[str, np.ndarray], n: int) -> pd.DataFrame:
    """A table for :func:`load` holding ``columns`` (1-D NumPy arrays of ``n`` cells) as given.

    What ``pd.DataFrame(columns, copy=False)`` gives for arrays of plain cells (str, None,
    numbers, bools, lists and dicts: what JSON holds), without the constructor's second look at
    every object column for datetime objects, which cannot change such cells: about a third of
    the constructor's time (30-60 us less a table of a one-creator request). The arrays are not
    copied.
    """
    bad = [
        name
        for name, values in columns.items()
        if getattr(values, "ndim", None) != 1 or len(values) != n
    ]
    if bad:
        raise ValueError(f"column(s) {', '.join(map(str, bad))} are not 1-D arrays of {n} cells")
    return _frame(dict(columns), n, checked=True)


def _with_table(table: str, problems: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Add table and creator_id columns to a table's row problems."""
    if not len(problems):  # the common case; building and sorting an empty frame costs ms
        return _NO_ERRORS  # shared: callers only filter it out or concatenate it
    rows = problems["row"].to_numpy(dtype="int64")
    if "creator_id" in frame.columns and table != "brands":
        ids = frame["creator_id"].to_numpy(dtype=object)[rows - 1]
    else:
        ids = np.full(len(rows), None, dtype=object)
    if table == "creators":
        ids = np.where(pd.isna(ids), "", ids)  # matches the "" kept in creator_ids
    order = {c.name: i for i, c in enumerate(TABLES[table])}
    out = pd.DataFrame(
        {
            "table": table,
            "row": rows,
            "column": problems["column"].to_numpy(dtype=object),
            "creator_id": ids,
            "problem": problems["problem"].to_numpy(dtype=object),
        }
    )
    out["_col"] = out["column"].map(order).fillna(len(order))
    return out.sort_values(["row", "_col"], kind="stable").drop(columns="_col")


_NO_ERRORS = pd.DataFrame(
    {
        "table": pd.Series(dtype=object),
        "row": pd.Series(dtype="int64"),
        "column": pd.Series(dtype=object),
        "creator_id": pd.Series(dtype=object),
        "problem": pd.Series(dtype=object),
    }
)


def _empty_errors() -> pd.DataFrame:
    return _NO_ERRORS.copy()


def _concat_errors(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty_errors()
    out = pd.concat(parts, ignore_index=True)
    out["row"] = out["row"].astype("int64")
    return out


# Up to this many runs and known ids, a Python set looks ids up faster than pandas' hash table,
# which costs ~20 us a call to set up whatever the size (one-creator requests).
_FEW_IDS = 256


def _few(ids: Sequence[object]) -> frozenset | None:
    """``ids`` as a set for :func:`_isin_runs` when they are few, else None."""
    return frozenset(ids) if len(ids) <= _FEW_IDS else None


def _run_heads(values: np.ndarray) -> np.ndarray:
    """Positions where a run of equal neighbours starts (every position of a short array)."""
    n = len(values)
    if n < 2:
        return np.arange(n)
    return np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))


def _isin_runs(
    values: np.ndarray,
    known: pd.Index,
    few: frozenset | None = None,
    heads: np.ndarray | None = None,
) -> np.ndarray:
    """``values.isin(known)``, looked up once per run of equal neighbours.

    Child tables list a creator's rows together: comparing neighbours costs a fraction of a hash
    lookup per row, so the lookups shrink to one per creator. ``few``: ``known`` as a set (ids
    are str here, so set membership and pandas' lookup agree), used when the runs are few too.
    ``heads``: :func:`_run_heads` of ``values``, when known already.
    """
    n = len(values)
    if heads is None:
        heads = _run_heads(values)
    if few is not None and len(heads) <= _FEW_IDS:
        cells = values[heads].tolist()
        found = np.fromiter((v in few for v in cells), dtype=bool, count=len(cells))
    else:
        found = pd.Index(values[heads], dtype=object).isin(known)
    if len(heads) == n:
        return found
    if found.all():
        return np.ones(n, dtype=bool)
    return np.repeat(found, np.diff(np.concatenate((heads, [n]))))


def _summaries(errors: pd.DataFrame) -> dict[str, str]:
    """creator_id -> "posts row 17, column likes: negative value -5; ..." (first three)."""
    out: dict[str, str] = {}
    if errors.empty:
        return out
    texts = (
        errors["table"]
        + " row "
        + errors["row"].astype(str)
        + ", column "
        + errors["column"].astype(str)
        + ": "
        + errors["problem"]
    )
    for creator_id, group in texts.groupby(errors["creator_id"].to_numpy(), sort=False):
        items = group.tolist()
        message = "; ".join(items[:3])
        if len(items) > 3:
            message += f" (+{len(items) - 3} more)"
        out[creator_id] = message
    return out


# --------------------------------------------------------------------------------------------
# Public entry points


def load(source: str | Path | _Tables) -> CreatorData:
    """Load and validate the input tables of a dataset.

    Parameters
    ----------
    source : a folder holding ``<table>.<ext>`` files (``creators.csv``, ``posts.parquet``, ...),
        or a mapping of table name to DataFrame or pyarrow Table (as read from Parquet: the
        loader then takes what Arrow knows of its text columns instead of scanning the cells).
        Only the input tables are read; files and keys not named after one are ignored.

    Returns
    -------
    CreatorData
        Every table coerced to the loaded representation of :mod:`features.schema`, with the rows
        of unscorable creators removed and every problem reported.

    Raises
    ------
    ContractError
        When a whole file or table is unusable (see the module docstring).

    Examples
    --------
    >>> creators = pd.DataFrame({"creator_id": ["a", "b"], "followers": ["10", "-1"]})
    >>> data = load({"creators": creators})
    >>> data.creators["creator_id"].tolist(), data.creator_ids
    (['a'], ['a', 'b'])
    >>> data.error_for("b")
    'creators row 2, column followers: negative value -1'
    """
    raw, names, facts = _raw_tables(source, INPUT_TABLES)
    for table in REQUIRED_TABLES:
        if table not in raw:
            where = "the mapping" if isinstance(source, Mapping) else str(source)
            raise ContractError(
                f"required table {table} missing in {where}; "
                f"give it as {', '.join(table + '.' + e for e in EXTENSIONS)}"
            )
    frames: dict[str, pd.DataFrame] = {}
    problems: dict[str, pd.DataFrame] = {}
    # The creator_id cells of each table (str or None), the arrays its frame holds: taken from
    # the frame, each would cost a Series or a look-up of the frame's blocks (~15 us).
    table_ids: dict[str, np.ndarray] = {}
    for table in INPUT_TABLES:
        if table in raw:
            frame, found, arrays = _validate(table, raw[table], names[table], facts.get(table))
            frames[table] = frame
            problems[table] = _with_table(table, found, frame)
            if table != "brands":
                table_ids[table] = arrays["creator_id"]

    # On the arrays, not through Series methods: each of those costs ~0.1 ms whatever the size,
    # most of the time for the few rows of one request.
    ids = table_ids["creators"]
    id_present = ~pd.isna(ids)
    creator_ids = np.where(id_present, ids, "").tolist()
    # The known ids as an array: isin takes it as it would an Index of them, which costs
    # ~10 us to build and is only needed for many ids or when there are errors.
    known = pd.unique(ids[id_present])
    few_known = _few(known.tolist())

    # Rows whose creator is not in creators: reported, dropped, nobody made unscorable.
    in_known: dict[str, np.ndarray] = {}
    heads: dict[str, np.ndarray] = {}
    for table in CHILD_TABLES:
        if table not in frames:
            continue
        child_ids = table_ids[table]
        heads[table] = _run_heads(child_ids)  # shared with the look-up of unscorable ids
        in_known[table] = _isin_runs(child_ids, known, few_known, heads[table])
        rows = np.flatnonzero(~in_known[table])
        if len(rows):
            rows = rows[~pd.isna(child_ids[rows])]  # a missing id is reported already
        if len(rows):
            extra = pd.DataFrame(
                {
                    "table": table,
                    "row": rows + 1,
                    "column": "creator_id",
                    "creator_id": child_ids[rows],
                    "problem": [
                        f"unknown creator {_show(v)} (not in creators)" for v in child_ids[rows]
                    ],
                }
            )
            merged = pd.concat([problems[table], extra], ignore_index=True)
            merged = merged.drop_duplicates(["row", "column"], keep="first")
            problems[table] = merged.sort_values("row", kind="stable")

    errors = _concat_errors([problems[t] for t in INPUT_TABLES if t in problems])
    unscorable: dict[str, str] = {}
    if len(errors):
        blames = errors["table"].isin(("creators", *CHILD_TABLES)).to_numpy() & (
            errors["creator_id"].isin(known).to_numpy() | (errors["table"] == "creators").to_numpy()
        )
        unscorable = _summaries(errors[blames])
    bad_ids = pd.Index(list(unscorable), dtype=object) if unscorable else None

    out: dict[str, pd.DataFrame | None] = dict.fromkeys(INPUT_TABLES)
    for table, frame in frames.items():
        if table == "brands":
            keep = ~np.isin(np.arange(1, len(frame) + 1), problems[table]["row"].to_numpy())
        elif table == "creators":
            keep = id_present & ~pd.Index(ids).isin(bad_ids) if bad_ids is not None else id_present
        else:
            keep = in_known[table]
            if bad_ids is not None:
                child_ids = table_ids[table]
                keep = keep & ~_isin_runs(child_ids, bad_ids, _few(list(unscorable)), heads[table])
        keep = np.asarray(keep, dtype=bool)
        # The kept rows with a fresh RangeIndex; reset_index would copy them all once more.
        out[table] = frame if keep.all() else _positional(frame[keep])

    return CreatorData(
        creators=out["creators"],
        follower_history=out["follower_history"],
        posts=out["posts"],
        comments=out["comments"],
        audience_sample=out["audience_sample"],
        brands=out["brands"],
        creator_ids=creator_ids,
        # A fresh copy (with consolidated blocks) of found errors; no errors are one already.
        errors=errors.reset_index(drop=True) if len(errors) else errors,
        unscorable=unscorable,
    )


def load_labels(
    source: str | Path | Mapping[str, pd.DataFrame],
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Load the training label tables present in ``source``; bad rows are dropped and reported.

    Parameters
    ----------
    source : a dataset folder or a mapping of table name to DataFrame; only the label tables
        (``fraud_labels``, ``fit_labels``, ``account_labels``) are read, all optional.

    Returns
    -------
    tables : the label tables given, coerced like :func:`load`'s tables, bad rows removed.
    errors : their row problems, columns ``table, row, column, creator_id, problem``.

    Raises
    ------
    ContractError
        When a whole label file is unusable (unreadable, a required column missing, ...).
    """
    raw, names, facts = _raw_tables(source, LABEL_TABLES)
    tables: dict[str, pd.DataFrame] = {}
    parts = []
    for table in LABEL_TABLES:
        if table not in raw:
            continue
        frame, found = _validate_table(table, raw[table], names[table], facts.get(table))
        found = _with_table(table, found, frame)
        parts.append(found)
        if len(found):
            keep = ~np.isin(np.arange(1, len(frame) + 1), found["row"].to_numpy())
            frame = frame[keep].reset_index(drop=True)
        tables[table] = frame
    return tables, _concat_errors(parts).reset_index(drop=True)
