"""The HTTP service: the data contract as JSON, scored by one bundle loaded at start-up.

Endpoints
---------
- ``POST /v1/score``: body ``{"creators": [...], "posts": [...], ...}`` (each contract table as a
  list of records; only ``creators`` is required), answer ``{"model_version", "rows"}`` with the
  creator-score output rows in input order (``?extra=true`` adds the optional columns).
- ``POST /v1/fit``: the same tables plus ``brands`` and an optional ``top``; fit output rows.
- ``POST /v1/explain``: the same tables plus ``creator_id`` (and an optional ``top``); answer
  ``{"model_version", "creators": [the score row with every optional column],
  "evidence": [evidence rows]}`` (``Scorer.explain``; dates as YYYY-MM-DD).
- ``GET /v1/explain/{creator_id}``: the same answer for a creator of the dataset folder the
  service was started with (``CREATORSCORE_DATA_DIR``); 404 when it has none. A bare
  ``GET /v1/explain`` would have nothing to explain: the service holds no creators of its own.
- ``GET /v1/model``: model version, library versions and training metrics.
- ``GET /healthz``: liveness. ``/docs`` and ``/openapi.json``: the OpenAPI description.

Errors: 401 without the API key when ``CREATORSCORE_API_KEY`` is set (header ``X-API-Key`` or
``Authorization: Bearer``); 413 for bodies over the byte limit or more creators than allowed;
422 when the request breaks the contract, with every row problem (``?partial=true`` instead
returns 200 with ``status="error"`` rows for the bad creators, like the batch command).

Concurrent ``POST /v1/score`` requests are micro-batched: the requests that arrive while the
scorer is busy, or within ``batch_wait_ms`` of the first one's arrival, are loaded and scored
together and each gets its own rows back. Every check of the loader is per row or per creator
and every feature of a creator comes from that creator's rows only, so the answers are the ones
each request would get alone; requests of one shape are loaded in one call when that call finds no
problem at all, and otherwise each on its own (so error messages and row numbers are its own).
The fixed cost of a loading and a scoring call (milliseconds to tens of milliseconds) is then
paid once per batch instead of once per request. All of it runs off the event loop: in one
worker thread, or with ``score_processes`` (``creatorscore serve --workers N``) in that many
scoring processes fed from the one queue (:mod:`serving.workers`); 503 when more than
``queue_max`` requests wait.

The model (and the optional dataset folder) is fixed when the app is created; no model or file
path is ever read from a request.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from threadpoolctl import threadpool_limits

from features._series import creator_codes
from features.dataset import ContractError, CreatorData, columns_frame, load
from features.schema import TABLES
from serving.predict import Scorer, load_brands
from serving.workers import ScoringProcess

__all__ = [
    "Settings",
    "create_app",
    "app_from_env",
    "ScoreRequest",
    "FitRequest",
    "ExplainRequest",
]

Records = list[dict[str, Any]]


@dataclass(frozen=True)
class Settings:
    """Service limits and the optional API key (secrets come only from the environment)."""

    api_key: str | None = None
    max_creators: int = 1_000
    max_body_bytes: int = 20 * 1024 * 1024
    data_dir: Path | None = None  # dataset folder for GET /v1/explain/{creator_id}
    # Micro-batching of POST /v1/score: stop gathering a batch at this many creators, or this
    # long after its first request arrived; refuse (503) beyond this many waiting requests.
    batch_max_creators: int = 64
    # 2 ms from the first request's arrival: one-creator requests at an offered 200/s on 2
    # cores with 2 scoring processes (3,000 of them): p99 32-36 ms and 8.0 ms of CPU each;
    # 4 ms: p99 37 ms and 7.8 ms; waiting 2 ms after the batch's pickup instead of its first
    # arrival: 34-43 ms; 8 ms: 48 ms and 6.3 ms. At 250/s, 2 ms: 43 ms; 4 ms: 51 ms.
    batch_wait_ms: float = 2.0
    queue_max: int = 256
    # Scoring processes behind the server (serving.workers); 0: score in a thread of its own.
    score_processes: int = 0

    @classmethod
    def from_env(cls) -> Settings:
        """``CREATORSCORE_API_KEY``, ``CREATORSCORE_MAX_CREATORS``, ``..._MAX_BODY_BYTES``,
        ``CREATORSCORE_DATA_DIR``, ``CREATORSCORE_BATCH_MAX_CREATORS``,
        ``CREATORSCORE_BATCH_WAIT_MS``, ``CREATORSCORE_QUEUE_MAX``,
        ``CREATORSCORE_SCORE_PROCESSES``."""
        env = os.environ
        data_dir = env.get("CREATORSCORE_DATA_DIR") or None
        return cls(
            api_key=env.get("CREATORSCORE_API_KEY") or None,
            max_creators=int(env.get("CREATORSCORE_MAX_CREATORS", cls.max_creators)),
            max_body_bytes=int(env.get("CREATORSCORE_MAX_BODY_BYTES", cls.max_body_bytes)),
            data_dir=Path(data_dir) if data_dir else None,
            batch_max_creators=int(
                env.get("CREATORSCORE_BATCH_MAX_CREATORS", cls.batch_max_creators)
            ),
            batch_wait_ms=float(env.get("CREATORSCORE_BATCH_WAIT_MS", cls.batch_wait_ms)),
            queue_max=int(env.get("CREATORSCORE_QUEUE_MAX", cls.queue_max)),
            score_processes=int(env.get("CREATORSCORE_SCORE_PROCESSES", cls.score_processes)),
        )


class ScoreRequest(BaseModel):
    """Contract input tables, each a list of records (SCHEMA.md column names)."""

    model_config = ConfigDict(extra="forbid")
    creators: Records = Field(min_length=1)
    follower_history: Records | None = None
    posts: Records | None = None
    comments: Records | None = None
    audience_sample: Records | None = None


class FitRequest(ScoreRequest):
    """The score tables plus the ``brands`` briefs; ``top`` keeps the best K per brand."""

    brands: Records = Field(min_length=1)
    top: int | None = Field(default=None, ge=1)


class ExplainRequest(ScoreRequest):
    """The score tables plus the ``creator_id`` to explain; ``top`` caps listed accounts."""

    creator_id: str = Field(min_length=1)
    top: int = Field(default=10, ge=1, le=100)


class _TooLarge(Exception):
    pass


class _BodyLimit:
    """ASGI middleware: 413 when the body is (or turns out to be) over ``limit`` bytes."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def _reject(self, scope, receive, send) -> None:
        detail = f"request body over the limit of {self.limit:,} bytes"
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._reject(scope, receive, send)
            return
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, receive, send)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: NaN and NA become null, NumPy scalars Python ones.

    Column by column (a list per column, then one zip): pandas' ``astype(object)``, ``where``
    and ``to_dict`` cost most of a millisecond per call whatever the size, which is a large
    share of a one-creator request. Columns of other dtypes (none in the score and fit
    outputs) take pandas' own conversion.
    """
    names = list(frame.columns)
    if not names or len(set(names)) < len(names):  # no or doubled names: pandas' answer
        return _records_pandas(frame)
    columns = []
    for _, series in frame.items():
        values = series.to_numpy()
        if values.dtype == np.float64:
            cells = values.tolist()  # Python floats
            missing = np.flatnonzero(np.isnan(values))
        elif values.dtype == object:
            cells = values.tolist()
            if any(issubclass(t, np.generic) for t in set(map(type, cells))):
                return _records_pandas(frame)  # NumPy scalars: pandas makes them Python ones
            missing = np.flatnonzero(pd.isna(values))
        else:
            return _records_pandas(frame)
        for i in missing.tolist():
            cells[i] = None
        columns.append(cells)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _records_pandas(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """:func:`_records` through pandas, for any dtype."""
    obj = frame.astype(object)
    return obj.where(frame.notna(), None).to_dict(orient="records")


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, float | np.floating):
        return float(value) if np.isfinite(value) else None
    return value


@dataclass(eq=False)
class _Job:
    """One POST /v1/score request waiting to be scored."""

    body: ScoreRequest
    partial: bool
    extra: bool
    done: asyncio.Future | None
    raw: bytes = b""  # the body as sent (for a scoring process)
    since: float = 0.0  # when it was queued (event loop time)
    data: CreatorData | None = field(default=None, init=False)


def _signature(data: CreatorData, extra: bool) -> tuple:
    """Requests with the same signature can be scored in one call.

    A table given (even empty) and a table left out are different inputs, and so are different
    columns or dtypes: concatenating those would change what a creator's features see.
    """
    frames = [getattr(data, name) for name in _TABLES]
    return (
        extra,
        *(None if f is None else (tuple(f.columns), tuple(map(str, f.dtypes))) for f in frames),
    )


def _raw_signature(tables: dict[str, _Table], extra: bool) -> tuple | None:
    """Requests with the same raw signature may be loaded in one call; None: load alone.

    Same tables, columns and dtypes make the loader take the same path through every column
    for all of them, so each cell is coerced as it would be alone. Integer and float counts are
    alike (both are read as float64 cell by cell; JSON gives floats where a count has gaps).
    Counts in any other dtype are left out: text counts get a parser chosen per column from
    all of its cells.
    """
    parts: list[object] = [extra]
    for name in _TABLES:
        table = tables.get(name)
        if table is None:
            parts.append(None)
            continue
        numeric = _NUMERIC[name]
        dtypes = []
        for column, values in table.columns.items():
            if column not in numeric:
                dtypes.append(str(values.dtype))
            elif values.dtype in (np.int64, np.float64):
                dtypes.append("number")
            else:
                return None
        parts.append((tuple(table.columns), tuple(dtypes)))
    return tuple(parts)


def _load_together(parts: list[dict[str, _Table]]) -> CreatorData | None:
    """The requests' tables loaded in one call, if that is exactly what loading each gives.

    That holds when the call finds no problem at all and every child row names a creator of its
    own request: every check is then per row or per creator, so no request alone would have a
    problem either, and each one's loaded rows are its own slice. Otherwise None: load apart,
    so the error messages and row numbers are each request's own.
    """
    tables = {name: _stacked([p[name] for p in parts]).frame() for name in parts[0]}
    try:
        data = load(tables)
    except ContractError:
        return None
    if len(data.errors):
        return None
    owner = np.repeat(np.arange(len(parts)), [p["creators"].n for p in parts])
    ids = pd.Index(data.creators["creator_id"])
    for name in _TABLES[1:]:
        if name in tables:
            request = np.repeat(np.arange(len(parts)), [p[name].n for p in parts])
            codes = creator_codes(ids, getattr(data, name)["creator_id"])
            if (codes < 0).any() or not np.array_equal(owner[codes], request):
                return None
    return data


def _one_thread() -> None:
    """Keep LightGBM (OpenMP) and BLAS on the scoring thread alone, without helper threads.

    A request's few rows are scored faster than helper threads wake up, and idle OpenMP
    threads spin before they sleep: with two server processes on 2 cores, the spinning took
    CPU from the other process (18.4 ms of CPU per one-creator request, 81 requests/s, against
    12.6 ms and 120 requests/s on one thread each). Cores are used by ``--workers`` instead.
    """
    threadpool_limits(1)


class _Batcher:
    """Scores concurrent POST /v1/score requests together, off the event loop.

    A gatherer task on the event loop takes the first waiting request, then every request that
    is already waiting or arrives within ``wait`` seconds, up to ``max_creators``, and hands the
    batch to its runner while the next batch gathers. Without ``processes`` there is one
    runner, a worker thread of this process: one thread keeps the CPU-bound work from
    contending for the GIL with itself and with the event loop. With ``processes`` (``serve
    --workers``) each of that many scoring processes (:mod:`serving.workers`) has a gatherer;
    they gather one at a time from the one queue, so a batch takes what is waiting when a
    process is free.
    """

    def __init__(
        self,
        scorer: Scorer,
        max_creators: int,
        wait: float,
        queue_max: int,
        processes: int = 0,
    ) -> None:
        self.scorer = scorer
        self.max_creators = max(1, max_creators)
        self.wait = max(0.0, wait)
        self.queue_max = queue_max
        self._executor = ThreadPoolExecutor(
            1, thread_name_prefix="creatorscore-score", initializer=_one_thread
        )
        if processes and scorer.folder is None:
            raise ValueError("scoring processes load the bundle from its folder: this has none")
        self._processes = [
            ScoringProcess(scorer.folder, scorer.model_version) for _ in range(processes)
        ]
        self._queue: asyncio.Queue[_Job] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task] = []  # held: the loop keeps only weak references

    async def start(self) -> None:
        """Start the scoring processes (if any) and wait until each has loaded the model."""
        if self._processes:
            await asyncio.gather(*(p.start() for p in self._processes))

    async def score(
        self, body: ScoreRequest, partial: bool, extra: bool, raw: bytes = b""
    ) -> Response:
        """The response to one request, scored with whatever else is waiting.

        ``raw``: the body as sent, which is what a scoring process is given.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first request, or a new event loop (in-process tests)
            self._loop, self._queue = loop, asyncio.Queue()
            turn = asyncio.Lock()  # one gatherer at a time
            runners = [self._run_here] if not self._processes else [p.run for p in self._processes]
            self._tasks = [loop.create_task(self._gather(self._queue, r, turn)) for r in runners]
        if self._queue.qsize() >= self.queue_max:
            raise HTTPException(
                503, "too many requests waiting to be scored", headers={"Retry-After": "1"}
            )
        job = _Job(body, partial, extra, loop.create_future(), raw, loop.time())
        self._queue.put_nowait(job)
        return await job.done

    async def call(self, kind: str, body: ScoreRequest, partial: bool, raw: bytes) -> Response:
        """The answer to a request that is not batched (``kind``: "fit" or "explain").

        In the scoring process with the least work waiting, or without scoring processes in a
        thread of the server's pool (as a plain endpoint function would run).
        """
        if not self._processes:
            return await run_in_threadpool(_CALLS[kind][1], self.scorer, body, partial)
        process = min(self._processes, key=lambda p: p.waiting)
        outcome = await process.call(kind, raw, partial)
        if isinstance(outcome, Exception):
            raise outcome
        return Response(outcome, media_type="application/json")

    async def _run_here(self, jobs: list[_Job]) -> list[Response | Exception]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, _score_jobs, self.scorer, jobs)

    async def _gather(self, queue: asyncio.Queue[_Job], run, turn: asyncio.Lock) -> None:
        loop = asyncio.get_running_loop()
        while True:
            async with turn:
                jobs = [await queue.get()]
                n = len(jobs[0].body.creators)
                deadline = jobs[0].since + self.wait
                while n < self.max_creators:
                    if queue.empty():
                        left = deadline - loop.time()
                        if left <= 0:
                            break
                        try:
                            job = await asyncio.wait_for(queue.get(), left)
                        except TimeoutError:
                            break
                    else:
                        job = queue.get_nowait()
                    jobs.append(job)
                    n += len(job.body.creators)
            jobs = [job for job in jobs if not job.done.done()]  # skip clients gone already
            if not jobs:
                continue
            try:
                outcomes = await run(jobs)
            except Exception as exc:  # the runner is gone (shutting down): fail, do not hang
                outcomes = [exc] * len(jobs)
            for job, outcome in zip(jobs, outcomes, strict=True):
                if job.done.done():  # the client went away
                    continue
                if isinstance(outcome, Exception):
                    job.done.set_exception(outcome)
                elif isinstance(outcome, bytes):  # a scoring process's answer, as JSON
                    job.done.set_result(Response(outcome, media_type="application/json"))
                else:
                    job.done.set_result(outcome)

    async def close(self) -> None:
        """Stop gathering, the worker thread and the scoring processes (after their batch)."""
        for task in self._tasks:
            task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
        await asyncio.gather(*(p.close() for p in self._processes))


def _score_jobs(scorer: Scorer, jobs: list[_Job]) -> list[JSONResponse | Exception]:
    """Load and score a batch of requests: together where the answers cannot change, else apart.

    Each job gets its response or the exception it fails with (a 422 for its own contract
    errors), in order.
    """
    outcomes: dict[int, JSONResponse | Exception] = {}
    raw: dict[int, dict[str, _Table]] = {}
    for i, job in enumerate(jobs):
        try:
            raw[i] = _tables(job.body)
        except Exception as exc:
            outcomes[i] = exc
    same_shape: dict[tuple, list[int]] = {}
    for i, tables in raw.items():
        key = _raw_signature(tables, jobs[i].extra)
        same_shape.setdefault(("alone", i) if key is None else key, []).append(i)
    apart: list[int] = []
    for members in same_shape.values():
        data = _load_together([raw[i] for i in members]) if len(members) > 1 else None
        if data is None:
            apart += members
            continue
        sizes = [raw[i]["creators"].n for i in members]
        try:
            outcomes.update(_score_members(scorer, jobs, members, data, sizes))
        except Exception:
            apart += members
    outcomes.update(_score_apart(scorer, jobs, sorted(apart), raw))
    return [outcomes[i] for i in range(len(jobs))]


def _score_apart(
    scorer: Scorer, jobs: list[_Job], which: list[int], raw: dict[int, dict[str, _Table]]
) -> dict[int, Any]:
    """Load each request on its own (its own errors), then score compatible ones together.

    ``raw``: each request's tables (:func:`_tables`), read once for both ways of loading.
    """
    outcomes: dict[int, JSONResponse | Exception] = {}
    groups: dict[tuple, list[list[tuple[int, set[str]]]]] = {}
    for i in which:
        job = jobs[i]
        try:
            job.data = _loaded(job.body, job.partial, raw[i])
        except Exception as exc:  # a 422 for this request; the others go on
            outcomes[i] = exc
            continue
        if len(which) == 1:  # nothing to group it with (a signature costs ~0.2 ms)
            groups[()] = [[(i, set())]]
            break
        # Equal creator ids in two requests would be one creator twice in the batch.
        ids = set(job.data.creator_ids)
        batches = groups.setdefault(_signature(job.data, job.extra), [])
        for batch in batches:
            if not any(ids & seen for _, seen in batch):
                batch.append((i, ids))
                break
        else:
            batches.append([(i, ids)])
    for batches in groups.values():
        for batch in batches:
            members = [i for i, _ in batch]
            parts = [jobs[i].data for i in members]
            sizes = [len(p.creator_ids) for p in parts]
            try:
                data = parts[0] if len(parts) == 1 else CreatorData.concat(parts)
                outcomes.update(_score_members(scorer, jobs, members, data, sizes))
            except Exception:
                # One request's data broke the scorer: score alone, so only it fails.
                for i, part in zip(members, parts, strict=True):
                    try:
                        one = [len(part.creator_ids)]
                        outcomes.update(_score_members(scorer, jobs, [i], part, one))
                    except Exception as exc:
                        outcomes[i] = exc
    return outcomes


def _score_members(
    scorer: Scorer, jobs: list[_Job], members: list[int], data: CreatorData, sizes: list[int]
) -> dict[int, JSONResponse]:
    """Score ``data`` once; request ``members[k]`` gets the next ``sizes[k]`` rows."""
    frame = scorer.score(data, extra=jobs[members[0]].extra)
    rows = _records(frame)  # once for the batch: the conversion's cost is mostly per call
    out, start = {}, 0
    version = scorer.model_version
    for i, size in zip(members, sizes, strict=True):
        out[i] = JSONResponse({"model_version": version, "rows": rows[start : start + size]})
        start += size
    return out


_TABLES = ("creators", "follower_history", "posts", "comments", "audience_sample")


_NUMERIC = {
    name: frozenset(c.name for c in columns if c.type in ("int", "float"))
    for name, columns in TABLES.items()
}
_NUMBER_CELLS = frozenset({int, float, type(None)})
_TEXT_CELLS = frozenset({str, type(None)})


@dataclass(frozen=True)
class _Table:
    """One request table as raw column arrays (what its frame would hold), and its rows."""

    n: int
    columns: dict[str, np.ndarray]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame for the loader (the arrays, not copies)."""
        return columns_frame(self.columns, self.n)


def _stacked(tables: list[_Table]) -> _Table:
    """Tables of equal columns one after the other (as ``pd.concat`` of their frames)."""
    if len(tables) == 1:
        return tables[0]
    columns = {
        name: np.concatenate([t.columns[name] for t in tables]) for name in tables[0].columns
    }
    return _Table(sum(t.n for t in tables), columns)


def _numbers(cells: tuple) -> np.ndarray | None:
    """Ints, floats and nulls as float64 (null: NaN), or None when that would not load alike.

    The loader reads such a column as these float64 values whatever its dtype, with no cell
    failing; an infinite value (JSON ``Infinity``) or an int beyond int64 takes the loader's
    own path instead, as it would from ``from_records``.
    """
    try:
        values = np.array(cells, dtype=np.float64)
    except (OverflowError, ValueError, TypeError):
        return None
    known = values[~np.isnan(values)]
    if not (np.isfinite(known).all() and (np.abs(known) < 2.0**63).all()):
        return None
    return values


def _columns(table: str, rows: list[dict[str, Any]]) -> _Table:
    """A request table's records as column arrays that load as ``DataFrame.from_records``'s.

    Column by column instead of pandas' per-cell inference: text (str or null) stays an
    object array, all-bool cells a bool array, and counts (ints, floats and nulls in a
    numeric contract column) become float64, which the loader reads exactly as the object
    or int64 column ``from_records`` gives (nulls: unknown either way), so a count with gaps
    no longer keeps its request out of a batch. Anything else (rows with different keys,
    numbers in a text column, nested values) is left to ``from_records``, cell by cell.
    """
    if not rows:
        return _Table(0, {c.name: np.array([], dtype=object) for c in TABLES[table]})
    keys = rows[0].keys()
    names = list(keys)
    if not names or not all(r.keys() == keys for r in rows):
        return _records_table(rows)
    get = itemgetter(*names)
    cells = [tuple(map(get, rows))] if len(names) == 1 else list(zip(*map(get, rows), strict=True))
    numeric = _NUMERIC[table]
    columns: dict[str, np.ndarray] = {}
    for name, values in zip(names, cells, strict=True):
        kinds = set(map(type, values))
        if name in numeric and kinds <= _NUMBER_CELLS:
            array = _numbers(values)
            if array is None:
                return _records_table(rows)
        elif kinds <= _TEXT_CELLS:
            array = np.empty(len(values), dtype=object)
            array[:] = values
        elif kinds == {bool}:
            array = np.array(values, dtype=bool)
        else:
            return _records_table(rows)
        columns[name] = array
    return _Table(len(rows), columns)


def _records_table(rows: list[dict[str, Any]]) -> _Table:
    """A table through ``DataFrame.from_records`` (pandas' inference, cell by cell)."""
    frame = pd.DataFrame.from_records(rows)
    return _Table(len(frame), {str(c): frame[c].to_numpy() for c in frame.columns})


def _tables(body: ScoreRequest) -> dict[str, _Table]:
    """The request's tables as raw columns (an empty list: the contract's columns, no rows)."""
    out = {}
    for name in _TABLES:
        rows = getattr(body, name)
        if rows is not None:
            out[name] = _columns(name, rows)
    return out


def _loaded(
    body: ScoreRequest, partial: bool, tables: dict[str, _Table] | None = None
) -> CreatorData:
    """The request's tables loaded; 422 for a contract error, or row errors unless partial.

    ``tables``: the body's :func:`_tables`, when they have been read already.
    """
    if tables is None:
        tables = _tables(body)
    try:
        data = load({name: table.frame() for name, table in tables.items()})
    except ContractError as exc:
        raise HTTPException(422, str(exc)) from exc
    if not partial and len(data.errors):
        detail = {
            "message": f"{len(data.errors)} row(s) break the data contract",
            "errors": _records(data.errors),
        }
        raise HTTPException(422, detail)
    return data


def _fit_answer(scorer: Scorer, body: FitRequest, partial: bool) -> JSONResponse:
    """POST /v1/fit's answer (the number of creators checked already)."""
    data = _loaded(body, partial)
    brands = pd.DataFrame.from_records(body.brands)
    try:
        _, bad = load_brands(brands)
    except ContractError as exc:
        raise HTTPException(422, str(exc)) from exc
    if not partial and len(bad):
        raise HTTPException(
            422,
            {
                "message": f"{len(bad)} brand row(s) break the data contract",
                "errors": _records(bad),
            },
        )
    frame = scorer.fit(data, brands, top=body.top)
    return JSONResponse({"model_version": scorer.model_version, "rows": _records(frame)})


def _explain_answer(scorer: Scorer, body: ExplainRequest, partial: bool) -> JSONResponse:
    """POST /v1/explain's answer (the number of creators checked already)."""
    return _explained(scorer, _loaded(body, partial), body.creator_id, body.top)


def _explained(scorer: Scorer, data: CreatorData, creator_id: str, top: int) -> JSONResponse:
    from serving.report import explanation

    if creator_id not in data.creator_ids:
        raise HTTPException(404, f"creator {creator_id!r} is not in the data")
    scores, evidence = scorer.explain(data, [creator_id], top=top)
    body = {"model_version": scorer.model_version, **explanation(scores, evidence)}
    return JSONResponse(_clean_json(body))


# The requests answered one at a time (not batched): their body model and their answer.
_CALLS = {"fit": (FitRequest, _fit_answer), "explain": (ExplainRequest, _explain_answer)}


def create_app(scorer: Scorer, settings: Settings | None = None) -> FastAPI:
    """The FastAPI app serving ``scorer`` with ``settings`` (default: from the environment)."""
    settings = settings or Settings.from_env()
    batcher = _Batcher(
        scorer,
        settings.batch_max_creators,
        settings.batch_wait_ms / 1000,
        settings.queue_max,
        settings.score_processes,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # The bundle and the libraries live as long as the process: frozen, the garbage
        # collector stops walking them on every full pass (milliseconds per request otherwise).
        gc.freeze()
        try:
            await batcher.start()
            yield
        finally:
            await batcher.close()

    app = FastAPI(
        title="creatorscore",
        summary="Bought-follower risk and brand fit for social-media creators, with reasons.",
        version=scorer.model_version,
        lifespan=lifespan,
    )

    # async: a plain function dependency would run in the thread pool, a thread hop (and two
    # waits for the GIL behind the scoring thread) per request for a string comparison.
    async def check_key(
        x_api_key: str | None = Header(default=None),
        authorization: str | None = Header(default=None),
    ) -> None:
        if settings.api_key is None:
            return
        given = x_api_key
        if given is None and authorization and authorization.lower().startswith("bearer "):
            given = authorization[7:].strip()
        if given is None or not hmac.compare_digest(given.encode(), settings.api_key.encode()):
            raise HTTPException(
                401, "missing or wrong API key", headers={"WWW-Authenticate": "Bearer"}
            )

    def too_many(body: ScoreRequest) -> None:
        if len(body.creators) > settings.max_creators:
            raise HTTPException(
                413,
                f"{len(body.creators):,} creators in one request; the limit is "
                f"{settings.max_creators:,} (use the batch command for more)",
            )

    async def sent(request: Request) -> bytes:
        """The body as sent, for a scoring process (FastAPI has read it already); else none."""
        return await request.body() if settings.score_processes else b""

    partial_q = Query(False, description="Score the good creators, return error rows for the bad.")
    extra_q = Query(
        False,
        description="Add the optional columns: fraud_confidence, the audience_fake_share interval, "
        "low_quality_audience with its reasons, and evidence counts.",
    )

    @app.get("/healthz", tags=["service"])
    def healthz() -> dict[str, str]:
        """Liveness: the model is loaded."""
        return {"status": "ok", "model_version": scorer.model_version}

    @app.get("/v1/model", tags=["service"], dependencies=[Depends(check_key)])
    def model_info() -> JSONResponse:
        """The loaded model: version, content hash, library versions and training metrics."""
        b = scorer.bundle
        metrics = {
            name: _clean(dict(m.metrics_))
            for name, m in (
                ("fraud", b.fraud_model),
                ("fit", b.fit_model),
                ("account", b.account_model),
            )
            if m is not None
        }
        return JSONResponse(
            {
                "model_version": scorer.model_version,
                "bundle_hash": b.version,
                "n_features": len(b.feature_names),
                "versions": b.versions,
                "metrics": metrics,
                "limits": {
                    "max_creators": settings.max_creators,
                    "max_body_bytes": settings.max_body_bytes,
                },
            }
        )

    @app.post("/v1/score", tags=["scoring"], dependencies=[Depends(check_key)])
    async def score(
        request: Request, body: ScoreRequest, partial: bool = partial_q, extra: bool = extra_q
    ) -> Response:
        """Fraud risk, band, engagement, tier and reasons for each creator, in input order."""
        too_many(body)
        return await batcher.score(body, partial, extra, await sent(request))

    @app.post("/v1/fit", tags=["scoring"], dependencies=[Depends(check_key)])
    async def fit(request: Request, body: FitRequest, partial: bool = partial_q) -> Response:
        """Fit score and rank of each (brand, creator) pair, or the best ``top`` per brand."""
        too_many(body)
        return await batcher.call("fit", body, partial, await sent(request))

    @app.post("/v1/explain", tags=["scoring"], dependencies=[Depends(check_key)])
    async def explain(
        request: Request, body: ExplainRequest, partial: bool = partial_q
    ) -> Response:
        """The evidence behind one creator's scores: its score row with every optional column
        (confidence, fake-share interval, low-quality audience, evidence counts) and the
        evidence rows (follower jumps and drops, suspicious posts, fake-looking followers,
        repeated commenters)."""
        too_many(body)
        return await batcher.call("explain", body, partial, await sent(request))

    @app.get("/v1/explain/{creator_id}", tags=["scoring"], dependencies=[Depends(check_key)])
    def explain_stored(creator_id: str, top: int = Query(10, ge=1, le=100)) -> JSONResponse:
        """``POST /v1/explain`` for a creator of the service's own dataset folder
        (``CREATORSCORE_DATA_DIR``)."""
        from serving.report import read_creator

        if settings.data_dir is None:
            raise HTTPException(
                404,
                "this service was started without a dataset (CREATORSCORE_DATA_DIR); "
                "POST /v1/explain with the creator's tables instead",
            )
        try:
            tables = read_creator(settings.data_dir, creator_id)
        except KeyError as exc:
            raise HTTPException(404, f"creator {creator_id!r} is not in the dataset") from exc
        try:
            data = load(tables)
        except ContractError as exc:
            raise HTTPException(422, str(exc)) from exc
        return _explained(scorer, data, creator_id, top)

    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    app.state.batcher = batcher
    return app


def app_from_env() -> FastAPI:
    """The app for the model ``CREATORSCORE_MODEL`` (default the registry champion).

    An app factory for running the service under a server of one's own choosing, e.g.
    ``uvicorn --factory serving.api:app_from_env`` (settings from the environment as
    :meth:`Settings.from_env`; ``CREATORSCORE_MODEL_VERSION`` names the version it reports).
    ``creatorscore serve`` does the same in one process, with ``--workers`` scoring processes.
    """
    from serving.predict import DEFAULT_MODEL_URI

    scorer = Scorer.load(os.environ.get("CREATORSCORE_MODEL") or DEFAULT_MODEL_URI)
    scorer.model_version = os.environ.get("CREATORSCORE_MODEL_VERSION") or scorer.model_version
    return create_app(scorer, Settings.from_env())


def _clean_json(value: Any) -> Any:
    """NaN and infinities (not JSON) become null, in nested lists and dicts."""
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return _clean(value)
