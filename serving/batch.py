"""Batch scoring of a dataset folder in chunks of whole creators, with bounded memory.

Input order
-----------
The ``creators`` table is cut into chunks of ``chunk_size`` rows, in file order. Every child
table (``follower_history``, ``posts``, ``comments``, ``audience_sample``) must hold each
creator's rows **together and in the order of the creators table** (the order the simulator,
and any export sorted the same way as ``creators``, writes). Each chunk then takes a contiguous
run of every child table, so a 180-million-row history is read once whatever the chunk count.
The order is checked: a row that comes back to an earlier creator stops the run with a
``ContractError`` naming the table, row and both creators. Rows naming an unknown creator go
with the chunk they sit in, where the loader reports them. With a single chunk
(``chunk_size=0`` or at least the number of creators) no order is needed.

Why not filter each child table per chunk (pyarrow dataset filters ``creator_id in ids``)? That
scans every child table once per chunk: chunks x rows, against rows once here.

How chunks are read
-------------------
- **Every table in Parquet** (a file, or a folder of files): before scoring, the main process
  reads only the ``creator_id`` columns, one row group at a time and dictionary-encoded (so
  each distinct id is looked up once, and a row group's ids in one hash look-up when they are
  creators in order; about 1 s for a million creators with 250 child rows each, on two
  threads), checks the order and plans each chunk as row slices of row groups
  (:class:`ChunkPlan`). Meanwhile the workers start and load the bundle. Each worker opens
  the files and reads only its chunks' row groups, scores them and writes its part file: chunk
  rows never pass through the main process, which only coordinates and appends the parts to
  the output as they come in. Consecutive chunks go to the
  same worker (a task of a row group's worth of chunks), which streams each row group from
  where its last chunk ended, so a row group spanning several chunks is decoded about once.
  The last few chunks go out one per task, so the workers finish at about the same time.
- **CSV or JSON Lines** (any table): these cannot be read from the middle, so the main process
  streams every table once (:func:`iter_chunks`) and hands each chunk to a worker.

Row numbers in error messages are those of the whole table, as the one-piece loader gives them;
a ``creator_id`` repeated in different chunks is reported as a duplicate like within one chunk.

Other guarantees: chunks are scored in parallel with joblib's process workers (``loky``, not
fork, so LightGBM's OpenMP state is never inherited; each worker loads and verifies the bundle
once); the output is written to a temporary file while the chunks are scored (each part is
appended once every chunk before it is done) and renamed into place at the end, so a failed
run never leaves a partial output; every finished chunk is kept in ``<out>.parts/`` until then,
and ``resume=True`` continues an interrupted run from them.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
import json
import os
import shutil
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from features.dataset import EXTENSIONS, ContractError, CreatorData, arrow_frame, load
from features.schema import FIT_COLUMNS, SCORE_COLUMNS, SCORE_EXTRA_COLUMNS

__all__ = [
    "OUTPUT_FORMATS",
    "BatchSummary",
    "read_creator_ids",
    "iter_chunks",
    "plan_chunks",
    "ChunkPlan",
    "score_folder",
    "fit_folder",
    "write_output",
]

OUTPUT_FORMATS = ("csv", "parquet", "jsonl")
CHILD_TABLES = ("follower_history", "posts", "comments", "audience_sample")
READ_BATCH_ROWS = 65_536
_STATE = "state.json"

_FLOATS = (
    "fraud_risk",
    "audience_fake_share",
    "engagement_rate",
    "expected_engagement_rate",
    "audience_fake_share_low",
    "audience_fake_share_high",
)
_SCORE_SCHEMA = pa.schema(
    [(c, pa.float64() if c in _FLOATS else pa.string()) for c in SCORE_COLUMNS]
)
_SCORE_EXTRA_SCHEMA = pa.schema(
    [
        (c, pa.float64() if c in _FLOATS else pa.string())
        for c in (*SCORE_COLUMNS, *SCORE_EXTRA_COLUMNS)
    ]
)
_FIT_TYPES = {"fit_score": pa.float64(), "fit_rank": pa.int64(), "fraud_risk": pa.float64()}
_FIT_SCHEMA = pa.schema([(c, _FIT_TYPES.get(c, pa.string())) for c in FIT_COLUMNS])


# --------------------------------------------------------------------------------------------
# Reading


def _table_file(folder: Path, table: str) -> Path | None:
    found = [
        folder / f"{table}.{ext}" for ext in EXTENSIONS if (folder / f"{table}.{ext}").exists()
    ]
    if len(found) > 1:
        raise ContractError(f"{len(found)} files for table {table} in {folder}; keep exactly one")
    return found[0] if found else None


def _stream(path: Path, columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """Raw frames of a table file in file order, read as ``features.dataset.read_table`` reads."""
    name = path.name
    ext = name.partition(".")[2]
    if ext == "parquet":
        files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        for file in files:
            pf = pq.ParquetFile(file)
            cols = [c for c in columns if c in pf.schema_arrow.names] if columns else None
            for batch in pf.iter_batches(batch_size=READ_BATCH_ROWS, columns=cols):
                yield arrow_frame(batch)
    elif ext.startswith("csv"):
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            encoding="utf-8-sig",
            chunksize=READ_BATCH_ROWS,
            usecols=(lambda c: c in columns) if columns else None,
        )
        with reader:
            yield from reader
    elif ext.startswith("jsonl"):
        reader = pd.read_json(
            path,
            lines=True,
            dtype=False,
            convert_dates=False,
            keep_default_dates=False,
            chunksize=READ_BATCH_ROWS,
        )
        with reader:
            for frame in reader:
                yield frame[[c for c in columns if c in frame.columns]] if columns else frame
    else:
        raise ContractError(f"{path}: cannot stream files of type '.{ext}'")


def _ids(values: pd.Series) -> np.ndarray:
    """Creator ids as text (as the loader coerces them), missing -> None."""
    arr = values.to_numpy(dtype=object)
    miss = pd.isna(arr)
    out = arr.astype(str).astype(object)
    out[miss] = None
    return out


def read_creator_ids(folder: Path) -> np.ndarray:
    """Every ``creator_id`` of the creators table, in file order (only that column is read)."""
    path = _table_file(folder, "creators")
    if path is None:
        raise ContractError(f"required table creators missing in {folder}")
    parts = [_ids(f["creator_id"]) for f in _stream(path, ["creator_id"]) if "creator_id" in f]
    if not parts:
        raise ContractError(f"{path}: required column creator_id missing")
    return np.concatenate(parts)


class _ChildReader:
    """Hands out the contiguous run of a child table that belongs to each chunk of creators."""

    def __init__(self, table: str, path: Path, position: Callable, check_order: bool) -> None:
        self.table, self.path = table, path
        self.batches = _stream(path)
        self.position = position
        self.check_order = check_order
        self.buf: pd.DataFrame | None = None
        self.pos = np.empty(0, dtype=np.int64)
        self.last = 0  # creator position of the last row handed out
        self.row = 0  # 0-based table row of the buffer's first row

    def _next(self) -> bool:
        frame = next(self.batches, None)
        if frame is None:
            return False
        if "creator_id" not in frame.columns:
            raise ContractError(f"{self.path}: required column creator_id missing")
        pos = self.position(_ids(frame["creator_id"])).astype("float64")
        pos[pos < 0] = np.nan  # unknown creator: travels with the rows around it
        pos = pd.Series(pos).ffill().fillna(self.last).to_numpy().astype(np.int64)
        if self.check_order:
            prev = np.r_[self.last if self.buf is None or not len(self.pos) else self.pos[-1], pos]
            back = np.flatnonzero(np.diff(prev) < 0)
            if back.size:
                i = int(back[0])
                raise ContractError(
                    f"{self.path}: row {self.row + self._buffered() + i + 1} (creator "
                    f"{frame['creator_id'].iloc[i]!r}) comes after rows of a later creator: "
                    f"batch scoring needs each creator's {self.table} rows together and in the "
                    f"order of the creators table; sort the table that way, or score in one "
                    f"chunk (--chunk-size 0)"
                )
        self.buf = frame if self.buf is None else pd.concat([self.buf, frame], ignore_index=True)
        self.pos = np.r_[self.pos, pos]
        return True

    def _buffered(self) -> int:
        return 0 if self.buf is None else len(self.buf)

    def take(self, end: int) -> tuple[pd.DataFrame | None, int]:
        """Rows of creators before position ``end``; returns them and their first table row."""
        while not len(self.pos) or self.pos[-1] < end:
            if not self._next():
                break
        if self.buf is None:
            return None, self.row
        cut = int(np.searchsorted(self.pos, end, side="left"))
        out = self.buf.iloc[:cut].reset_index(drop=True)
        first = self.row
        self.buf = self.buf.iloc[cut:].reset_index(drop=True)
        if cut:
            self.last = int(self.pos[cut - 1])
        self.pos = self.pos[cut:]
        self.row += cut
        return out, first


@dataclass
class Chunk:
    """One chunk of whole creators: raw tables and the table row where each starts (0-based)."""

    index: int
    tables: dict[str, pd.DataFrame | pa.Table]  # as :func:`load` takes them
    offsets: dict[str, int]
    n_creators: int


class _Positions:
    """Creator id -> row of its first occurrence in ``creators``, called on an array of ids
    (str, or None for a missing one, as ``_ids`` gives both sides); -1 for an unknown id.

    A dict, not ``Index.get_indexer``: planning looks up each row group's few thousand distinct
    ids in a million, ~0.6 ms a row group this way against ~6-14 ms.
    """

    def __init__(self, ids: np.ndarray) -> None:
        s = pd.Series(ids, dtype=object)
        dup = s.duplicated(keep="first").to_numpy()
        self.first = dict(zip(s[~dup].tolist(), np.flatnonzero(~dup).tolist(), strict=True))
        self.unique = not dup.any()
        self.ids = ids
        self._arrow: pa.Array | None = None  # the ids as Arrow text, made on first use

    def __call__(self, values: np.ndarray) -> np.ndarray:
        found = map(self.first.get, values.tolist(), itertools.repeat(-1, len(values)))
        return np.fromiter(found, dtype=np.int64, count=len(values))

    def run(self, words: pa.Array) -> np.ndarray:
        """Positions of a row group's distinct ids (its Arrow dictionary), in C when in order.

        In a well-ordered table the ids of a row group's dictionary are creators in order, so
        all lie between the positions of its first and last ids: they are found by Arrow's hash
        look-up in that stretch of the creators ids, about 1 ms for a row group's 20,000 ids
        against 7 ms through the dict (a cache miss each in a million). Anything else (an id
        outside the stretch or unknown, a repeated creator id, ids stored as numbers) goes
        through the dict, which gives the same positions.
        """
        k = len(words)
        if self.unique and k and _is_text_type(words.type):
            p = self.first.get(words[0].as_py(), -1)
            q = self.first.get(words[k - 1].as_py(), -1)
            if 0 <= p <= q:
                if self._arrow is None:
                    self._arrow = pa.array(self.ids, type=pa.large_string())
                stretch = self._arrow.slice(p, q - p + 1)
                found = pc.index_in(words.cast(pa.large_string()), value_set=stretch)
                if not found.null_count:
                    return p + found.to_numpy().astype(np.int64)
        return self(_ids(pd.Series(words.to_numpy(zero_copy_only=False))))


def _positions(ids: np.ndarray) -> tuple[_Positions, dict[str, str]]:
    """Creator id -> row of its first occurrence, and a message for every repeated id."""
    position = _Positions(ids)
    repeated: dict[str, str] = {}
    if position.unique:
        return position, repeated
    s = pd.Series(ids, dtype=object)
    rep = s.duplicated(keep=False).to_numpy() & s.notna().to_numpy()
    if rep.any():
        rows = pd.Series(np.flatnonzero(rep) + 1).groupby(s[rep].to_numpy()).agg(list)
        for cid, where in rows.items():
            shown = ", ".join(map(str, where[:6]))
            repeated[str(cid)] = (
                f"creators row {where[0]}, column creator_id: duplicate creator_id "
                f"{cid!r} (rows {shown}{' ...' if len(where) > 6 else ''})"
            )
    return position, repeated


def iter_chunks(
    folder: str | Path, chunk_size: int, ids: np.ndarray | None = None
) -> Iterator[Chunk]:
    """Chunks of ``chunk_size`` creators (0 = all) with their child-table rows, in file order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError(f"dataset folder {folder} does not exist")
    ids = read_creator_ids(folder) if ids is None else ids
    n = len(ids)
    size = n if chunk_size <= 0 or chunk_size >= n else chunk_size
    n_chunks = max(1, -(-n // max(size, 1)))
    position, _ = _positions(ids)
    readers = [
        _ChildReader(t, p, position, check_order=n_chunks > 1)
        for t in CHILD_TABLES
        if (p := _table_file(folder, t)) is not None
    ]
    creators = _stream(_table_file(folder, "creators"))
    buf: pd.DataFrame | None = None
    for k in range(n_chunks):
        want = min(size, n - k * size) if n else 0
        while (0 if buf is None else len(buf)) < want:
            frame = next(creators)
            buf = frame if buf is None else pd.concat([buf, frame], ignore_index=True)
        part = buf.iloc[:want].reset_index(drop=True) if buf is not None else pd.DataFrame()
        buf = buf.iloc[want:].reset_index(drop=True) if buf is not None else None
        tables = {"creators": part}
        offsets = {"creators": k * size}
        end = n if k == n_chunks - 1 else (k + 1) * size
        for reader in readers:
            rows, first = reader.take(end)
            if rows is not None:
                tables[reader.table] = rows
                offsets[reader.table] = first
        yield Chunk(k, tables, offsets, want)


# --------------------------------------------------------------------------------------------
# Planning Parquet chunks (workers read their own rows)


@dataclass(frozen=True)
class _Slice:
    """Rows ``start:stop`` of row group ``group`` of a Parquet file; ``group=-1``: no rows."""

    file: str
    stamp: str  # size and mtime: a worker's open cursor is never one of an older file
    group: int
    start: int
    stop: int


class _Layout:
    """The row groups of a Parquet table (one file or a folder of files) in table row order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        groups, sizes = [], []
        for file in self.files:
            st = file.stat()
            stamp = f"{st.st_size}-{st.st_mtime_ns}"
            meta = pq.ParquetFile(file).metadata
            for g in range(meta.num_row_groups):
                groups.append((str(file), stamp, g))
                sizes.append(meta.row_group(g).num_rows)
        self.groups = groups
        self.starts = np.r_[0, np.cumsum(sizes, dtype=np.int64)]
        self.n_rows = int(self.starts[-1])

    def slices(self, start: int, stop: int) -> tuple[_Slice, ...]:
        """The row-group slices holding table rows ``start:stop`` (0-based, stop excluded)."""
        if stop <= start:  # no rows: the table's columns only
            return (_Slice(str(self.files[0]), "", -1, 0, 0),) if self.files else ()
        first = int(np.searchsorted(self.starts, start, side="right")) - 1
        out = []
        for g in range(first, len(self.groups)):
            lo = int(self.starts[g])
            if lo >= stop:
                break
            file, stamp, group = self.groups[g]
            hi = int(self.starts[g + 1])
            out.append(_Slice(file, stamp, group, max(start, lo) - lo, min(stop, hi) - lo))
        return tuple(out)


def _is_text_type(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _column_positions(column: pa.ChunkedArray, position: Callable) -> np.ndarray:
    """Creator position of every value of a ``creator_id`` column (-1: unknown or missing)."""
    parts = []
    for arr in column.chunks:
        if isinstance(arr, pa.DictionaryArray):
            # One look-up per distinct id: a row group holds a few thousand creators' ids.
            dict_pos = position(_ids(pd.Series(arr.dictionary.to_numpy(zero_copy_only=False))))
            idx = arr.indices
            missing = idx.is_null().to_numpy(zero_copy_only=False)
            if len(dict_pos):
                pos = dict_pos[idx.fill_null(0).to_numpy(zero_copy_only=False)]
            else:  # every value missing
                pos = np.full(len(arr), -1, dtype=np.int64)
            pos[missing] = -1
        else:
            pos = position(_ids(pd.Series(arr.to_numpy(zero_copy_only=False), dtype=object)))
        parts.append(np.asarray(pos, dtype=np.int64))
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def _ordered_cuts(
    column: pa.ChunkedArray, position: Callable, ends: np.ndarray, last: int
) -> tuple[np.ndarray, int] | None:
    """``_child_starts``' cuts and last position for one row group, from its dictionary alone.

    A row group written in creators order, dictionary-encoded (as Parquet writers store ids)
    with the dictionary in order of first appearance, has non-decreasing indices and dictionary
    ids at increasing creator positions from ``last`` on. Then its rows are in order, and the
    first row at or after each end position is where the indices reach the first dictionary
    id at or after it: no position per row is needed (about a third of the planning time).
    None when any of that does not hold (nulls, unknown ids, another order): the caller then
    works row by row and finds what is wrong.
    """
    if column.num_chunks != 1 or not isinstance(column.chunk(0), pa.DictionaryArray):
        return None
    arr = column.chunk(0)
    if arr.null_count or not len(arr):
        return None
    idx = arr.indices.to_numpy()
    if not np.all(idx[1:] >= idx[:-1]):
        return None
    run = getattr(position, "run", None)  # see _Positions
    if run is not None:
        at = run(arr.dictionary)
    else:
        at = position(_ids(pd.Series(arr.dictionary.to_numpy(zero_copy_only=False))))
    if at[0] < last or not np.all(at[1:] > at[:-1]):  # also catches an unknown (-1) id
        return None
    first = np.searchsorted(at, ends, side="left")  # first dictionary id at or after each end
    if len(at) <= np.iinfo(idx.dtype).max:
        # In the indices' own type: an int64 query would copy the million indices to int64.
        first = first.astype(idx.dtype)
    return np.searchsorted(idx, first, side="left"), int(at[idx[-1]])


def _child_starts(table: str, layout: _Layout, position: Callable, ends: np.ndarray) -> np.ndarray:
    """Table row where each chunk's rows end (first row of a creator at or after ``ends``).

    Reads the ``creator_id`` column one row group at a time and checks that the rows follow the
    creators order; an unknown creator takes the position of the row before it.
    """
    cut = np.zeros(len(ends), dtype=np.int64)
    last, row = 0, 0
    for file in layout.files:
        schema = pq.read_schema(file)
        if "creator_id" not in schema.names:
            raise ContractError(f"{layout.path}: required column creator_id missing")
        text = _is_text_type(schema.field("creator_id").type)
        pf = pq.ParquetFile(file, read_dictionary=["creator_id"] if text else None)
        for g in range(pf.num_row_groups):
            # One column: Arrow's decoding threads only cost CPU time (the tables are read
            # on threads of their own), 7.4 against 3 ms a million-row group.
            col = pf.read_row_group(g, columns=["creator_id"], use_threads=False).column(0)
            ordered = _ordered_cuts(col, position, ends, last)
            if ordered is not None:  # the usual, well-ordered row group
                cuts, last = ordered
                cut += cuts
                row += len(col)
                continue
            pos = _column_positions(col, position)
            unknown = pos < 0
            if unknown.any():  # an unknown creator travels with the rows around it
                pos = pd.Series(np.where(unknown, np.nan, pos)).ffill().fillna(last)
                pos = pos.to_numpy().astype(np.int64)
            back = np.flatnonzero(np.diff(np.r_[last, pos]) < 0)
            if back.size:
                i = int(back[0])
                raise ContractError(
                    f"{layout.path}: row {row + i + 1} (creator {col[i].as_py()!r}) comes after "
                    f"rows of a later creator: batch scoring needs each creator's {table} rows "
                    f"together and in the order of the creators table; sort the table that way, "
                    f"or score in one chunk (--chunk-size 0)"
                )
            cut += np.searchsorted(pos, ends, side="left")
            if len(pos):
                last = int(pos[-1])
            row += len(pos)
    return cut


@dataclass
class ChunkPlan:
    """Where one chunk's rows are: row slices of every Parquet table, read by :meth:`read`."""

    index: int
    n_creators: int
    offsets: dict[str, int]
    slices: dict[str, tuple[_Slice, ...]]

    def groups(self) -> set[tuple[str, str, int]]:
        """The row groups this chunk reads (file, stamp, group)."""
        return {(s.file, s.stamp, s.group) for v in self.slices.values() for s in v if s.group >= 0}

    def read(self, keep: set[tuple[str, str, int]] | None = None, *, arrow: bool = False) -> Chunk:
        """The chunk's raw tables, as :func:`iter_chunks` would hand them out.

        Row groups are read through per-process cursors that stay where the chunk ended, so the
        next chunk of the same process continues without decoding anything twice; afterwards
        only the cursors in ``keep`` (the next chunk's row groups, when known) stay open.
        ``arrow``: hand out the Arrow tables instead of frames; :func:`load` takes either, and
        from Arrow it skips the scans of text cells that Arrow's cell lengths answer.
        """
        tables = {}
        for table, slices in self.slices.items():
            if len(slices) == 1 and slices[0].group < 0:
                tables[table] = pq.read_schema(slices[0].file).empty_table()
            else:
                parts = [_read_slice(s) for s in slices]
                if len(parts) == 1:
                    tables[table] = parts[0]
                else:
                    tables[table] = pa.concat_tables(parts, promote_options="permissive")
            if not arrow:
                tables[table] = arrow_frame(tables[table])
        keep = keep or set()
        for file, cursor in list(_CURSORS.items()):
            if (file, *cursor.key) not in keep:
                del _CURSORS[file]
        if not arrow:
            # Hand Arrow's freed buffers back before scoring needs the memory.
            pa.default_memory_pool().release_unused()
        return Chunk(self.index, tables, dict(self.offsets), self.n_creators)


class _Cursor:
    """A reader of one row group of a Parquet file, positioned after the rows handed out."""

    def __init__(self, s: _Slice) -> None:
        pf = pq.ParquetFile(s.file)
        self.file, self.key = s.file, (s.stamp, s.group)
        self.schema = pf.schema_arrow
        self.batches = pf.iter_batches(
            batch_size=READ_BATCH_ROWS, row_groups=[s.group], use_threads=_DECODE_THREADS
        )
        self.row = 0  # row (within the group) of the first row of ``pending``
        self.pending: pa.RecordBatch | None = None

    def take(self, start: int, stop: int) -> pa.Table:
        """Rows ``start:stop`` of the group (``start`` at or after the cursor); skips the rest."""
        out = []
        while self.row < stop:
            if self.pending is None:
                self.pending = next(self.batches, None)
                if self.pending is None:
                    raise ContractError(f"{self.file}: the file changed while being scored")
            n = len(self.pending)
            lo, hi = max(start - self.row, 0), min(stop - self.row, n)
            if hi > lo:
                out.append(self.pending.slice(lo, hi - lo))
            if hi < n:  # the next chunk starts inside this batch
                self.pending = self.pending.slice(hi)
                self.row += hi
            else:
                self.pending = None
                self.row += n
        return pa.Table.from_batches(out, schema=out[0].schema if out else self.schema)


# Whether Arrow decodes a row group's columns on its own threads. Yes in a lone process (less
# wall time); not in the workers of a parallel run, which keep every core busy already: there the
# threads only cost CPU time (0.82-1.33 s against 0.80-0.85 s for 6.7 million rows).
_DECODE_THREADS = True

# Per process: an open cursor per file, since consecutive chunks continue where the last ended.
_CURSORS: dict[str, _Cursor] = {}


def _read_slice(s: _Slice) -> pa.Table:
    cursor = _CURSORS.get(s.file)
    if cursor is None or cursor.key != (s.stamp, s.group) or cursor.row > s.start:
        cursor = _CURSORS[s.file] = _Cursor(s)
    return cursor.take(s.start, s.stop)


def _parquet_layouts(folder: Path) -> dict[str, _Layout] | None:
    """Layouts of every table of ``folder`` when all of them are Parquet, else None."""
    paths = {t: _table_file(folder, t) for t in ("creators", *CHILD_TABLES)}
    paths = {t: p for t, p in paths.items() if p is not None}
    if not all(p.name.endswith(".parquet") for p in paths.values()):
        return None
    return {t: _Layout(p) for t, p in paths.items()}


def plan_chunks(
    folder: str | Path,
    chunk_size: int,
    ids: np.ndarray | None = None,
    *,
    position: Callable | None = None,
) -> list[ChunkPlan] | None:
    """Plans of the chunks of ``chunk_size`` creators (0 = all) of an all-Parquet dataset.

    Returns None when a table is not Parquet (use :func:`iter_chunks`). Reads only the
    ``creator_id`` columns; raises ``ContractError`` as :func:`iter_chunks` does, before any
    chunk is scored. ``position`` is ``_positions(ids)[0]`` when the caller has it already.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ContractError(f"dataset folder {folder} does not exist")
    layouts = _parquet_layouts(folder)
    if layouts is None:
        return None
    ids = read_creator_ids(folder) if ids is None else ids
    n = len(ids)
    size = n if chunk_size <= 0 or chunk_size >= n else chunk_size
    n_chunks = max(1, -(-n // max(size, 1)))
    starts = np.minimum(np.arange(n_chunks + 1, dtype=np.int64) * size, n)
    rows: dict[str, np.ndarray] = {"creators": starts}
    if n_chunks > 1:
        position = position if position is not None else _positions(ids)[0]
        children = [t for t in CHILD_TABLES if t in layouts]
        # One thread per table: Parquet decoding and most of the NumPy work release the GIL, so
        # the tables' creator ids are read side by side (planning is the part of a run that
        # no worker shares). Results are taken in table order: the first table in that order
        # with rows out of order is the one reported, whichever thread finds its problem first.
        with ThreadPoolExecutor(max(1, min(len(children), os.cpu_count() or 1))) as pool:
            cuts = [
                pool.submit(_child_starts, t, layouts[t], position, starts[1:-1]) for t in children
            ]
            for table, cut in zip(children, cuts, strict=True):
                rows[table] = np.r_[0, cut.result(), layouts[table].n_rows]
    else:
        rows.update({t: np.array([0, lay.n_rows]) for t, lay in layouts.items() if t != "creators"})
    plans = []
    for k in range(n_chunks):
        # A child file without row groups gives no table at all, as when streamed.
        slices = {
            t: layouts[t].slices(int(r[k]), int(r[k + 1]))
            for t, r in rows.items()
            if t == "creators" or layouts[t].groups
        }
        plans.append(
            ChunkPlan(
                index=k,
                n_creators=int(starts[k + 1] - starts[k]),
                offsets={t: int(r[k]) for t, r in rows.items()},
                slices=slices,
            )
        )
    return plans


def _span(plans: list[ChunkPlan]) -> int:
    """The most chunks that read rows of one row group (1 when none share a row group)."""
    sharing: dict[tuple[str, int], int] = {}
    for plan in plans:
        for slices in plan.slices.values():
            for s in slices:
                if s.group >= 0:
                    sharing[(s.file, s.group)] = sharing.get((s.file, s.group), 0) + 1
    return max(sharing.values(), default=1)


def _group_size(plans: list[ChunkPlan], jobs: int) -> int:
    """Consecutive chunks per worker task: as many as share a row group, yet >= 4 tasks a job."""
    return int(max(1, min(_span(plans), len(plans) // (4 * jobs))))


def _grouped_chunks(n_chunks: int, group: int, jobs: int, span: int) -> int:
    """How many of ``n_chunks`` chunks go out in tasks of ``group``; the rest go one per task.

    All but the last ``(jobs - 1) * group``: when a worker takes the last task of ``group``
    chunks, the others may have just finished theirs, and that many single chunks keep them
    busy meanwhile, so the workers end within about one chunk of each other instead of up to a
    task apart (4 chunks of 5,000 creators: some 8 s of one core, 4 s idle on average).

    Not more: a single chunk does not continue the cursors of the chunk just before it (another
    worker's), so it decodes the rows of its row groups in front of it once more, from where
    its worker's last chunk ended or else from their start. With row groups no longer than a
    task (``span <= group``, as in any long run) that is under ``span`` chunks' worth: with 5,000
    creators a chunk and row groups of 20,000, 4 single chunks took 0.45 s more CPU to read
    than 4 chunks in one task (0.9 s without the cursors kept between tasks), against some 3 s
    of idle core saved on average; ``2 * jobs * group`` of them would cost about 1.8 s. When
    row groups are longer than a task (short runs, where ``_group_size`` caps the group), a
    single chunk may decode most of a row group it does not need, more than the idle time it
    saves: then the tasks stay as they are.
    """
    if group <= 1 or span > group:
        return n_chunks
    return max(0, n_chunks - (jobs - 1) * group)


# --------------------------------------------------------------------------------------------
# Scoring one chunk


def _renumber(data: CreatorData, offsets: dict[str, int], repeated: dict[str, str]) -> None:
    """Turn chunk row numbers into whole-table row numbers in ``data``'s errors and messages."""
    errors = data.errors
    if len(errors):
        shift = errors["table"].map(offsets).fillna(0).astype("int64")
        errors = errors.assign(row=errors["row"] + shift)
        data.errors = errors
        blamed = errors[errors["creator_id"].isin(list(data.unscorable))]
        text = (
            blamed["table"]
            + " row "
            + blamed["row"].astype(str)
            + ", column "
            + blamed["column"].astype(str)
            + ": "
            + blamed["problem"]
        )
        messages = {}
        for cid, group in text.groupby(blamed["creator_id"].to_numpy(), sort=False):
            items = group.tolist()
            msg = "; ".join(items[:3])
            messages[cid] = msg + (f" (+{len(items) - 3} more)" if len(items) > 3 else "")
        data.unscorable = {cid: messages.get(cid, m) for cid, m in data.unscorable.items()}
    for cid in set(data.creator_ids) & set(repeated):
        # The loader sees a repeat only within one chunk; the whole table decides.
        data.unscorable[cid] = repeated[cid]
    if repeated:
        keep = ~data.creators["creator_id"].isin(list(repeated))
        if not keep.all():
            data.creators = data.creators[keep.to_numpy()].reset_index(drop=True)


_SCORERS: dict[tuple[str, str], object] = {}


def _scorer(folder: str, version: str):
    """The worker's scorer for a bundle folder, loaded (and checksum-verified) once."""
    from models import Bundle
    from serving.predict import Scorer

    key = (folder, version)
    if key not in _SCORERS:
        _SCORERS[key] = Scorer(Bundle.load(folder), version, Path(folder))
    return _SCORERS[key]


def _repeated_in(chunk: Chunk, repeated: dict[str, str]) -> dict[str, str]:
    """The duplicate-id messages of the creators in ``chunk`` (only those travel to a worker)."""
    if not repeated or "creator_id" not in chunk.tables["creators"]:
        return {}
    here = set(_ids(chunk.tables["creators"]["creator_id"]))
    return {c: m for c, m in repeated.items() if c in here}


def _score_chunk(
    folder: str,
    version: str,
    chunk: Chunk | ChunkPlan,
    repeated: dict[str, str],
    reasons: str,
    extra: bool = False,
    keep: set[tuple[str, str, int]] | None = None,
) -> tuple[pd.DataFrame, float, float]:
    """Score one chunk (a plan is read here): output rows, seconds in LightGBM, seconds in all.

    ``keep``: row groups to keep cached for the next chunk (see :meth:`ChunkPlan.read`).
    """
    t_start = time.perf_counter()
    scorer = _scorer(folder, version)
    if isinstance(chunk, ChunkPlan):
        read = chunk.read(keep, arrow=True)
        data = load(read.tables)
        del read  # Arrow's buffers are done with: hand them back before scoring
        pa.default_memory_pool().release_unused()
    else:
        data = load(chunk.tables)
    _renumber(data, chunk.offsets, repeated)
    data, X = scorer.features(data)
    t0 = time.perf_counter()
    out = scorer.score_features(data, X, reasons=reasons, extra=extra)
    t_end = time.perf_counter()
    return out, t_end - t0, t_end - t_start


_MEMORY_KEPT = False


def _keep_freed_memory() -> None:
    """Let this worker process reuse the memory it frees, chunk after chunk (Linux, glibc).

    Every chunk allocates and frees the same few hundred megabytes of arrays. By default glibc
    hands each block over 128 KB back to the kernel when it is freed (and trims the heap above
    128 KB), and the kernel may back large blocks with transparent huge pages, so every chunk
    faulted all of its memory in afresh: on a 5,000-creator chunk, 49 us of system CPU per
    creator, 23 us with blocks up to 32 MB kept in the heap, trimming above 1 GB and no huge
    pages (peak memory of the 1,000,000-creator benchmark: see the README). Only for the batch
    workers, which are this module's own processes; elsewhere (another C library, another
    system) nothing changes.
    """
    global _MEMORY_KEPT
    if _MEMORY_KEPT or not sys.platform.startswith("linux"):
        return
    _MEMORY_KEPT = True
    try:
        libc = ctypes.CDLL(None)
        mallopt, prctl = libc.mallopt, libc.prctl
    except (OSError, AttributeError):  # pragma: no cover (a C library without them)
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold, pr_set_thp_disable = -1, -2, -3, 41
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 1 << 30)
    mallopt(m_top_pad, 64 << 20)
    prctl(pr_set_thp_disable, 1, 0, 0, 0)


def _as_worker() -> None:
    """Settings of a worker process of a parallel run: memory kept, decoding on its thread.

    Also turns off loky's leak check in this process. After a worker's first task, loky notes
    its size and restarts it once it has grown by 300 MB; a worker that keeps the memory it
    frees (:func:`_keep_freed_memory`) grows by more than that on its first chunk after a start
    that only loaded the bundle (:func:`_start_workers`), and would be restarted for nothing,
    with a warning. A chunk's memory is bounded by its size, not by the run's length. (Without
    psutil, loky runs this way anyway: a garbage collection between tasks, at most once a
    second.)
    """
    global _DECODE_THREADS
    _DECODE_THREADS = False
    _keep_freed_memory()
    try:
        from joblib.externals.loky import process_executor
    except ImportError:  # pragma: no cover (a joblib without loky: no check to turn off)
        return
    if getattr(process_executor, "_USE_PSUTIL", False):
        process_executor._USE_PSUTIL = False


def _warm(folder: str, version: str) -> int:
    """A worker's start: its settings, imports and bundle; returns its process id."""
    _as_worker()
    _scorer(folder, version)
    return os.getpid()


def _start_workers(jobs: int, folder: str, version: str) -> list[int]:
    """Start the run's ``jobs`` workers and load the bundle in each (process ids).

    Runs on a thread while the main process plans the chunks, which keeps one core busy: the
    workers' start (Python, imports, the bundle: about 1.5 s each) then takes none of the run's
    time. The scoring ``Parallel`` afterwards reuses these processes (loky keeps its executor
    for calls with the same settings).
    """
    from joblib import Parallel, delayed

    with _spawn_environment(_WORKER_ENVIRONMENT):
        return Parallel(n_jobs=jobs, backend="loky")(
            delayed(_warm)(folder, version) for _ in range(jobs)
        )


# Environment of the workers as they start. Arrow's allocator (mimalloc) hands the pages a chunk
# freed back to the system and faults them in again for the next chunk; told never to purge, a
# worker reuses them: 4.4 instead of 13.7 page faults a creator, 2.5% less CPU time for about
# 110 MB more memory per worker. mimalloc reads its options when a process first allocates, so
# only the environment a worker starts with can set it.
_WORKER_ENVIRONMENT = {"MIMALLOC_PURGE_DELAY": "-1"}


@contextlib.contextmanager
def _spawn_environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` while the block starts processes (a user's own win)."""
    added = {k: v for k, v in values.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _score_tasks(
    folder: str,
    version: str,
    tasks: list[tuple[Chunk | ChunkPlan, dict[str, str]]],
    parts: str,
    reasons: str,
    extra: bool,
    following: ChunkPlan | None = None,
    worker: bool = False,
) -> list[tuple[int, int, float, float]]:
    """Score chunks in order and save each as a part file; (index, creators, seconds) each.

    Runs in a worker: only the plans go in and these few numbers come back. ``following`` is
    the chunk this process scores next, if known, whose row groups stay cached. ``worker``:
    this is a worker process of the run (see :func:`_as_worker`).
    """
    if worker:
        _as_worker()
    schema = _SCORE_EXTRA_SCHEMA if extra else _SCORE_SCHEMA
    done = []
    for i, (chunk, repeated) in enumerate(tasks):
        after = tasks[i + 1][0] if i + 1 < len(tasks) else following
        keep = after.groups() if isinstance(after, ChunkPlan) else None
        frame, t_pred, t_chunk = _score_chunk(
            folder, version, chunk, repeated, reasons, extra, keep
        )
        _save_part(Path(parts), chunk.index, frame, schema)
        done.append((chunk.index, chunk.n_creators, t_pred, t_chunk))
    return done


# --------------------------------------------------------------------------------------------
# Output


def _format(path: Path) -> str:
    ext = path.name.rpartition(".")[2].lower()
    if ext not in OUTPUT_FORMATS:
        raise ValueError(f"{path}: output must end in .csv, .parquet or .jsonl")
    return ext


class _Writer:
    """Appends frames to one output file of the format given by its extension."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path, self.schema, self.fmt = path, schema, _format(path)
        self.pq: pq.ParquetWriter | None = None
        self.first = True

    def write(self, frame: pd.DataFrame | pa.Table) -> None:
        if self.fmt == "parquet":
            if self.pq is None:
                self.pq = pq.ParquetWriter(self.path, self.schema)
            if isinstance(frame, pd.DataFrame):
                frame = pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
            self.pq.write_table(frame.cast(self.schema))
            self.first = False
            return
        if isinstance(frame, pa.Table):
            frame = frame.to_pandas()
        if self.fmt == "csv":
            frame.to_csv(self.path, mode="w" if self.first else "a", header=self.first, index=False)
        else:
            text = frame.to_json(orient="records", lines=True, force_ascii=False)
            with open(self.path, "w" if self.first else "a", encoding="utf-8") as fh:
                fh.write(text if text.endswith("\n") or not text else text + "\n")
        self.first = False

    def close(self) -> None:
        if self.pq is not None:
            self.pq.close()
        elif self.first:  # nothing written: still leave a valid, empty file
            self.write(pd.DataFrame({f.name: pd.Series(dtype=object) for f in self.schema}))
            if self.pq is not None:
                self.pq.close()

    def discard(self) -> None:
        """Let go of the file after a failure (it is deleted next), writing nothing more."""
        if self.pq is not None and self.pq.is_open:
            # The error that got us here is the one to report, not one from closing.
            with contextlib.suppress(Exception):
                self.pq.close()


@contextlib.contextmanager
def _atomic_output(path: Path, schema: pa.Schema) -> Iterator[_Writer]:
    """A writer on a temporary file next to ``path``, renamed onto ``path`` if the block succeeds.

    Any exception in the block (``KeyboardInterrupt`` too) deletes the temporary file instead,
    so ``path`` is either left as it was or holds the whole output, never a part of it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder (so the rename is atomic), same extension (so the format is the same).
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    writer = _Writer(tmp, schema)
    try:
        yield writer
        writer.close()
        os.replace(tmp, path)
    except BaseException:
        writer.discard()
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_output(frames, path: str | Path, schema: pa.Schema | None = None) -> Path:
    """Write one frame or an iterable of frames to ``path`` atomically (temp file, then rename).

    The format follows the extension: ``.csv``, ``.parquet`` or ``.jsonl``. Frames may also be
    Arrow tables (written to Parquet without a pandas round trip).
    """
    path = Path(path)
    _format(path)
    if isinstance(frames, pd.DataFrame | pa.Table):
        frames = [frames]
    frames = iter(frames)
    first = next(frames, None)
    if schema is None:
        cols = (
            list(first.column_names if isinstance(first, pa.Table) else first.columns)
            if (first is not None)
            else list(SCORE_COLUMNS)
        )
        if "fit_score" in cols:
            schema = _FIT_SCHEMA
        else:
            schema = _SCORE_EXTRA_SCHEMA if SCORE_EXTRA_COLUMNS[0] in cols else _SCORE_SCHEMA
    with _atomic_output(path, schema) as writer:
        if first is not None:
            writer.write(first)
        for frame in frames:
            writer.write(frame)
    return path


# --------------------------------------------------------------------------------------------
# Runs


@dataclass
class BatchSummary:
    """What a batch run produced."""

    out: Path
    n_rows: int = 0
    n_errors: int = 0
    bands: dict[str, int] = field(default_factory=dict)
    first_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    predict_seconds: float = 0.0
    worker_seconds: float = 0.0
    chunks: int = 0
    resumed_chunks: int = 0

    def add(self, frame: pd.DataFrame) -> None:
        self.n_rows += len(frame)
        bad = frame["status"] == "error"
        self.n_errors += int(bad.sum())
        need = 5 - len(self.first_errors)
        if need > 0 and bad.any():
            rows = frame.loc[bad].head(need)
            self.first_errors += [
                f"{c}: {e}" for c, e in zip(rows["creator_id"], rows["error"], strict=True)
            ]
        if "risk_band" in frame.columns:
            for band, count in frame["risk_band"].value_counts().items():
                self.bands[band] = self.bands.get(band, 0) + int(count)


def _fingerprint(folder: Path) -> dict[str, list[int]]:
    files = {}
    for t in ("creators", *CHILD_TABLES):
        p = _table_file(folder, t)
        if p is not None:
            st = p.stat()
            files[p.name] = [st.st_size, st.st_mtime_ns]
    return files


def _parts_dir(out: Path) -> Path:
    return out.with_name(out.name + ".parts")


def _prepare_parts(parts: Path, state: dict, resume: bool) -> set[int]:
    """Chunk numbers already done (resume) after checking the run is the same one."""
    state_file = parts / _STATE
    if resume and state_file.exists():
        old = json.loads(state_file.read_text())
        if old != state:
            diff = sorted(k for k in set(old) | set(state) if old.get(k) != state.get(k))
            raise ValueError(
                f"cannot resume from {parts}: {', '.join(diff)} differ from the interrupted "
                f"run; rerun without --resume to start over"
            )
        return {int(p.stem.split("-")[1]) for p in parts.glob("chunk-*.parquet")}
    if parts.exists():
        shutil.rmtree(parts)
    parts.mkdir(parents=True)
    state_file.write_text(json.dumps(state, indent=1))
    return set()


_TALLY = ["creator_id", "status", "error", "risk_band"]


def _append_parts(
    parts: Path, ready: set[int], start: int, writer: _Writer, summary: BatchSummary
) -> int:
    """Append the parts of chunks ``start``, ``start + 1``... while they are ``ready``.

    Each part is tallied into ``summary`` and taken out of ``ready``. Returns the chunk to
    append next. Only parts of chunks reported done are read, so while workers save other
    parts (each renamed into place whole by :func:`_save_part`) nothing half-written is read.
    """
    while start in ready:
        table = pq.read_table(parts / f"chunk-{start:06d}.parquet")
        summary.add(table.select(_TALLY).to_pandas())
        writer.write(table)
        summary.chunks += 1
        ready.discard(start)
        start += 1
    return start


def _save_part(parts: Path, index: int, frame: pd.DataFrame, schema: pa.Schema) -> None:
    tmp = parts / f".chunk-{index:06d}.tmp"
    pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), tmp)
    os.replace(tmp, parts / f"chunk-{index:06d}.parquet")


def score_folder(
    data: str | Path,
    out: str | Path,
    scorer,
    *,
    chunk_size: int = 5_000,
    jobs: int = 1,
    resume: bool = False,
    reasons: str = "flagged",
    extra: bool = False,
    progress: Callable[[int, int], None] | None = None,
    stop_after: int | None = None,
) -> BatchSummary:
    """Score every creator of a dataset folder into ``out`` (csv, parquet or jsonl).

    Parameters
    ----------
    data : dataset folder; child tables grouped by creator in the creators order (see module).
    out : output file; its extension gives the format.
    scorer : a loaded ``serving.predict.Scorer`` (its bundle folder is reloaded by workers).
    chunk_size : creators per chunk (0 = one chunk).
    jobs : parallel worker processes (joblib); 1 scores in this process.
    resume : continue from the finished chunks of an interrupted run with the same settings.
    reasons : ``"flagged"``, ``"all"`` or ``"none"`` (see ``Scorer.score``).
    extra : also write the optional columns ``features.schema.SCORE_EXTRA_COLUMNS``.
    progress : called with (creators done, creators in total) after each chunk.
    stop_after : stop (raising ``KeyboardInterrupt``) after this many chunks; simulates an
        interrupted run in tests.
    """
    t_start = time.perf_counter()
    schema = _SCORE_EXTRA_SCHEMA if extra else _SCORE_SCHEMA
    data, out = Path(data), Path(out)
    _format(out)
    if scorer.folder is None:
        raise ValueError("the scorer has no bundle folder; load it with Scorer.load")
    folder, version = str(scorer.folder), scorer.model_version
    starting = None
    if jobs > 1:
        thread = ThreadPoolExecutor(1)
        starting = thread.submit(_start_workers, jobs, folder, version)
        thread.shutdown(wait=False)
    ids = read_creator_ids(data)
    n = len(ids)
    size = n if chunk_size <= 0 or chunk_size >= n else chunk_size
    position, repeated = _positions(ids)
    state = {
        "data": str(data.resolve()),
        "inputs": _fingerprint(data),
        "chunk_size": size,
        "model_version": scorer.model_version,
        "reasons": reasons,
        "extra": extra,
    }
    # Planning reads the creator_id columns and checks the order before any chunk is scored.
    plans = plan_chunks(data, size, ids, position=position)
    parts = _parts_dir(out)
    done = _prepare_parts(parts, state, resume)
    summary = BatchSummary(out=out, resumed_chunks=len(done))
    sizes = [min(size, n - k * size) for k in range(max(1, -(-n // max(size, 1))))]
    completed = sum(sizes[k] for k in done if k < len(sizes))
    if progress:
        progress(completed, n)

    def mine(first: int, count: int) -> dict[str, str]:
        """The duplicate-id messages of creators rows ``first:first+count`` (all a worker needs)."""
        if not repeated:
            return {}
        return {c: repeated[c] for c in set(ids[first : first + count]) if c in repeated}

    if plans is not None:
        todo = [p for p in plans if p.index not in done]
        items = ((p, mine(p.offsets["creators"], p.n_creators)) for p in todo)
        group = _group_size(todo, jobs) if jobs > 1 else 1
        grouped = _grouped_chunks(len(todo), group, jobs, _span(todo))
    else:
        items = (
            (c, _repeated_in(c, repeated))
            for c in iter_chunks(data, size, ids)
            if c.index not in done
        )
        group, grouped = 1, None
    batches = _batched(items, group, grouped)
    parts_arg = str(parts)
    # Every task is told the chunk after it, whose row groups then stay open in its process:
    # with one job that is the next chunk scored; in a worker, the next chunk it gets may be
    # later in the same row groups (always after: tasks go out in order), and it continues
    # from there instead of decoding them from their start (the single chunks at the end).
    ahead = _pairwise(batches) if plans is not None else ((b, None) for b in batches)
    if jobs == 1:
        # One chunk at a time: progress and interruption per chunk.
        results = (
            _score_tasks(folder, version, b, parts_arg, reasons, extra, nxt[0][0] if nxt else None)
            for b, nxt in ahead
        )
    else:
        from joblib import Parallel, delayed

        starting.result()  # the workers are up, the bundle loaded in each
        # Plans are a few hundred bytes: keep every worker fed. Streamed chunks hold their rows
        # in this process, so only as many wait as there are workers.
        run = Parallel(
            n_jobs=jobs,
            backend="loky",
            return_as="generator_unordered",
            pre_dispatch="2*n_jobs" if plans is not None else "n_jobs",
        )
        results = run(
            delayed(_score_tasks)(
                folder,
                version,
                b,
                parts_arg,
                reasons,
                extra,
                following=nxt[0][0] if nxt else None,
                worker=True,
            )
            for b, nxt in ahead
        )

    # The output is written while the workers score: each part is appended as soon as every
    # chunk before it is done (resumed ones first), so only the last few remain at the end.
    # The parts stay until the rename, so an interrupted run can still be resumed.
    with _atomic_output(out, schema) as writer, _cancelling(results):
        ready = set(done)
        written = _append_parts(parts, ready, 0, writer, summary)
        finished = 0
        for result in results:
            for index, n_chunk, t_pred, t_chunk in result:
                summary.predict_seconds += t_pred
                summary.worker_seconds += t_chunk
                completed += n_chunk
                finished += 1
                ready.add(index)
            written = _append_parts(parts, ready, written, writer, summary)
            if progress:
                progress(completed, n)
            if stop_after is not None and finished >= stop_after:
                raise KeyboardInterrupt(f"stopped after {finished} chunks")
        if summary.n_rows != n:  # never lose rows (a chunk missing, or a gap in the order)
            raise RuntimeError(f"wrote {summary.n_rows:,} rows for {n:,} creators")
    shutil.rmtree(parts)
    summary.seconds = time.perf_counter() - t_start
    return summary


@contextlib.contextmanager
def _cancelling(results: Iterator) -> Iterator[Iterator]:
    """Cancel the chunks still queued or being scored when the block fails (or is interrupted).

    Closing joblib's result generator stops its workers there and then, rather than whenever
    the generator is collected (with a warning nobody could catch). The parts done are kept.
    """
    try:
        yield results
    except BaseException:
        close = getattr(results, "close", None)
        if close is not None:
            with warnings.catch_warnings():
                # joblib warns that tasks were cancelled: here that is the point.
                warnings.filterwarnings("ignore", category=UserWarning, module="joblib")
                close()
        raise


def _pairwise(items):
    """Each item with the next one (None after the last)."""
    items = iter(items)
    item = next(items, None)
    while item is not None:
        nxt = next(items, None)
        yield item, nxt
        item = nxt


def _batched(items: Iterable, size: int, grouped: int | None = None) -> Iterator[list]:
    """Lists of ``size`` consecutive items; after the first ``grouped`` items, lists of one.

    The lists of the first ``grouped`` items (all when None) end with a shorter one if needed.
    Items are taken from ``items`` only as lists are asked for.
    """
    batch = []
    for i, item in enumerate(items):
        batch.append(item)
        if len(batch) == size or (grouped is not None and i + 1 >= grouped):
            yield batch
            batch = []
    if batch:
        yield batch


def fit_folder(
    data: str | Path,
    brands: str | Path,
    out: str | Path,
    scorer,
    *,
    top: int | None = None,
    chunk_size: int = 5_000,
    reasons: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> BatchSummary:
    """Brand fit of every brand x creator pair (or the best ``top`` per brand) into ``out``.

    Creators are read in chunks as for :func:`score_folder`. With ``top`` only each chunk's best
    ``top`` pairs per brand are kept between chunks, so memory stays bounded by brands x top;
    without it every pair's scores are held until the final ranking.
    """
    from models import rank_within
    from serving.predict import load_brands

    t_start = time.perf_counter()
    data, out = Path(data), Path(out)
    _format(out)
    good_brands, bad_brands = load_brands(Path(brands))
    ids = read_creator_ids(data)
    n = len(ids)
    _, repeated = _positions(ids)
    kept: list[pd.DataFrame] = []
    bad: list[pd.DataFrame] = []
    done = 0
    for chunk in iter_chunks(data, chunk_size, ids):
        loaded = load(chunk.tables)
        _renumber(loaded, chunk.offsets, repeated)
        loaded, X = scorer.features(loaded)
        pairs, _ = scorer.pair_scores(loaded, X, good_brands)
        if top is not None and len(pairs):
            rank = rank_within(pairs["brand_id"], pairs["raw"], pairs["creator_id"].astype(str))
            pairs = pairs[rank <= top]
        kept.append(pairs)
        ids_bad = [c for c in loaded.creator_ids if c in loaded.unscorable or c == ""]
        bad.append(
            pd.DataFrame(
                {"creator_id": ids_bad, "error": [loaded.error_for(c) for c in ids_bad]},
                dtype=object,
            )
        )
        done += chunk.n_creators
        if progress:
            progress(done, n)
    pairs = pd.concat(kept, ignore_index=True) if kept else pd.DataFrame()
    frame = scorer.assemble_fit(
        pairs,
        good_brands,
        bad_brands,
        None,
        top,
        reasons,
        bad_creators=pd.concat(bad, ignore_index=True),
    )
    write_output(frame, out, _FIT_SCHEMA)
    summary = BatchSummary(out=out)
    summary.add(frame)
    summary.seconds = time.perf_counter() - t_start
    return summary
