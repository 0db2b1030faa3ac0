"""The batch commands end to end: formats, bad rows, chunking, interruption and resume."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import serving.batch as batch_module
from features.dataset import ContractError, arrow_frame
from features.schema import FIT_COLUMNS, SCORE_COLUMNS, SCORE_EXTRA_COLUMNS
from serving.batch import _group_size, plan_chunks, score_folder
from serving.cli import app
from training.simulate import World, WorldConfig, write_world

runner = CliRunner()


def _read(path):
    if path.suffix == ".csv":
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    if path.suffix == ".jsonl":
        return pd.read_json(path, lines=True, dtype=False)
    return pd.read_parquet(path)


def _write(tables, root, fmt="parquet"):
    world = World(config=WorldConfig(n_creators=len(tables["creators"])), tables=tables)
    write_world(world, root / "in", root / "labels", fmt=fmt)
    return root / "in"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_score_cli_round_trip(fmt, tmp_path, world_tables, bundle_dir, scorer):
    data = _write(world_tables, tmp_path, fmt)
    out = tmp_path / f"scores.{fmt}"
    args = ["score", "--data", str(data), "--out", str(out), "--model", str(bundle_dir)]
    result = runner.invoke(app, [*args, "--chunk-size", "25"])
    assert result.exit_code == 0, result.output
    got = _read(out)
    want = scorer.score(world_tables)
    assert list(got.columns) == list(SCORE_COLUMNS)
    assert got["creator_id"].astype(str).tolist() == want["creator_id"].tolist()
    pd.testing.assert_series_equal(got["fraud_risk"], want["fraud_risk"], check_exact=False)
    assert got["risk_band"].tolist() == want["risk_band"].tolist()
    assert got["reasons"].map(json.loads).tolist() == want["reasons"].map(json.loads).tolist()
    assert not list(tmp_path.glob("*.parts")) and not list(tmp_path.glob(".tmp-*"))
    assert "risk band" in result.output


def test_score_cli_extra_columns_match_the_python_api(tmp_path, world_tables, bundle_dir, scorer):
    data = _write(world_tables, tmp_path)
    out = tmp_path / "scores.parquet"
    args = ["score", "--data", str(data), "--out", str(out), "--model", str(bundle_dir)]
    result = runner.invoke(app, [*args, "--chunk-size", "25", "--extra"])
    assert result.exit_code == 0, result.output
    got = _read(out)
    want = scorer.score(world_tables, extra=True)
    assert list(got.columns) == [*SCORE_COLUMNS, *SCORE_EXTRA_COLUMNS]
    for col in ("fraud_confidence", "low_quality_audience", "evidence"):
        assert got[col].tolist() == want[col].tolist(), col
    lo, hi = got["audience_fake_share_low"], got["audience_fake_share_high"]
    known = got["audience_fake_share"].notna()
    assert ((lo <= got["audience_fake_share"]) & (got["audience_fake_share"] <= hi))[known].all()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_fit_cli_round_trip(fmt, tmp_path, world_tables, bundle_dir, scorer):
    data = _write(world_tables, tmp_path, "parquet")
    out = tmp_path / f"fit.{fmt}"
    brands = data / "brands.parquet"
    args = ["fit", "--data", str(data), "--brands", str(brands), "--out", str(out)]
    result = runner.invoke(app, [*args, "--model", str(bundle_dir), "--top", "4"])
    assert result.exit_code == 0, result.output
    got = _read(out)
    want = scorer.fit(world_tables, world_tables["brands"], top=4)
    assert list(got.columns) == list(FIT_COLUMNS)
    assert got["brand_id"].tolist() == want["brand_id"].tolist()
    assert got["creator_id"].astype(str).tolist() == want["creator_id"].tolist()
    assert got["fit_rank"].astype(int).tolist() == want["fit_rank"].astype(int).tolist()


def test_chunks_and_jobs_give_the_one_piece_result(tmp_path, world_dir, scorer):
    one = score_folder(world_dir, tmp_path / "one.parquet", scorer, chunk_size=0)
    many = score_folder(world_dir, tmp_path / "many.parquet", scorer, chunk_size=7, jobs=2)
    assert one.n_rows == many.n_rows == 60 and many.chunks == 9
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "one.parquet"), pd.read_parquet(tmp_path / "many.parquet")
    )


def test_bad_rows_are_reported_and_the_rest_scored(tmp_path, world_tables, scorer):
    data = _write(world_tables, tmp_path, "csv")
    tables = {
        t: pd.read_csv(data / f"{t}.csv", dtype=str, keep_default_na=False, na_values=[""])
        for t in ("creators", "follower_history", "posts")
    }
    ids = tables["creators"]["creator_id"]
    hist, posts = tables["follower_history"], tables["posts"]
    # Bad creators in different chunks and tables; one id repeated across two chunks.
    tables["creators"].loc[3, "followers"] = "lots"
    hist_row = hist.index[hist["creator_id"] == ids[30]][4]
    hist.loc[hist_row, "followers"] = "-10"
    posts.loc[posts.index[posts["creator_id"] == ids[51]][0], "posted_at"] = "yesterday"
    tables["creators"].loc[45, "creator_id"] = ids[12]
    for t, frame in tables.items():
        frame.to_csv(data / f"{t}.csv", index=False)
    summary = score_folder(data, tmp_path / "out.csv", scorer, chunk_size=10)
    out = _read(tmp_path / "out.csv")
    assert len(out) == summary.n_rows == 60
    bad = out.index[out["status"] == "error"].tolist()
    assert bad == [3, 12, 30, 45, 51]
    assert summary.n_errors == 5 and len(summary.first_errors) == 5
    assert "creators row 4, column followers" in out.loc[3, "error"]
    # Row numbers are those of the whole table, as the one-piece loader reports them.
    assert f"follower_history row {hist_row + 1}, column followers" in out.loc[30, "error"]
    assert "duplicate creator_id" in out.loc[12, "error"]
    assert out.loc[[12, 45], "error"].nunique() == 1
    assert "posted_at" in out.loc[51, "error"]
    good = out.drop(index=bad)
    assert (good["status"] == "ok").all() and good["fraud_risk"].notna().all()
    whole = scorer.score(data)
    assert whole.index[whole["status"] == "error"].tolist() == bad
    assert whole.loc[30, "error"] == out.loc[30, "error"]


def test_interrupted_run_resumes_to_the_same_output(tmp_path, world_dir, scorer):
    full = tmp_path / "full.jsonl"
    score_folder(world_dir, full, scorer, chunk_size=8)
    out = tmp_path / "resumed.jsonl"
    with pytest.raises(KeyboardInterrupt):
        score_folder(world_dir, out, scorer, chunk_size=8, stop_after=3)
    assert not out.exists()  # never a partial output file
    assert len(list((tmp_path / "resumed.jsonl.parts").glob("chunk-*.parquet"))) == 3
    summary = score_folder(world_dir, out, scorer, chunk_size=8, resume=True)
    assert summary.resumed_chunks == 3
    assert out.read_text() == full.read_text()


def test_resume_refuses_other_settings(tmp_path, world_dir, scorer):
    out = tmp_path / "o.parquet"
    with pytest.raises(KeyboardInterrupt):
        score_folder(world_dir, out, scorer, chunk_size=8, stop_after=1)
    with pytest.raises(ValueError, match="chunk_size"):
        score_folder(world_dir, out, scorer, chunk_size=9, resume=True)


def test_unordered_child_table_is_refused_when_chunked(tmp_path, world_tables, scorer):
    tables = dict(world_tables)
    tables["posts"] = tables["posts"].iloc[::-1].reset_index(drop=True)
    data = _write(tables, tmp_path)
    with pytest.raises(ContractError, match="posts rows together"):
        score_folder(data, tmp_path / "o.parquet", scorer, chunk_size=10)
    # In one chunk the order does not matter.
    summary = score_folder(data, tmp_path / "o.parquet", scorer, chunk_size=0)
    assert summary.n_errors == 0 and summary.n_rows == 60


def _regroup(data, table, row_group_size, files=1):
    """Rewrite ``table`` of a Parquet dataset with small row groups, or as a folder of files."""
    path = data / f"{table}.parquet"
    arrow = pq.read_table(path)
    path.unlink()
    if files == 1:
        pq.write_table(arrow, path, row_group_size=row_group_size)
        return
    path.mkdir()
    bounds = np.linspace(0, arrow.num_rows, files + 1).astype(int)
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        part = arrow.slice(a, b - a)
        pq.write_table(part, path / f"part-{i}.parquet", row_group_size=row_group_size)


@pytest.fixture()
def regrouped(tmp_path, world_tables):
    """The small world in Parquet with row groups cutting through creators and chunks, posts as
    a folder of three files, and a history row of an unknown creator between two creators."""
    data = _write(world_tables, tmp_path)
    hist = pq.read_table(data / "follower_history.parquet")
    ids = hist.column("creator_id").to_pylist()
    cut = ids.index(world_tables["creators"]["creator_id"].iloc[20])
    ghost = hist.slice(cut - 1, 1).to_pylist()[0] | {"creator_id": "ghost"}
    rows = [hist.slice(0, cut), pa.Table.from_pylist([ghost], schema=hist.schema)]
    pq.write_table(pa.concat_tables([*rows, hist.slice(cut)]), data / "follower_history.parquet")
    _regroup(data, "follower_history", 97)
    _regroup(data, "posts", 50, files=3)
    _regroup(data, "audience_sample", 400)
    _regroup(data, "creators", 11)
    return data


@pytest.mark.parametrize(("batch_rows", "backwards"), [(65_536, False), (5, False), (5, True)])
def test_chunk_plans_hand_out_every_row_once_in_table_order(
    regrouped, monkeypatch, batch_rows, backwards
):
    # Small read batches: chunks start and end inside batches and skip whole ones; read
    # backwards, every chunk has to reopen its row groups.
    monkeypatch.setattr(batch_module, "READ_BATCH_ROWS", batch_rows)
    plans = plan_chunks(regrouped, 7)
    assert [p.n_creators for p in plans] == [7] * 8 + [4]
    for table in ("creators", "follower_history", "posts", "comments", "audience_sample"):
        order = plans[::-1] if backwards else plans
        parts = [
            p.read(order[i + 1].groups() if i + 1 < len(order) else None)
            for i, p in enumerate(order)
        ]
        parts = parts[::-1] if backwards else parts
        got = pd.concat([c.tables[table] for c in parts], ignore_index=True)
        whole = arrow_frame(pq.read_table(regrouped / f"{table}.parquet"))
        pd.testing.assert_frame_equal(got, whole)
        # Offsets are whole-table rows, so the loader's row numbers can be renumbered.
        starts = np.cumsum([0] + [len(c.tables[table]) for c in parts[:-1]])
        assert [c.offsets[table] for c in parts] == starts.tolist()
    creators = [set(c.tables["creators"]["creator_id"]) for c in parts]
    for c, ids in zip(parts, creators, strict=True):
        assert set(c.tables["posts"]["creator_id"]) <= ids  # whole creators only
    # The unknown creator's row travels with the rows around it, in exactly one chunk.
    assert sum((c.tables["follower_history"]["creator_id"] == "ghost").sum() for c in parts) == 1


@pytest.mark.parametrize("size", [1, 3, 7, 59])
def test_row_groups_planned_from_their_dictionary_match_row_by_row(regrouped, monkeypatch, size):
    """The dictionary shortcut plans exactly what positions per row give, and is taken."""
    taken = []
    real = batch_module._ordered_cuts

    def spy(*args):
        got = real(*args)
        taken.append(got is not None)
        return got

    monkeypatch.setattr(batch_module, "_ordered_cuts", spy)
    fast = plan_chunks(regrouped, size)
    # Taken for most row groups; not for the one holding the unknown creator's history row.
    assert any(taken) and not all(taken)
    monkeypatch.setattr(batch_module, "_ordered_cuts", lambda *args: None)
    slow = plan_chunks(regrouped, size)
    assert [(p.offsets, p.slices) for p in fast] == [(p.offsets, p.slices) for p in slow]


def test_an_out_of_order_row_group_is_refused_with_the_dictionary_shortcut(tmp_path, world_tables):
    data = _write(world_tables, tmp_path)
    posts = pq.read_table(data / "posts.parquet")
    ids = posts.column("creator_id").to_pylist()
    # Two creators' runs swapped inside one row group: indices stay in first-appearance order,
    # so only the dictionary's creator positions show the problem.
    a, b = world_tables["creators"]["creator_id"].iloc[[3, 4]]
    ra = [i for i, v in enumerate(ids) if v == a]
    rb = [i for i, v in enumerate(ids) if v == b]
    order = list(range(ra[0])) + rb + ra + list(range(rb[-1] + 1, len(ids)))
    pq.write_table(posts.take(order), data / "posts.parquet")
    with pytest.raises(ContractError, match=rf"row {len(rb) + ra[0] + 1} \(creator '{a}'\) comes"):
        plan_chunks(data, 2)


def test_regrouped_parquet_in_parallel_tasks_gives_the_one_piece_result(
    tmp_path, regrouped, world_tables, scorer
):
    many = score_folder(regrouped, tmp_path / "many.parquet", scorer, chunk_size=3, jobs=2)
    assert many.n_rows == 60 and many.chunks == 20 and many.n_errors == 0
    got = pd.read_parquet(tmp_path / "many.parquet")
    want = scorer.score(world_tables)  # the unknown creator's row is dropped, nobody blamed
    pd.testing.assert_frame_equal(got, want, check_exact=False)


def test_consecutive_chunks_sharing_row_groups_go_to_one_task(regrouped):
    plans = plan_chunks(regrouped, 3)
    # audience_sample row groups of 400 rows hold several creators' 3-chunk runs.
    assert _group_size(plans, jobs=2) == len(plans) // 8 == 2
    assert _group_size(plans, jobs=1) > 2
    assert _group_size(plans[:5], jobs=2) == 1  # too few chunks to share: one per task


_WORKER_STATE = (
    "import ctypes, sys; from serving import batch; {call}; "
    "sys.stdout.write(f'{{ctypes.CDLL(None).prctl(42, 0, 0, 0, 0)}} {{batch._DECODE_THREADS}}')"
)  # prctl 42: PR_GET_THP_DISABLE


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and prctl are Linux's")
@pytest.mark.parametrize(
    ("call", "state"),
    [("batch._as_worker()", "1 False"), ("batch.score_folder", "0 True")],
)
def test_only_worker_processes_change_their_settings(call, state):
    """Workers keep freed memory (no huge pages among the settings) and decode on their own
    thread; importing the module changes nothing."""
    done = subprocess.run(
        [sys.executable, "-c", _WORKER_STATE.format(call=call)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == state


def test_parallel_workers_are_told_they_are_workers(tmp_path, world_dir, scorer, monkeypatch):
    """The parallel path asks each worker to keep its freed memory; the one-process path not."""
    real = batch_module._score_tasks
    marks = tmp_path / "marks"
    marks.mkdir()

    def spy(*args, worker=False, **kwargs):  # runs in the workers too: it leaves files behind
        (marks / f"{os.getpid()}-{len(list(marks.iterdir()))}").write_text(str(worker))
        return real(*args, worker=worker, **kwargs)

    monkeypatch.setattr(batch_module, "_score_tasks", spy)
    score_folder(world_dir, tmp_path / "one.parquet", scorer, chunk_size=40, jobs=1)
    assert {f.read_text() for f in marks.iterdir()} == {"False"}
    for f in marks.iterdir():
        f.unlink()
    score_folder(world_dir, tmp_path / "two.parquet", scorer, chunk_size=20, jobs=2)
    assert {f.read_text() for f in marks.iterdir()} == {"True"}
    assert all(int(f.name.split("-")[0]) != os.getpid() for f in marks.iterdir())


@pytest.mark.parametrize(
    "words",
    [
        pa.array(["b", "c", "e"]),  # in order, d without rows in this row group
        pa.array(["b", "zz", "e"]),  # an unknown id inside the stretch
        pa.array(["e", "b"]),  # out of order: no stretch
        pa.array(["a", "g"], pa.large_string()),
        pa.array(["g", "a", "c"]),
        pa.array([], pa.string()),
    ],
)
def test_a_dictionary_run_is_placed_as_one_look_up_per_id_places_it(words):
    ids = np.array(["a", "b", "c", "d", "e", None, "g"], dtype=object)
    position, _ = batch_module._positions(ids)
    want = position(np.array(words.to_pylist(), dtype=object))
    np.testing.assert_array_equal(position.run(words), want)


def test_a_dictionary_run_with_repeated_or_numeric_ids_is_placed_id_by_id():
    position, repeated = batch_module._positions(np.array(["a", "b", "a", "c"], dtype=object))
    assert repeated  # a repeated id is placed at its first row, not at its place in the run
    np.testing.assert_array_equal(position.run(pa.array(["b", "a", "c"])), [1, 0, 3])
    position, _ = batch_module._positions(np.array(["7", "8", "9"], dtype=object))
    np.testing.assert_array_equal(position.run(pa.array([8, 9])), [1, 2])  # ids as numbers


def test_workers_turn_off_the_leak_check_that_kept_memory_would_trip():
    code = (
        "from joblib.externals.loky import process_executor as pe; from serving import batch; "
        "batch._as_worker(); print(pe._USE_PSUTIL)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_run_scores_on_the_workers_started_while_planning(
    tmp_path, world_dir, scorer, monkeypatch
):
    started: list[int] = []
    real_start, real_tasks = batch_module._start_workers, batch_module._score_tasks
    marks = tmp_path / "marks"
    marks.mkdir()

    def start(*args):
        started.extend(real_start(*args))
        return started

    def spy(*args, **kwargs):  # runs in the workers: leaves its process id behind
        (marks / str(os.getpid())).write_text(os.environ.get("MIMALLOC_PURGE_DELAY", ""))
        return real_tasks(*args, **kwargs)

    monkeypatch.setattr(batch_module, "_start_workers", start)
    monkeypatch.setattr(batch_module, "_score_tasks", spy)
    monkeypatch.delenv("MIMALLOC_PURGE_DELAY", raising=False)
    score_folder(world_dir, tmp_path / "out.parquet", scorer, chunk_size=10, jobs=2)
    used = {int(f.name) for f in marks.iterdir()}
    # Started before planning ended, then given the chunks: the same processes, not new ones.
    assert started and used and os.getpid() not in used and set(started) & used
    # Started with Arrow's allocator keeping its pages, which this process is not told.
    warm = [f.read_text() for f in marks.iterdir() if int(f.name) in started]
    assert warm and set(warm) == {"-1"} and "MIMALLOC_PURGE_DELAY" not in os.environ


def test_a_users_own_allocator_setting_wins(monkeypatch):
    monkeypatch.setenv("MIMALLOC_PURGE_DELAY", "250")
    with batch_module._spawn_environment({"MIMALLOC_PURGE_DELAY": "-1", "CS_TEST_VAR": "x"}):
        assert os.environ["MIMALLOC_PURGE_DELAY"] == "250" and os.environ["CS_TEST_VAR"] == "x"
    assert os.environ["MIMALLOC_PURGE_DELAY"] == "250" and "CS_TEST_VAR" not in os.environ
