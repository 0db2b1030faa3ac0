"""The command line as a user runs it: simulate, validate and the demo, through Typer's runner."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from serving.cli import app

runner = CliRunner()


def test_simulate_writes_a_world_that_validates(tmp_path):
    out, labels = tmp_path / "world", tmp_path / "labels"
    args = ["simulate", "--creators", "120", "--seed", "5", "--out", str(out)]
    result = runner.invoke(app, [*args, "--labels-out", str(labels), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert (out / "creators.csv").exists() and (labels / "fraud_labels.csv").exists()
    assert len(pd.read_csv(out / "creators.csv")) == 120

    result = runner.invoke(app, ["validate", "--data", str(out)])
    assert result.exit_code == 0, result.output
    assert "120 creators read, 120 scorable, 0 unscorable" in result.output


def test_validate_lists_bad_rows_and_fails(tmp_path):
    out = tmp_path / "world"
    runner.invoke(app, ["simulate", "--creators", "60", "--out", str(out), "--format", "csv"])
    posts = pd.read_csv(out / "posts.csv", dtype=str, keep_default_na=False)
    bad_creator = posts.loc[3, "creator_id"]
    posts.loc[3, "likes"] = "-7"
    posts.to_csv(out / "posts.csv", index=False)

    result = runner.invoke(app, ["validate", "--data", str(out)])
    assert result.exit_code == 1
    assert "59 scorable, 1 unscorable" in result.output
    assert bad_creator in result.output and "likes" in result.output


def test_validate_names_the_missing_table(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["validate", "--data", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "creators" in result.output


def test_simulate_refuses_an_unknown_format(tmp_path):
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "w"), "--format", "xlsx"])
    assert result.exit_code == 2
    assert "parquet, csv or jsonl" in result.output


def test_demo_runs_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    result = runner.invoke(app, ["demo", "--creators", "400", "--out", "demo"])
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(tmp_path / "demo" / "scores.csv", keep_default_na=False)
    creators = pd.read_parquet(tmp_path / "demo" / "data" / "creators.parquet")
    assert list(scores["creator_id"]) == list(creators["creator_id"])
    assert (scores["status"] == "ok").all()
    assert "is now champion" in result.output
    assert "mlflow ui --backend-store-uri" in result.output
