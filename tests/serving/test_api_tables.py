"""Request tables built column by column load exactly as ``DataFrame.from_records`` frames do."""

from __future__ import annotations

import asyncio
import math

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from features.dataset import ContractError, columns_frame, load
from features.schema import TABLES as SCHEMA
from serving import api
from serving.api import Settings, create_app

TABLES = ("creators", "follower_history", "posts", "comments", "audience_sample")


def reference(body: dict) -> dict[str, pd.DataFrame]:
    """The tables as the service built them before: one ``from_records`` frame per table."""
    out = {}
    for name in TABLES:
        rows = body.get(name)
        if rows is not None:
            out[name] = pd.DataFrame.from_records(rows) if rows else empty(name)
    return out


def empty(name: str) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series([], dtype=object) for c in SCHEMA[name]})


def built(body: dict) -> dict[str, pd.DataFrame]:
    return {name: api._columns(name, body[name]).frame() for name in TABLES if name in body}


def loaded(tables: dict[str, pd.DataFrame]):
    try:
        return load(tables)
    except ContractError as exc:
        return str(exc)


def assert_same_load(body: dict) -> None:
    want, got = loaded(reference(body)), loaded(built(body))
    if isinstance(want, str):
        assert got == want
        return
    for name in TABLES:
        a, b = getattr(want, name), getattr(got, name)
        assert (a is None) == (b is None)
        if a is not None:
            assert_frame_equal(b, a, check_exact=True)
    assert got.creator_ids == want.creator_ids
    assert_frame_equal(got.errors, want.errors)
    assert got.unscorable == want.unscorable


def creator(**cells) -> dict:
    return {"creator_id": "a", "followers": 10, **cells}


def post(**cells) -> dict:
    row = {
        "creator_id": "a",
        "post_id": "p1",
        "posted_at": "2024-01-02T03:04:05Z",
        "likes": 5,
        "comments": 1,
        "views": None,
        "caption": "hi #ad",
        "is_sponsored": False,
    }
    return {**row, **cells}


def test_simulated_requests_load_alike(world_tables, request_body):
    ids = world_tables["creators"]["creator_id"].tolist()
    for group in ([ids[0]], ids[1:4], ids[4:12]):
        assert_same_load(request_body(world_tables, group))


@pytest.mark.parametrize(
    "body",
    [
        {"creators": [creator()], "posts": [post(likes=None), post(post_id="p2", likes=7)]},
        {"creators": [creator()], "posts": [post(likes=1.5)]},  # not a whole number
        {"creators": [creator()], "posts": [post(likes="12")]},  # text count
        {"creators": [creator()], "posts": [post(likes=True)]},  # a boolean where a count is
        {"creators": [creator()], "posts": [post(likes=-5)]},
        {"creators": [creator()], "posts": [post(views=2**64)]},  # beyond int64
        {"creators": [creator()], "posts": [post(views=2**53 + 1)]},
        {"creators": [creator()], "posts": [post(), {"creator_id": "a", "post_id": "p2"}]},
        {"creators": [creator(followers=None)]},
        {"creators": [creator(followers=float("nan"))]},
        {"creators": [{"creator_id": 7, "followers": 10}]},  # an id written as a number
        {"creators": [creator(is_verified=None), creator(creator_id="b", is_verified=True)]},
        {"creators": [creator(is_verified="yes")]},
        {"creators": [creator(bio=["a", "list"])]},  # nested value
        {"creators": [creator(created_at=20200101)]},
        {"creators": [creator(unknown_column=1)]},
        {"creators": [creator(), creator()]},  # duplicate id
        {"creators": [{"creator_id": "a"}]},  # required column missing
        {"creators": [{}]},
        {"creators": [creator()], "posts": []},
        {"creators": [creator()], "audience_sample": [{"creator_id": "a", "follower_id": 1}]},
    ],
)
def test_odd_cells_load_alike(body):
    assert_same_load(body)


cell = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_infinity=False),
    st.sampled_from(["", "3", "x", "2024-01-02", "true", "1.5"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"creator_id": st.sampled_from(["a", "b", "c"])},
            optional={"followers": cell, "following": cell, "is_verified": cell, "bio": cell},
        ),
        min_size=1,
        max_size=4,
    )
)
def test_random_cells_load_alike(rows):
    assert_same_load({"creators": rows})


@pytest.mark.parametrize(
    "rows",
    [
        [creator(bio=None, is_verified=True), creator(creator_id="b", bio="x", is_verified=False)],
        [creator(bio=["a", "list"]), creator(creator_id=7, followers=None)],  # from_records' way
        [creator(created_at="2024-01-02", country={"nested": 1})],
        [],
    ],
)
def test_request_tables_are_the_frames_the_constructor_gives(rows):
    table = api._columns("creators", rows)
    frame = table.frame()
    assert_frame_equal(frame, pd.DataFrame(table.columns, index=pd.RangeIndex(table.n)))


def test_columns_frame_refuses_columns_of_another_length():
    with pytest.raises(ValueError, match="followers"):
        columns_frame({"creator_id": np.array(["a", "b"], object), "followers": np.ones(3)}, 2)
    with pytest.raises(ValueError, match="bio"):
        columns_frame({"bio": np.empty((2, 1), object)}, 2)


def test_a_request_scored_alone_reads_its_tables_once(app, world_tables, request_body, monkeypatch):
    reads = []
    tables = api._tables
    monkeypatch.setattr(api, "_tables", lambda body: reads.append(body) or tables(body))
    cid = world_tables["creators"]["creator_id"].iloc[0]
    response = post_json(app, "/v1/score", request_body(world_tables, [cid]))
    assert response.status_code == 200 and [r["creator_id"] for r in response.json()["rows"]] == [
        cid
    ]
    assert len(reads) == 1


def test_numbers_are_float64_only_when_they_load_alike():
    assert api._numbers((1, None, 2.5)).tolist()[::2] == [1.0, 2.5]
    assert math.isnan(api._numbers((None, None))[0])
    assert api._numbers((1, float("inf"))) is None
    assert api._numbers((2**63,)) is None
    assert api._numbers((10**400,)) is None


def test_counts_with_gaps_share_a_loading_call(world_tables, request_body, monkeypatch):
    """All-null views (a count with gaps) no longer keep a request out of its batch."""
    loads = []
    monkeypatch.setattr(api, "load", lambda tables: loads.append(tables) or load(tables))
    ids = world_tables["creators"]["creator_id"].tolist()
    bodies = [request_body(world_tables, [cid]) for cid in ids[:3]]
    for row in bodies[1]["posts"]:
        row["views"] = None
    parts = [api._tables(api.ScoreRequest.model_validate(b)) for b in bodies]
    keys = {api._raw_signature(p, False) for p in parts}
    assert len(keys) == 1 and None not in keys
    data = api._load_together(parts)
    assert data is not None and [len(t["creators"]) for t in loads] == [3]
    alone = load(reference(bodies[1]))
    rows = data.posts[data.posts["creator_id"] == ids[1]].reset_index(drop=True)
    assert_frame_equal(rows, alone.posts, check_exact=True)


def post_json(app, url: str, body) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(url, json=body)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def app(scorer):
    return create_app(scorer, Settings(batch_wait_ms=0))


def test_contract_messages_name_table_row_and_column(app):
    body = {
        "creators": [creator(), creator(creator_id="b")],
        "posts": [post(), post(post_id="p2", likes="many"), post(post_id="p3", views=1.5)],
    }
    r = post_json(app, "/v1/score", body)
    assert r.status_code == 422
    assert r.json()["detail"]["errors"] == [
        {
            "table": "posts",
            "row": 2,
            "column": "likes",
            "creator_id": "a",
            "problem": "not a whole number 'many'",
        },
        {
            "table": "posts",
            "row": 3,
            "column": "views",
            "creator_id": "a",
            "problem": "not a whole number 1.5",
        },
    ]
    r = post_json(app, "/v1/score?partial=true", body)
    assert r.status_code == 200
    rows = r.json()["rows"]
    assert [(row["creator_id"], row["status"]) for row in rows] == [("a", "error"), ("b", "ok")]
    assert rows[0]["fraud_risk"] is None and "posts row 2, column likes" in rows[0]["error"]


def test_missing_columns_and_unknown_tables_are_422(app):
    r = post_json(app, "/v1/score", {"creators": [{"creator_id": "a", "bio": "x"}]})
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "table creators: required column followers missing; columns found: creator_id, bio"
    )
    r = post_json(app, "/v1/score", {"creators": [creator()], "follower": []})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "follower"]
    r = post_json(app, "/v1/score", {"creators": [creator()], "posts": [1, 2]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "posts", 0]


def test_records_match_pandas_conversion(scorer, world_tables):
    frame = scorer.score(world_tables, extra=True)
    frame.loc[frame.index[:2], ["fraud_risk", "tier"]] = [np.nan, None]
    assert api._records(frame) == api._records_pandas(frame)
    assert api._records(frame.iloc[:0]) == []
    odd = pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "x": [np.int64(3), None]})
    assert api._records(odd) == [{"n": 1, "x": 3}, {"n": None, "x": None}]


def test_fit_in_the_servers_own_thread_pool_ranks_as_the_scorer_does(
    app, scorer, world_tables, fit_case
):
    body, own, brands = fit_case(world_tables)
    r = post_json(app, "/v1/fit", body | {"top": 2})
    assert r.status_code == 200, r.text
    want = scorer.fit(own, brands, top=2)
    got = [(row["brand_id"], row["creator_id"], row["fit_score"]) for row in r.json()["rows"]]
    assert got == list(zip(want["brand_id"], want["creator_id"], want["fit_score"], strict=True))
