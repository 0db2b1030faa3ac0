"""The HTTP service, started as a real uvicorn process on a free loopback port."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from features.schema import SCORE_COLUMNS, SCORE_EXTRA_COLUMNS

KEY = "test-key-123"


def _start(bundle_dir, log, env: dict, *args: str, free_port, wait_until_up):
    """A ``creatorscore serve`` process on a free port, once it answers; (process, base URL)."""
    port = free_port()
    cmd = [sys.executable, "-m", "serving.cli", "serve", "--port", str(port), *args]
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [*cmd, "--model", str(bundle_dir)], env={**os.environ, **env}, stderr=err
        )
    base = f"http://127.0.0.1:{port}"
    wait_until_up(
        proc,
        lambda: httpx.get(f"{base}/healthz", timeout=1).status_code == 200,
        "the service",
        not_yet=(httpx.TransportError,),
        log=log,
    )
    return proc, base


@pytest.fixture(scope="module")
def service(bundle_dir, tmp_path_factory, free_port, wait_until_up):
    env = {
        "CREATORSCORE_API_KEY": KEY,
        "CREATORSCORE_MAX_CREATORS": "20",
        "CREATORSCORE_MAX_BODY_BYTES": "400000",
    }
    log = tmp_path_factory.mktemp("service") / "stderr.txt"
    proc, base = _start(bundle_dir, log, env, free_port=free_port, wait_until_up=wait_until_up)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_good_request_scores_in_input_order(service, world_tables, scorer, request_body):
    ids = world_tables["creators"]["creator_id"].iloc[[4, 1, 7]].tolist()
    body = request_body(world_tables, ids)
    body["creators"] = sorted(body["creators"], key=lambda r: ids.index(r["creator_id"]))
    r = httpx.post(f"{service}/v1/score", json=body, headers={"X-API-Key": KEY}, timeout=30)
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [row["creator_id"] for row in rows] == ids
    assert list(rows[0]) == list(SCORE_COLUMNS)
    want = scorer.score(world_tables).set_index("creator_id").loc[ids]
    assert [row["fraud_risk"] for row in rows] == pytest.approx(want["fraud_risk"].tolist())
    bearer = {"Authorization": f"Bearer {KEY}"}
    info = httpx.get(f"{service}/v1/model", headers=bearer, timeout=10).json()
    assert info["model_version"] == scorer.model_version
    assert info["metrics"]["fraud"]["roc_auc"] > 0.5
    assert httpx.get(f"{service}/openapi.json", timeout=10).json()["paths"]["/v1/score"]

    r = httpx.post(f"{service}/v1/score?extra=true", json=body, headers=bearer, timeout=30)
    rows = r.json()["rows"]
    assert list(rows[0]) == [*SCORE_COLUMNS, *SCORE_EXTRA_COLUMNS]
    assert all(row["fraud_confidence"] in ("high", "medium", "low") for row in rows)


def test_missing_or_wrong_key_is_401(service, world_tables, request_body):
    body = request_body(world_tables, world_tables["creators"]["creator_id"][:1])
    assert httpx.post(f"{service}/v1/score", json=body, timeout=10).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.post(f"{service}/v1/score", json=body, headers=wrong).status_code == 401
    assert httpx.get(f"{service}/v1/model", timeout=10).status_code == 401


def test_too_large_is_413(service, world_tables):
    headers = {"X-API-Key": KEY}
    big = {"creators": [{"creator_id": "x", "followers": 1, "bio": "a" * 500_000}]}
    assert httpx.post(f"{service}/v1/score", json=big, headers=headers).status_code == 413
    many = {"creators": [{"creator_id": f"c{i}", "followers": 10} for i in range(21)]}
    r = httpx.post(f"{service}/v1/score", json=many, headers=headers)
    assert r.status_code == 413 and "limit is 20" in r.json()["detail"]


def test_contract_violations_are_422_with_row_messages(service, world_tables, request_body):
    ids = world_tables["creators"]["creator_id"][:2].tolist()
    body = request_body(world_tables, ids)
    body["posts"][0]["likes"] = -5
    headers = {"X-API-Key": KEY}
    r = httpx.post(f"{service}/v1/score", json=body, headers=headers, timeout=30)
    assert r.status_code == 422
    errors = r.json()["detail"]["errors"]
    assert errors == [
        {
            "table": "posts",
            "row": 1,
            "column": "likes",
            "creator_id": body["posts"][0]["creator_id"],
            "problem": "negative value -5",
        }
    ]
    r = httpx.post(f"{service}/v1/score?partial=true", json=body, headers=headers, timeout=30)
    assert [row["status"] for row in r.json()["rows"]] == ["error", "ok"]
    no_followers = {"creators": [{"creator_id": "a"}]}
    r = httpx.post(f"{service}/v1/score", json=no_followers, headers=headers)
    assert r.status_code == 422 and "followers" in r.json()["detail"]
    r = httpx.post(f"{service}/v1/score", json={"creators": [], "model": "/etc"}, headers=headers)
    assert r.status_code == 422


def test_fit_ranks_every_brand_creator_pair_as_the_scorer_does(
    service, world_tables, scorer, fit_case
):
    """POST /v1/fit through the service's scoring process: the scorer's own fit rows."""
    body, own, brands = fit_case(world_tables, n_creators=4)
    r = httpx.post(f"{service}/v1/fit", json=body, headers={"X-API-Key": KEY}, timeout=60)
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    want = scorer.fit(own, brands)
    assert [(row["brand_id"], row["creator_id"]) for row in rows] == list(
        zip(want["brand_id"], want["creator_id"], strict=True)
    )
    assert [row["fit_score"] for row in rows] == pytest.approx(want["fit_score"].tolist())
    r = httpx.post(f"{service}/v1/fit", json=body | {"top": 1}, headers={"X-API-Key": KEY})
    assert [row["brand_id"] for row in r.json()["rows"]] == brands["brand_id"].tolist()

    body["brands"][1]["min_followers"] = "many"
    r = httpx.post(f"{service}/v1/fit", json=body, headers={"X-API-Key": KEY}, timeout=60)
    assert r.status_code == 422
    (error,) = r.json()["detail"]["errors"]
    assert error["row"] == 2 and "column min_followers" in error["error"]
    assert httpx.post(f"{service}/v1/fit", json=body, timeout=10).status_code == 401
