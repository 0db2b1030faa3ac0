"""Scoring processes behind the HTTP service: one queue of requests, several cores.

``creatorscore serve --workers N`` runs one server process, which speaks HTTP and gathers
POST /v1/score requests into batches, and N scoring processes, each with its own copy of the
model, which load and score the batches (and answer POST /v1/fit and /v1/explain, one request
at a time, in the process with the least work waiting). Every connection's requests join the
one queue and go to whichever scoring process is free, so a few busy keep-alive connections
cannot pile up on one process while another idles (as they do when server processes accept
connections each for itself), and the event loop never waits for the GIL behind a scoring
call.

The two sides speak over the scoring process's stdin and stdout, in frames of JSON and bytes:
request bodies go as the bytes the client sent, answers as the bytes of the JSON response;
nothing is pickled. A frame is two big-endian uint32 lengths, a JSON header and a payload:

- to the scoring process: ``{"jobs": [{"partial", "extra", "n"}, ...]}`` and the bodies, one
  after the other (``n`` bytes each); with ``"kind": "fit"`` or ``"explain"``, one such body;
- back: ``{"ready": model_version}`` once the model is loaded, then for each batch
  ``{"out": [...]}`` with one entry per job: ``{"status": 200, "n"}`` (its answer is the next
  ``n`` payload bytes), ``{"status", "detail", "headers"}`` for an HTTP error, or ``{"error"}``
  for a failure of the scorer. One frame is answered before the next is sent.

The scoring process is started with the bundle folder the server verified and loaded, never a
path from a request. Output the libraries print goes to stderr: stdout is the channel.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import struct
import sys
import traceback
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import HTTPException

_LENGTHS = struct.Struct("!II")


class ScoringFailed(RuntimeError):
    """The scorer raised on a batch in a scoring process (the message is its exception's)."""


def _frame(header: dict[str, Any], payloads: list[bytes]) -> bytes:
    head = json.dumps(header).encode()
    return _LENGTHS.pack(len(head), sum(map(len, payloads))) + head + b"".join(payloads)


def _read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """The next frame of a blocking stream; None at its end."""
    lengths = stream.read(_LENGTHS.size)
    if len(lengths) < _LENGTHS.size:
        return None
    head, size = _LENGTHS.unpack(lengths)
    data = stream.read(head + size)
    if len(data) < head + size:
        return None
    return json.loads(data[:head]), data[head:]


class ScoringProcess:
    """The server's side of one scoring process: start it, send it batches, stop it.

    ``folder`` and ``version``: the bundle the server loaded and the version it reports.
    """

    def __init__(self, folder: Path, version: str) -> None:
        self.folder, self.version = Path(folder), version
        self._proc: asyncio.subprocess.Process | None = None
        self._turn = asyncio.Lock()  # one frame and its answer at a time
        self.waiting = 0  # exchanges in progress or waiting for their turn

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    async def start(self) -> None:
        """Start the process and wait until it has loaded the model (or fail with why)."""
        root = str(Path(__file__).resolve().parents[1])  # the project, importable as in here
        path = os.environ.get("PYTHONPATH")
        env = {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "serving.workers",
            str(self.folder),
            self.version,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            header, _ = await self._receive()
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            await self.close()
            raise RuntimeError(
                "a scoring process ended while loading the model (its error output above)"
            ) from exc
        if header.get("ready") != self.version:
            await self.close()
            raise RuntimeError(f"a scoring process answered {header!r} instead of being ready")

    async def _receive(self) -> tuple[dict[str, Any], bytes]:
        reader = self._proc.stdout
        head, size = _LENGTHS.unpack(await reader.readexactly(_LENGTHS.size))
        data = await reader.readexactly(head + size)
        return json.loads(data[:head]), data[head:]

    async def run(self, jobs: list) -> list[bytes | Exception]:
        """Each job's answer body (JSON bytes) or its exception, in order.

        ``jobs``: objects with ``raw`` (the request body as sent), ``partial`` and ``extra``.
        When the process has ended mid-batch every job of the batch gets a 503, and the next
        batch starts a new one (waiting while it loads the model).
        """
        header = {"jobs": [{"partial": j.partial, "extra": j.extra, "n": len(j.raw)} for j in jobs]}
        return await self._exchange(header, [j.raw for j in jobs])

    async def call(self, kind: str, raw: bytes, partial: bool) -> bytes | Exception:
        """The answer to one request that is not batched (``kind``: "fit" or "explain")."""
        header = {"kind": kind, "jobs": [{"partial": partial, "extra": False, "n": len(raw)}]}
        (out,) = await self._exchange(header, [raw])
        return out

    async def _exchange(self, header: dict, payloads: list[bytes]) -> list[bytes | Exception]:
        """One frame out and its answer back, one exchange at a time."""
        self.waiting += 1
        try:
            async with self._turn:
                if not self.alive:
                    await self.start()
                try:
                    self._proc.stdin.write(_frame(header, payloads))
                    await self._proc.stdin.drain()
                    answer, payload = await self._receive()
                except (asyncio.IncompleteReadError, ConnectionError):
                    await self.close()
                    gone = HTTPException(
                        503,
                        "the scoring process stopped; please retry",
                        headers={"Retry-After": "1"},
                    )
                    return [gone] * len(payloads)
        finally:
            self.waiting -= 1
        out: list[bytes | Exception] = []
        start = 0
        for entry in answer["out"]:
            if "error" in entry:
                out.append(ScoringFailed(entry["error"]))
            elif entry["status"] == 200:
                out.append(payload[start : start + entry["n"]])
                start += entry["n"]
            else:
                out.append(HTTPException(entry["status"], entry["detail"], entry["headers"]))
        return out

    async def close(self) -> None:
        """Stop the process: its input closed, it ends after the batch in progress."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        try:
            proc.stdin.close()
            await asyncio.wait_for(proc.wait(), 10)
        except (TimeoutError, ConnectionError):
            proc.kill()
            await proc.wait()


def _outcome(result: Any) -> tuple[dict[str, Any], bytes]:
    if isinstance(result, HTTPException):
        return {
            "status": result.status_code,
            "detail": result.detail,
            "headers": result.headers,
        }, b""
    if isinstance(result, Exception):
        traceback.print_exception(result)  # the server's log, as an error in it would be
        return {"error": f"{type(result).__name__}: {result}"}, b""
    return {"status": 200, "n": len(result.body)}, bytes(result.body)


def main(argv: list[str]) -> None:
    """The scoring process: load the bundle, then score the batches that come on stdin."""
    from threadpoolctl import threadpool_limits

    from serving.api import _CALLS
    from serving.predict import Scorer

    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a library's print must not corrupt the channel
    folder, version = argv
    scorer = Scorer.load(folder)
    scorer.model_version = version
    threadpool_limits(1)  # one process per core: see serving.api._one_thread
    gc.freeze()  # the bundle and the libraries live as long as the process
    channel_out.write(_frame({"ready": version}, []))
    channel_out.flush()
    while (frame := _read_frame(channel_in)) is not None:
        header, payload = frame
        kind = header.get("kind", "score")
        if kind == "score":
            results = _score_batch(scorer, header["jobs"], payload)
        else:  # one request, answered on its own
            model, answer = _CALLS[kind]
            partial = header["jobs"][0]["partial"]
            try:
                results = [answer(scorer, model.model_validate_json(payload), partial)]
            except Exception as exc:
                results = [exc]
        outcomes = [_outcome(r) for r in results]
        channel_out.write(_frame({"out": [e for e, _ in outcomes]}, [b for _, b in outcomes]))
        channel_out.flush()


def _score_batch(scorer, specs: list[dict], payload: bytes) -> list:
    """A batch of POST /v1/score bodies scored as the server's own thread would score them."""
    from serving.api import ScoreRequest, _Job, _score_jobs

    jobs, results, start = [], {}, 0
    for k, spec in enumerate(specs):
        raw = payload[start : start + spec["n"]]
        start += spec["n"]
        try:
            body = ScoreRequest.model_validate_json(raw)
        except Exception as exc:  # the server validated it: not expected
            results[k] = exc
            continue
        jobs.append((k, _Job(body, spec["partial"], spec["extra"], None)))
    for (k, _), result in zip(jobs, _score_jobs(scorer, [j for _, j in jobs]), strict=True):
        results[k] = result
    return [results[k] for k in range(len(specs))]


if __name__ == "__main__":
    main(sys.argv[1:])
