"""The Spark engine gives the pandas path's rows: same statuses, messages and scores.

One local[2] session serves every test in this module (starting Spark costs about 20 s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyspark  # noqa: F401  (the [dev] extra installs it, so CI runs these tests)
import pytest

from features.schema import FIT_COLUMNS, SCORE_COLUMNS

N_BAD_WORLD = 500


@pytest.fixture(scope="session")
def spark():
    from serving.spark import spark_session

    session = spark_session(
        "local[2]",
        {
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "2",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _edit_csv(path: Path, edit) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    edit(frame).to_csv(path, index=False, lineterminator="\n")


@pytest.fixture(scope="module")
def bad_world(tmp_path_factory) -> Path:
    """A 500-creator CSV world with bad rows of every kind, some far apart in their tables."""
    from training.simulate import simulate, write_world

    root = tmp_path_factory.mktemp("spark-world")
    write_world(simulate(N_BAD_WORLD, seed=21), root / "in", root / "labels", fmt="csv")
    folder = root / "in"

    def creators(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[9, "followers"] = "-5"
        f.loc[30, "country"] = "usa"
        f.loc[41, "creator_id"] = None  # its child rows become rows of an unknown creator
        f.loc[77, "is_verified"] = "maybe"
        # creators row 21 again at the end: both rows are duplicates, 480 rows apart.
        return pd.concat([f, f.iloc[[20]]], ignore_index=True)

    def posts(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[100, "likes"] = "abc"
        f.loc[2_000, "posted_at"] = "yesterday"
        extra = f.iloc[[500]].assign(creator_id="ghost")  # a creator not in creators
        return pd.concat([f, f.iloc[[1_500]], extra], ignore_index=True)  # + a doubled key

    def history(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[3_000, "date"] = "2024-13-45"
        return f

    def audience(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[700, "is_private"] = "perhaps"
        return f

    _edit_csv(folder / "creators.csv", creators)
    _edit_csv(folder / "posts.csv", posts)
    _edit_csv(folder / "follower_history.csv", history)
    _edit_csv(folder / "audience_sample.csv", audience)
    return folder


def _assert_same_scores(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(SCORE_COLUMNS)
    assert len(got) == len(want)
    floats = ["fraud_risk", "audience_fake_share", "engagement_rate", "expected_engagement_rate"]
    for col in SCORE_COLUMNS:
        if col in floats:
            np.testing.assert_allclose(
                got[col].to_numpy("float64"), want[col].to_numpy("float64"), rtol=0, atol=1e-9
            )
        else:
            a = got[col].to_numpy(dtype=object)
            b = want[col].to_numpy(dtype=object)
            assert [None if pd.isna(v) else v for v in a] == [
                None if pd.isna(v) else v for v in b
            ], col


def test_bad_world_scores_equal_the_pandas_path(spark, bad_world, scorer):
    from serving.spark import read_tables, score_spark

    want = scorer.score(bad_world, reasons="all")
    got = score_spark(
        spark, read_tables(spark, bad_world), scorer, reasons="all", rows_per_group=150
    ).toPandas()
    _assert_same_scores(got, want)
    errors = got.loc[got["status"] == "error", "error"].tolist()
    assert len(got) == N_BAD_WORLD + 1  # every creators row, the duplicate included
    assert sum("duplicate creator_id" in e for e in errors) == 2
    # Row numbers are the whole table's: the duplicate names row 501, the doubled post its twin.
    assert any("(also in row 501)" in e for e in errors)
    assert any("posts row" in e and "duplicate key" in e for e in errors)
    assert any("follower_history row 3001, column date" in e for e in errors)
    assert (got["status"] == "ok").sum() > 450


def test_parquet_world_with_as_of_equals_the_pandas_path(spark, world_dir, scorer):
    from serving.spark import read_tables, score_spark

    day = "2025-06-01"
    want = scorer.score(world_dir, reasons="flagged", as_of=day)
    got = score_spark(spark, read_tables(spark, world_dir), scorer, as_of=day).toPandas()
    _assert_same_scores(got, want)


def test_row_numbers_follow_the_file_order_of_a_parquet_folder(spark, tmp_path):
    """Spark reads large splits first; rows are still numbered in the table's file order."""
    from serving.spark import read_tables

    folder = tmp_path / "data" / "creators.parquet"
    folder.mkdir(parents=True)
    sizes = [3, 40, 7]  # the middle file is the largest
    start = 0
    for i, n in enumerate(sizes):
        ids = [f"c{start + k:03d}" for k in range(n)]
        pd.DataFrame({"creator_id": ids, "followers": np.arange(n) * 10}).to_parquet(
            folder / f"part-{i}.parquet"
        )
        start += n
    got = read_tables(spark, tmp_path / "data")["creators"].toPandas().sort_values("_row")
    assert got["_row"].tolist() == list(range(1, sum(sizes) + 1))
    assert got["creator_id"].tolist() == [f"c{k:03d}" for k in range(sum(sizes))]


def test_fit_equals_the_pandas_path(spark, world_dir, world_tables, scorer):
    from serving.spark import fit_spark, read_tables

    brands = world_tables["brands"]
    brands = pd.concat([brands, brands.iloc[[0]]], ignore_index=True)  # a duplicate brand_id
    want = scorer.fit(world_dir, brands, top=5)
    got = fit_spark(spark, read_tables(spark, world_dir), brands, scorer, top=5).toPandas()
    assert list(got.columns) == list(FIT_COLUMNS)
    assert len(got) == len(want)
    for col in ("brand_id", "creator_id", "status", "error", "reasons", "model_version"):
        assert got[col].tolist() == want[col].tolist(), col
    assert got["fit_rank"].astype("float64").fillna(-1).tolist() == (
        want["fit_rank"].astype("float64").fillna(-1).tolist()
    )
    for col in ("fit_score", "fraud_risk"):
        np.testing.assert_allclose(got[col], want[col].astype("float64"), rtol=0, atol=1e-9)
    assert (got["status"] == "error").sum() >= 1


def test_cli_spark_engine_writes_parquet_in_input_order(spark, world_dir, bundle_dir, tmp_path):
    from typer.testing import CliRunner

    from serving.cli import app
    from serving.predict import Scorer

    out = tmp_path / "scores"
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--engine",
            "spark",
            "--master",
            "local[2]",
            "--data",
            str(world_dir),
            "--out",
            str(out),
            "--model",
            str(bundle_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    parts = sorted(out.glob("part-*.parquet"))
    assert parts
    got = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    _assert_same_scores(got, Scorer.load(bundle_dir).score(world_dir))


def test_cli_spark_engine_refuses_a_file_output(world_dir, bundle_dir, tmp_path):
    from typer.testing import CliRunner

    from serving.cli import app

    result = CliRunner().invoke(
        app,
        ["score", "--engine", "spark", "--data", str(world_dir), "--out", str(tmp_path / "a.csv")],
    )
    assert result.exit_code == 2
    assert "folder" in result.output
