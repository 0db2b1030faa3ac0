"""Batch scoring of a dataset folder in chunks of whole creators, with bounded memory.

Input order
-----------
The ``creators`` table is read in chunks of ``chunk_size`` rows, in file order. Every child table
(``follower_history``, ``posts``, ``comments``, ``audience_sample``) is read once, as a stream,
and must hold each creator's rows **together and in the order of the creators table** (the order
the simulator, and any export sorted the same way as ``creators``, writes). Each chunk then takes
a contiguous run of every child table, so a 180-million-row history is read exactly once whatever
the chunk count. The order is checked while reading: a row that comes back to an earlier creator
stops the run with a ``ContractError`` naming the table, row and both creators. Rows naming an
unknown creator are passed to the chunk they sit in, where the loader reports them. With a single
chunk (``chunk_size=0`` or at least the number of creators) no order is needed.

Why not filter each child table per chunk (pyarrow dataset filters ``creator_id in ids``)? That
scans every child table once per chunk: chunks x rows, against rows once here.

Row numbers in error messages are those of the whole table, as the one-piece loader gives them;
a ``creator_id`` repeated in different chunks is reported as a duplicate like within one chunk.

Other guarantees: chunks are scored in parallel with joblib (each worker loads and verifies the
bundle once); the output is written to a temporary file and renamed into place at the end, so a
failed run never leaves a partial output; every finished chunk is kept in ``<out>.parts/`` until
then, and ``resume=True`` continues an interrupted run from them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.dataset import EXTENSIONS, ContractError, CreatorData, load
from features.schema import FIT_COLUMNS, SCORE_COLUMNS, SCORE_EXTRA_COLUMNS

__all__ = [
    "OUTPUT_FORMATS",
    "BatchSummary",
    "read_creator_ids",
    "iter_chunks",
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
                yield batch.to_pandas()
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
    tables: dict[str, pd.DataFrame]
    offsets: dict[str, int]
    n_creators: int


def _positions(ids: np.ndarray) -> tuple[Callable, dict[str, str]]:
    """Creator id -> row of its first occurrence, and a message for every repeated id."""
    s = pd.Series(ids, dtype=object)
    dup = s.duplicated(keep="first").to_numpy()
    first_rows = np.flatnonzero(~dup)
    index = pd.Index(s[~dup].to_numpy(dtype=object))

    def position(values: np.ndarray) -> np.ndarray:
        got = index.get_indexer(values)
        return np.where(got >= 0, first_rows[np.maximum(got, 0)], -1)

    repeated: dict[str, str] = {}
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
    chunk: Chunk,
    repeated: dict[str, str],
    reasons: str,
    extra: bool = False,
) -> tuple[pd.DataFrame, float, float]:
    """Score one chunk: its output rows, seconds in LightGBM prediction, seconds in all."""
    t_start = time.perf_counter()
    scorer = _scorer(folder, version)
    data = load(chunk.tables)
    _renumber(data, chunk.offsets, repeated)
    data, X = scorer.features(data)
    t0 = time.perf_counter()
    out = scorer.score_features(data, X, reasons=reasons, extra=extra)
    t_end = time.perf_counter()
    return out, t_end - t0, t_end - t_start


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

    def write(self, frame: pd.DataFrame) -> None:
        if self.fmt == "parquet":
            if self.pq is None:
                self.pq = pq.ParquetWriter(self.path, self.schema)
            self.pq.write_table(
                pa.Table.from_pandas(frame, schema=self.schema, preserve_index=False)
            )
        elif self.fmt == "csv":
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


def write_output(frames, path: str | Path, schema: pa.Schema | None = None) -> Path:
    """Write one frame or an iterable of frames to ``path`` atomically (temp file, then rename).

    The format follows the extension: ``.csv``, ``.parquet`` or ``.jsonl``.
    """
    path = Path(path)
    _format(path)
    if isinstance(frames, pd.DataFrame):
        frames = [frames]
    frames = iter(frames)
    first = next(frames, None)
    if schema is None:
        cols = list(first.columns) if first is not None else list(SCORE_COLUMNS)
        if "fit_score" in cols:
            schema = _FIT_SCHEMA
        else:
            schema = _SCORE_EXTRA_SCHEMA if SCORE_EXTRA_COLUMNS[0] in cols else _SCORE_SCHEMA
    path.parent.mkdir(parents=True, exist_ok=True)
    # Same folder (so the rename is atomic), same extension (so the format is the same).
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    writer = _Writer(tmp, schema)
    try:
        if first is not None:
            writer.write(first)
        for frame in frames:
            writer.write(frame)
        writer.close()
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
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
    ids = read_creator_ids(data)
    n = len(ids)
    size = n if chunk_size <= 0 or chunk_size >= n else chunk_size
    _, repeated = _positions(ids)
    state = {
        "data": str(data.resolve()),
        "inputs": _fingerprint(data),
        "chunk_size": size,
        "model_version": scorer.model_version,
        "reasons": reasons,
        "extra": extra,
    }
    parts = _parts_dir(out)
    done = _prepare_parts(parts, state, resume)
    summary = BatchSummary(out=out, resumed_chunks=len(done))
    folder, version = str(scorer.folder), scorer.model_version
    sizes = [min(size, n - k * size) for k in range(max(1, -(-n // max(size, 1))))]
    completed = sum(sizes[k] for k in done if k < len(sizes))
    if progress:
        progress(completed, n)

    def tasks():
        for chunk in iter_chunks(data, size, ids):
            if chunk.index not in done:
                mine = _repeated_in(chunk, repeated)
                yield chunk.index, chunk.n_creators, (folder, version, chunk, mine, reasons, extra)

    if jobs == 1:
        results = ((i, k, _score_chunk(*args)) for i, k, args in tasks())
    else:
        from joblib import Parallel, delayed

        meta: list[tuple[int, int]] = []

        def dispatch():
            for i, k, args in tasks():
                meta.append((i, k))
                yield delayed(_score_chunk)(*args)

        run = Parallel(n_jobs=jobs, return_as="generator", pre_dispatch="n_jobs")
        results = ((*meta[j], r) for j, r in enumerate(run(dispatch())))

    finished = 0
    for index, n_chunk, (frame, t_pred, t_chunk) in results:
        _save_part(parts, index, frame, schema)
        summary.predict_seconds += t_pred
        summary.worker_seconds += t_chunk
        completed += n_chunk
        finished += 1
        if progress:
            progress(completed, n)
        if stop_after is not None and finished >= stop_after:
            raise KeyboardInterrupt(f"stopped after {finished} chunks")

    files = sorted(parts.glob("chunk-*.parquet"))
    summary.chunks = len(files)

    def frames():
        for f in files:
            frame = pq.read_table(f).to_pandas()
            summary.add(frame)
            yield frame

    write_output(frames(), out, schema)
    if summary.n_rows != n:
        raise RuntimeError(f"wrote {summary.n_rows:,} rows for {n:,} creators")  # never lose rows
    shutil.rmtree(parts)
    summary.seconds = time.perf_counter() - t_start
    return summary


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
