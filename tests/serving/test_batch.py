"""The batch commands end to end: formats, bad rows, chunking, interruption and resume."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from features.dataset import ContractError
from features.schema import FIT_COLUMNS, SCORE_COLUMNS, SCORE_EXTRA_COLUMNS
from serving.batch import score_folder
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
