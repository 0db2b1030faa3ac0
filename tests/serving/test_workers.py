"""Scoring processes behind the HTTP service (``serve --workers``): same answers, one queue."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import httpx
import pytest
from fastapi import HTTPException

from serving.api import (
    ExplainRequest,
    FitRequest,
    ScoreRequest,
    Settings,
    _explain_answer,
    _fit_answer,
    _Job,
    _score_jobs,
    create_app,
)
from serving.workers import ScoringFailed, ScoringProcess


def jobs_of(bodies: list[tuple[dict, bool, bool]]) -> list[_Job]:
    """Jobs as the server makes them: the parsed body and the bytes sent."""
    out = []
    for body, partial, extra in bodies:
        raw = json.dumps(body).encode()
        out.append(_Job(ScoreRequest.model_validate_json(raw), partial, extra, None, raw))
    return out


def answers(outcomes) -> list:
    """Comparable answers: (200, parsed JSON) or (status, detail)."""
    out = []
    for o in outcomes:
        if isinstance(o, HTTPException):
            out.append((o.status_code, o.detail))
        elif isinstance(o, bytes):
            out.append((200, json.loads(o)))
        else:
            out.append((o.status_code, json.loads(o.body)))
    return out


@pytest.fixture()
def bodies(world_tables, request_body) -> list[tuple[dict, bool, bool]]:
    ids = world_tables["creators"]["creator_id"].tolist()
    bad = request_body(world_tables, [ids[2]])
    bad["posts"][0]["creator_id"] = "nobody"
    return [
        (request_body(world_tables, ids[:2]), False, False),
        (bad, False, False),  # 422 with its row problem
        (bad, True, False),  # partial: the good creator scored, the bad rows reported
        (request_body(world_tables, [ids[3]]), False, True),  # the optional columns
    ]


def test_a_scoring_process_answers_as_the_server_would_itself(scorer, bundle_dir, bodies):
    want = answers(_score_jobs(scorer, jobs_of(bodies)))
    assert [w[0] for w in want] == [200, 422, 200, 200]

    async def go():
        process = ScoringProcess(bundle_dir, scorer.model_version)
        await process.start()
        try:
            return await process.run(jobs_of(bodies))
        finally:
            await process.close()

    assert answers(asyncio.run(go())) == want


def test_a_scoring_process_that_ends_mid_batch_answers_503_and_starts_again(
    scorer, bundle_dir, bodies
):
    async def go():
        process = ScoringProcess(bundle_dir, scorer.model_version)
        await process.start()
        try:
            # Stopped, it cannot take the whole batch (over a pipe's 64 KiB): the batch is on
            # its way, and then the process is killed.
            process._proc.send_signal(signal.SIGSTOP)
            batch = asyncio.ensure_future(process.run(jobs_of(bodies[:1])))
            while not process._proc.stdin.transport.get_write_buffer_size():
                await asyncio.sleep(0.01)
            process._proc.send_signal(signal.SIGKILL)
            lost = await batch
            again = await process.run(jobs_of(bodies[:1]))
        finally:
            await process.close()
        return lost, again

    assert len(json.dumps(bodies[0][0])) > 2**16
    lost, again = asyncio.run(go())
    assert [(e.status_code, e.headers) for e in lost] == [(503, {"Retry-After": "1"})]
    assert answers(again) == answers(_score_jobs(scorer, jobs_of(bodies[:1])))


def test_a_scorer_failure_in_the_process_is_that_requests_error(scorer, bundle_dir, bodies):
    job = jobs_of(bodies[:1])[0]
    job.raw = b'{"creators": "not a list"}'  # the server validates first; here it did not

    async def go():
        process = ScoringProcess(bundle_dir, scorer.model_version)
        try:
            return await process.run([job, *jobs_of(bodies[:1])])  # starts it first
        finally:
            await process.close()

    failed, good = asyncio.run(go())
    assert isinstance(failed, ScoringFailed) and "ValidationError" in str(failed)
    assert answers([good]) == answers(_score_jobs(scorer, jobs_of(bodies[:1])))


def test_a_scoring_process_that_cannot_load_the_model_fails_the_start(tmp_path, scorer):
    async def go():
        await ScoringProcess(tmp_path, scorer.model_version).start()

    with pytest.raises(RuntimeError, match="ended while loading the model"):
        asyncio.run(go())


class HeldProcess:
    """A stand-in scoring process whose batches wait until the test lets them finish."""

    def __init__(self, scorer) -> None:
        self.scorer, self.batches, self.release = scorer, [], asyncio.Event()

    async def run(self, jobs):
        self.batches.append([j.body.creators[0]["creator_id"] for j in jobs])
        await self.release.wait()
        return [o.body for o in _score_jobs(self.scorer, jobs)]


def test_requests_of_every_connection_go_to_whichever_process_is_free(
    scorer, world_tables, request_body
):
    """Two processes busy with one request each; the next three wait and go as one batch."""
    settings = Settings(batch_wait_ms=0, score_processes=2)
    app = create_app(scorer, settings)
    ids = world_tables["creators"]["creator_id"].tolist()[:5]

    async def go():
        batcher = app.state.batcher
        held = [HeldProcess(scorer), HeldProcess(scorer)]
        batcher._processes = held
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            def post(cid):
                body = request_body(world_tables, [cid])
                return asyncio.ensure_future(client.post("/v1/score", json=body))

            first = [post(ids[0])]
            while not held[0].batches:
                await asyncio.sleep(0.01)
            first.append(post(ids[1]))
            while not held[1].batches:
                await asyncio.sleep(0.01)
            later = [post(cid) for cid in ids[2:]]
            while batcher._queue.qsize() < 3:
                await asyncio.sleep(0.01)
            held[1].release.set()
            responses = await asyncio.gather(*first[1:], *later)
            held[0].release.set()
            responses.insert(0, await first[0])
        return held, responses

    held, responses = asyncio.run(go())
    assert held[0].batches == [[ids[0]]]
    assert held[1].batches == [[ids[1]], ids[2:]]
    got = [r.json()["rows"][0]["creator_id"] for r in responses]
    assert [r.status_code for r in responses] == [200] * 5 and got == ids


def test_serve_workers_runs_that_many_scoring_processes_and_stops_them(
    bundle_dir, tmp_path, world_tables, scorer, request_body, free_port, wait_until_up
):
    from tests.serving.test_api import _start

    proc, base = _start(
        bundle_dir,
        tmp_path / "stderr.txt",
        {},
        "--workers",
        "2",
        free_port=free_port,
        wait_until_up=wait_until_up,
    )
    try:
        children = [
            int(pid)
            for task in Path(f"/proc/{proc.pid}/task").iterdir()
            for pid in (task / "children").read_text().split()
        ]
        commands = [Path(f"/proc/{pid}/cmdline").read_text().split("\0") for pid in children]
        assert sum("serving.workers" in c for c in commands) == 2
        ids = world_tables["creators"]["creator_id"].tolist()[:6]
        want = scorer.score(world_tables).set_index("creator_id")["fraud_risk"]

        async def go():
            # Six connections at once: their requests share the two processes.
            async def one(cid):
                async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                    return await client.post("/v1/score", json=request_body(world_tables, [cid]))

            return await asyncio.gather(*(one(cid) for cid in ids))

        for cid, r in zip(ids, asyncio.run(go()), strict=True):
            assert r.status_code == 200, r.text
            assert r.json()["model_version"] == scorer.model_version
            (row,) = r.json()["rows"]
            assert row["creator_id"] == cid and row["fraud_risk"] == pytest.approx(want[cid])
        info = httpx.get(f"{base}/v1/model", timeout=10).json()
        assert info["model_version"] == scorer.model_version
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    for pid in children:  # gone with the server, not left running
        assert not os.path.exists(f"/proc/{pid}")


def test_scoring_processes_need_the_bundle_folder(scorer):
    from serving.predict import Scorer

    in_memory = Scorer(scorer.bundle, scorer.model_version, None)
    with pytest.raises(ValueError, match="from its folder"):
        create_app(in_memory, Settings(score_processes=1))
    create_app(in_memory, Settings())  # scored in a thread: no folder needed


def test_fit_and_explain_in_a_scoring_process_answer_as_in_the_server(
    scorer, bundle_dir, world_tables, fit_case
):
    fit, _, _ = fit_case(world_tables)
    ids = [c["creator_id"] for c in fit["creators"]]
    calls = [
        ("fit", FitRequest, _fit_answer, fit),
        ("fit", FitRequest, _fit_answer, fit | {"top": 1}),
        ("explain", ExplainRequest, _explain_answer, fit | {"creator_id": ids[1], "top": 3}),
        ("explain", ExplainRequest, _explain_answer, fit | {"creator_id": "nobody"}),  # 404
    ]
    for _, _, _, body in calls[2:]:
        del body["brands"]

    def here(model, answer, body):
        try:
            return answer(scorer, model.model_validate(body), False)
        except HTTPException as exc:
            return exc

    want = answers([here(model, answer, body) for _, model, answer, body in calls])
    assert [w[0] for w in want] == [200, 200, 200, 404]

    async def go():
        process = ScoringProcess(bundle_dir, scorer.model_version)
        try:
            return [
                await process.call(kind, json.dumps(body).encode(), False)
                for kind, _, _, body in calls
            ]
        finally:
            await process.close()

    assert answers(asyncio.run(go())) == want
