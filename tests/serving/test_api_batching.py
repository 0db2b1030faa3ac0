"""Micro-batching of POST /v1/score: requests scored together answer what they would alone."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pandas as pd
import pytest

from features.dataset import load
from serving import api
from serving.api import Settings, create_app
from serving.predict import Scorer


class CountingScorer(Scorer):
    """A scorer that records how many creators each scoring call was given."""

    def __init__(self, scorer: Scorer) -> None:
        super().__init__(scorer.bundle, scorer.model_version, scorer.folder)
        self.calls: list[int] = []

    def score(self, data, **kwargs):
        self.calls.append(len(data.creator_ids))
        return super().score(data, **kwargs)


def post_together(app, requests: list[tuple[str, dict]]) -> list[httpx.Response]:
    """Send the requests concurrently to the app, in-process."""

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(*(client.post(url, json=body) for url, body in requests))

    return asyncio.run(go())


@pytest.fixture()
def counting(scorer) -> CountingScorer:
    return CountingScorer(scorer)


def alone(scorer: Scorer, tables: dict[str, pd.DataFrame], ids: list[str], extra=False) -> list:
    """The rows ``scorer`` gives for ``ids`` scored on their own, as JSON would carry them."""
    frame = scorer.score(
        {k: v[v["creator_id"].isin(ids)] for k, v in tables.items() if k != "brands"},
        extra=extra,
    )
    return frame.astype(object).where(frame.notna(), None).to_dict(orient="records")


def test_concurrent_requests_are_scored_in_one_call_with_their_own_rows(
    scorer, counting, world_tables, request_body, monkeypatch
):
    loads = []
    monkeypatch.setattr(api, "load", lambda tables: loads.append(tables) or load(tables))
    # The batch closes once its five creators are in; the long wait only makes sure they are.
    app = create_app(counting, Settings(batch_wait_ms=30_000, batch_max_creators=5))
    ids = world_tables["creators"]["creator_id"].tolist()
    groups = [[ids[0]], [ids[1], ids[2]], [ids[3]], [ids[4]]]
    responses = post_together(
        app, [("/v1/score", request_body(world_tables, group)) for group in groups]
    )
    # One loading and one scoring call for the five creators of the four requests.
    assert [len(t["creators"]) for t in loads] == [5] and counting.calls == [5]
    for group, response in zip(groups, responses, strict=True):
        assert response.status_code == 200, response.text
        rows = response.json()["rows"]
        assert [row["creator_id"] for row in rows] == group
        assert rows == alone(scorer, world_tables, group)


def test_requests_that_cannot_share_a_call_are_scored_apart(
    scorer, counting, world_tables, request_body
):
    app = create_app(counting, Settings(batch_wait_ms=30_000, batch_max_creators=5))
    ids = world_tables["creators"]["creator_id"].tolist()
    same = request_body(world_tables, [ids[5]])
    broken = request_body(world_tables, [ids[6]])
    broken["posts"][0]["likes"] = -1
    no_posts = {k: v for k, v in request_body(world_tables, [ids[7]]).items() if k != "posts"}
    responses = post_together(
        app,
        [
            ("/v1/score", same),
            ("/v1/score", same),  # the same creator twice: not one batch
            ("/v1/score", broken),  # 422 for this request only
            ("/v1/score", no_posts),  # posts not given is not the same input as no posts
            ("/v1/score?extra=true", request_body(world_tables, [ids[8]])),
        ],
    )
    assert [r.status_code for r in responses] == [200, 200, 422, 200, 200]
    assert sorted(counting.calls) == [1, 1, 1, 1]
    assert responses[0].json() == responses[1].json()
    assert responses[2].json()["detail"]["errors"][0]["problem"] == "negative value -1"
    tables_no_posts = {k: v for k, v in world_tables.items() if k != "posts"}
    assert responses[3].json()["rows"] == alone(scorer, tables_no_posts, [ids[7]])
    extra_rows = responses[4].json()["rows"]
    assert extra_rows == alone(scorer, world_tables, [ids[8]], extra=True)


def test_child_rows_naming_another_requests_creator_stay_unknown(
    counting, world_tables, request_body
):
    """Loaded together the rows would find their creator; each request alone does not."""
    app = create_app(counting, Settings(batch_wait_ms=30_000, batch_max_creators=2))
    ids = world_tables["creators"]["creator_id"].tolist()
    first, second = request_body(world_tables, [ids[0]]), request_body(world_tables, [ids[1]])
    first["posts"], second["posts"] = second["posts"], first["posts"]
    responses = post_together(app, [("/v1/score", first), ("/v1/score", second)])
    assert [r.status_code for r in responses] == [422, 422]
    problems = {e["problem"] for e in responses[0].json()["detail"]["errors"]}
    assert problems == {f"unknown creator '{ids[1]}' (not in creators)"}


def test_a_full_queue_answers_503(counting, world_tables, request_body):
    """One request in the scorer (held there), one waiting, the others refused."""
    entered, release = threading.Event(), threading.Event()

    class HeldScorer(CountingScorer):
        def score(self, data, **kwargs):
            entered.set()
            release.wait(timeout=60)  # a safety net against a hung test, not a timing
            return super().score(data, **kwargs)

    app = create_app(
        HeldScorer(counting), Settings(batch_wait_ms=0, batch_max_creators=1, queue_max=1)
    )
    ids = world_tables["creators"]["creator_id"].tolist()

    async def go() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

            def post(cid: str) -> asyncio.Future:
                body = request_body(world_tables, [cid])
                return asyncio.ensure_future(client.post("/v1/score", json=body))

            first = post(ids[0])
            assert await asyncio.to_thread(entered.wait, 60)
            later = [post(cid) for cid in ids[1:4]]
            pending = set(later)
            while len(pending) > 1:  # two are refused at once; one waits behind the first
                _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            release.set()
            return [(await first).status_code, *sorted([(await t).status_code for t in later])]

    assert asyncio.run(go()) == [200, 200, 503, 503]


def test_the_scoring_thread_runs_lightgbm_and_blas_on_itself_alone(scorer):
    from threadpoolctl import threadpool_info

    batcher = api._Batcher(scorer, max_creators=10, wait=0.0, queue_max=4)
    try:
        pools = batcher._executor.submit(threadpool_info).result()
    finally:
        asyncio.run(batcher.close())
    # LightGBM's OpenMP runtime is loaded once a model is; each pool has one thread there.
    assert any(p["user_api"] == "openmp" for p in pools)
    assert all(p["num_threads"] == 1 for p in pools)
