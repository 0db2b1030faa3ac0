"""features.build on a small simulated world: shape, dtypes, catalog, and the invariants
(future rows ignored, any chunking of creators gives identical features, scale invariance)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import features
from features.catalog import catalog_markdown
from features.dataset import load
from features.growth import prepare_history
from features.topics import TopicModel, creator_documents
from training.simulate import simulate

AS_OF = pd.Timestamp("2026-09-15")


@pytest.fixture(scope="module")
def world():
    return simulate(150, seed=11)


@pytest.fixture(scope="module")
def data(world):
    return load(world.tables)


@pytest.fixture(scope="module")
def text_model(data):
    docs = creator_documents(data.creators, data.posts, features.resolve_as_of(data))
    return TopicModel(n_topics=6, max_iter=100).fit(docs)


@pytest.fixture(scope="module")
def built(data, text_model):
    return features.build(data, text_model=text_model)


def _subset(tables: dict[str, pd.DataFrame], ids) -> dict[str, pd.DataFrame]:
    keep = set(ids)
    return {
        name: (t[t["creator_id"].isin(keep)] if "creator_id" in t else t)
        for name, t in tables.items()
    }


def test_one_float_row_per_creator_in_order(data, built):
    assert list(built.index) == list(data.creators["creator_id"])
    assert built.index.name == "creator_id"
    assert (built.dtypes == np.float64).all()
    listed = [f.name for m in features.feature_modules() for f in m.FEATURES]
    topic_cols = [c for c in listed if c.startswith("topic_") and c[6:].isdigit()]
    expected = [c for c in listed if c not in topic_cols[6:]]  # the test model has 6 topics
    assert list(built.columns) == expected


def test_signals_are_present_for_a_normal_world(built):
    # Most simulated creators have history and posts, so the core signals are mostly known.
    for col in ("growth_30d_rel", "eng_er_vs_expected", "cmt_n", "aud_n_sampled", "topic_00"):
        assert built[col].notna().mean() > 0.8, col


def test_catalog_document_is_up_to_date():
    on_disk = (Path(__file__).parents[2] / "docs" / "features.md").read_text(encoding="utf-8")
    assert on_disk == catalog_markdown(), "regenerate with: python -m features > docs/features.md"


def test_rows_after_as_of_change_nothing(world, text_model):
    base = features.build(load(world.tables), as_of=AS_OF, text_model=text_model)
    trimmed = dict(world.tables)
    trimmed["follower_history"] = world.tables["follower_history"].query("date <= @AS_OF")
    posts = world.tables["posts"]
    trimmed["posts"] = posts[posts["posted_at"] < AS_OF + pd.Timedelta(days=1)]
    comments = world.tables["comments"]
    trimmed["comments"] = comments[comments["created_at"] < AS_OF + pd.Timedelta(days=1)]
    cut = features.build(load(trimmed), as_of=AS_OF, text_model=text_model)
    assert_frame_equal(base, cut)


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=st.lists(st.integers(min_value=1, max_value=149), max_size=4, unique=True))
def test_any_chunking_of_creators_gives_identical_features(world, built, text_model, cuts):
    ids = list(world.tables["creators"]["creator_id"])
    bounds = [0, *sorted(cuts), len(ids)]
    parts = [
        features.build(load(_subset(world.tables, ids[a:b])), text_model=text_model)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    assert_frame_equal(pd.concat(parts), built)


def test_scaling_counts_together_leaves_ratios_unchanged(world):
    scaled = {name: t.copy() for name, t in world.tables.items()}
    scaled["creators"]["followers"] *= 3
    scaled["follower_history"]["followers"] *= 3
    for col in ("likes", "comments"):
        scaled["posts"][col] *= 3
    a = features.build(load(world.tables))
    b = features.build(load(scaled))
    ratio_cols = ["eng_er_median", "eng_comments_per_like", "eng_likes_cv", "growth_30d_rel"]
    assert_frame_equal(a[ratio_cols], b[ratio_cols], rtol=1e-9)


def test_missing_tables_give_nan_not_zero(world):
    only = {"creators": world.tables["creators"]}
    frame = features.build(load(only))
    growth_eng = [c for c in frame.columns if c.startswith(("growth_", "cmt_", "aud_n"))]
    assert frame[growth_eng].isna().all().all()
    assert frame["profile_log10_followers"].notna().all()


def test_threads_give_identical_features(data, text_model, built, monkeypatch):
    # build() uses threads only from _PARALLEL_MIN_CREATORS on; lower it so this world does.
    monkeypatch.setattr(features, "_PARALLEL_MIN_CREATORS", 0)
    assert_frame_equal(features.build(data, text_model=text_model, n_jobs=2), built)
    assert_frame_equal(features.build(data, text_model=text_model, n_jobs=-1), built)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_a_large_build_goes_block_by_block_to_the_same_features(
    data, text_model, built, monkeypatch, n_jobs
):
    monkeypatch.setattr(features, "BLOCK_CREATORS", 40)
    monkeypatch.setattr(features, "_PARALLEL_MIN_CREATORS", 0)
    blocks = features._blocks(data, 40)
    assert [ab for ab, _ in blocks] == [(0, 40), (40, 80), (80, 120), (120, 150)]
    # Each block holds exactly its creators' rows of every table.
    for (a, b), part in blocks:
        mine = set(data.creators["creator_id"].iloc[a:b])
        for name in ("follower_history", "posts", "comments", "audience_sample"):
            table, whole = getattr(part, name), getattr(data, name)
            assert set(table["creator_id"]) <= mine
            assert len(table) == whole["creator_id"].isin(mine).sum()
    calls = []

    def counted(history, creators, days):
        calls.append(len(creators))
        return prepare_history(history, creators, days)

    monkeypatch.setattr(features, "prepare_history", counted)
    out = features.build(data, text_model=text_model, n_jobs=n_jobs)
    # Each block's history is prepared once, for growth and engagement both.
    assert sorted(calls) == [30, 40, 40, 40]
    # Topic shares may move in the last bit with the rows solved together (BLAS).
    topic = [c for c in built.columns if c.startswith("topic_")]
    assert_frame_equal(out.drop(columns=topic), built.drop(columns=topic), check_exact=True)
    assert_frame_equal(out[topic], built[topic], rtol=1e-12, atol=1e-12)


def test_tables_out_of_creator_order_are_built_whole(data, text_model, built, monkeypatch):
    monkeypatch.setattr(features, "BLOCK_CREATORS", 40)
    shuffled = dataclasses.replace(data, posts=data.posts.iloc[::-1])
    assert features._blocks(shuffled, 40) is None
    assert_frame_equal(features.build(shuffled, text_model=text_model), built)


@pytest.mark.parametrize("family", ["comment_features", "audience_features"])
def test_a_failing_family_fails_the_build_on_threads(data, family, monkeypatch):
    # A builder's own exception, raised on a worker thread, reaches the caller as it is.
    def fail(*args, **kwargs):
        raise ValueError(f"{family} failed")

    monkeypatch.setattr(features, "_PARALLEL_MIN_CREATORS", 0)
    monkeypatch.setattr(features, family, fail)
    with pytest.raises(ValueError, match=f"{family} failed"):
        features.build(data, n_jobs=2)


def test_combine_joins_frames_on_the_same_index_and_aligns_the_others():
    ids = pd.Index(["a", "b", "c"], name="creator_id")
    first = pd.DataFrame({"x": [1.0, 2.0, 3.0]}, index=ids)
    same = pd.DataFrame({"y": [True, False, True], "z": [4, 5, 6]}, index=ids)
    shuffled = pd.DataFrame({"w": [30.0, 10.0]}, index=pd.Index(["c", "a"]))
    out = features._combine([first, same])
    assert out.columns.tolist() == ["x", "y", "z"]
    assert out.index.name == "creator_id" and (out.dtypes == np.float64).all()
    assert out.loc["b"].tolist() == [2.0, 0.0, 5.0]
    # Another index: aligned by creator id, NaN where the frame has no row.
    aligned = features._combine([first, shuffled])
    assert np.isnan(aligned.loc["b", "w"])
    assert aligned.loc["a", "w"] == 10.0 and aligned.loc["c", "w"] == 30.0


def test_combine_gives_each_frame_its_own_column_labels():
    # The column labels are kept once per column set: renaming one frame's must not rename
    # the next frame's.
    ids = pd.Index(["a", "b"], name="creator_id")
    parts = [pd.DataFrame({"x": [1.0, 2.0]}, index=ids), pd.DataFrame({"y": [3.0, 4.0]}, index=ids)]
    first = features._combine(parts)
    first.columns.name = "feature"
    second = features._combine(parts)
    assert second.columns.name is None and second.columns.tolist() == ["x", "y"]
    assert second.to_numpy().tolist() == [[1.0, 3.0], [2.0, 4.0]]


def test_resolve_as_of_copies_the_days_and_falls_back_to_the_latest_rows():
    creators = pd.DataFrame(
        {
            "creator_id": ["a", "b"],
            "snapshot_at": pd.to_datetime(["2026-01-05", "2026-02-01"]),
        }
    )
    data = SimpleNamespace(creators=creators, follower_history=None, posts=None)
    days = features.resolve_as_of(data)
    assert days.name == "as_of" and days.index.name == "creator_id"
    assert days.index.tolist() == ["a", "b"] and days.dtype == "datetime64[ns]"
    assert days.tolist() == list(pd.to_datetime(["2026-01-05", "2026-02-01"]))
    days.iloc[0] = pd.Timestamp("2000-01-01")  # the creators table keeps its own days
    assert creators["snapshot_at"].iloc[0] == pd.Timestamp("2026-01-05")
    # A creator without snapshot_at takes the latest day of its history.
    creators.loc[1, "snapshot_at"] = pd.NaT
    history = pd.DataFrame(
        {"creator_id": ["b", "b"], "date": pd.to_datetime(["2026-01-20", "2026-01-25"])}
    )
    data = SimpleNamespace(creators=creators, follower_history=history, posts=None)
    assert features.resolve_as_of(data).tolist() == list(
        pd.to_datetime(["2026-01-05", "2026-01-25"])
    )
