"""Explain: confidence columns, the audience question apart from buying, evidence rows, exports.

The bundle here is trained with the training pipeline (``fit_bundle``), whose fraud model leaves
the audience family out, so the two questions can be checked apart.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import typer
from pandas.testing import assert_frame_equal
from typer.testing import CliRunner

from features.evidence import EVIDENCE_COLUMNS
from features.schema import SCORE_COLUMNS, SCORE_EXTRA_COLUMNS


@pytest.fixture(scope="module")
def pipeline_scorer(tmp_path_factory):
    from features.dataset import load, load_labels
    from serving.predict import Scorer
    from training.config import TrainConfig
    from training.pipeline import fit_bundle
    from training.simulate import simulate

    world = simulate(400, seed=3)
    labels, _ = load_labels(world.labels)
    result = fit_bundle(load(world.tables), labels, TrainConfig.quick())
    folder = tmp_path_factory.mktemp("explain") / "bundle"
    result.bundle.save(folder)
    return Scorer.load(folder)


@pytest.fixture(scope="module")
def scoring_world():
    """A different simulated world: tables and labels."""
    from training.simulate import simulate

    return simulate(150, seed=17)


def test_extra_columns_are_opt_in_and_deterministic(pipeline_scorer, scoring_world):
    tables = scoring_world.tables
    plain = pipeline_scorer.score(tables)
    assert list(plain.columns) == list(SCORE_COLUMNS)
    full = pipeline_scorer.score(tables, extra=True)
    assert list(full.columns) == [*SCORE_COLUMNS, *SCORE_EXTRA_COLUMNS]
    assert_frame_equal(full[list(SCORE_COLUMNS)], plain)
    assert_frame_equal(pipeline_scorer.score(tables, extra=True), full)
    ok = full["audience_fake_share"].notna()
    assert ok.mean() > 0.8
    assert (full.loc[ok, "audience_fake_share_low"] <= full.loc[ok, "audience_fake_share"]).all()
    assert (full.loc[ok, "audience_fake_share"] <= full.loc[ok, "audience_fake_share_high"]).all()
    assert full.loc[~ok, ["audience_fake_share_low", "audience_fake_share_high"]].isna().all().all()
    assert set(full["fraud_confidence"]) <= {"high", "medium", "low"}
    counts = full["evidence"].map(json.loads)
    assert set(counts.iloc[0]) == {
        "history_days",
        "history_points",
        "posts",
        "comments",
        "audience_sampled",
    }
    no_history = ~tables["creators"]["creator_id"].isin(tables["follower_history"]["creator_id"])
    assert (counts[no_history.to_numpy()].map(lambda c: c["history_days"]) == 0).all()
    assert (full.loc[no_history.to_numpy(), "fraud_confidence"] != "high").all()


def test_honest_bot_heavy_creators_get_a_low_risk_but_a_bad_audience(
    pipeline_scorer, scoring_world
):
    scores = pipeline_scorer.score(scoring_world.tables, extra=True).set_index("creator_id")
    truth = scoring_world.labels["audience_truth"].set_index("creator_id")["fake_share"]
    bought = scoring_world.labels["fraud_labels"].set_index("creator_id")["bought_followers"]
    honest_bots = scores.index[
        (~bought.reindex(scores.index).astype(bool)) & (truth.reindex(scores.index) >= 0.4)
    ]
    honest_bots = honest_bots[scores.loc[honest_bots, "audience_fake_share"].notna()]
    assert len(honest_bots) >= 15
    rows = scores.loc[honest_bots]
    assert (rows["low_quality_audience"] == "high").mean() >= 0.8
    assert (rows["risk_band"] == "low").mean() >= 0.9
    assert rows["audience_reasons"].map(json.loads).map(len).min() >= 2


def test_a_bot_heavy_audience_alone_does_not_move_fraud_risk(pipeline_scorer, scoring_world):
    """World case: an honest creator keeps every table but its audience becomes mostly bots."""
    tables = {k: v.copy() for k, v in scoring_world.tables.items()}
    labels = scoring_world.labels
    truth = labels["audience_truth"].set_index("creator_id")["fake_share"]
    honest = labels["fraud_labels"].loc[~labels["fraud_labels"]["bought_followers"], "creator_id"]
    sampled = set(tables["audience_sample"]["creator_id"])
    cid = next(c for c in honest if truth[c] < 0.1 and c in sampled)
    before = pipeline_scorer.score(tables, extra=True).set_index("creator_id").loc[cid]
    accounts = labels["account_labels"]
    bots = accounts[accounts["is_fake"] & (accounts["creator_id"] != cid)].head(80)
    real = accounts[~accounts["is_fake"] & (accounts["creator_id"] == cid)].head(20)
    new = pd.concat([bots, real], ignore_index=True)
    new = new.assign(creator_id=cid, follower_id=[f"x{i}" for i in range(len(new))])
    audience = tables["audience_sample"]
    tables["audience_sample"] = pd.concat(
        [audience[audience["creator_id"] != cid], new[list(audience.columns)]], ignore_index=True
    )
    after = pipeline_scorer.score(tables, extra=True).set_index("creator_id").loc[cid]
    assert before["low_quality_audience"] == "low"
    assert after["low_quality_audience"] == "high"
    assert after["audience_fake_share_low"] > 0.5
    assert after["fraud_risk"] == before["fraud_risk"]
    assert after["risk_band"] == "low"


def _burst_creator(world) -> tuple[str, pd.Timestamp]:
    """A burst buyer whose history observed the purchase day and the day before."""
    history = world.tables["follower_history"]
    seen = set(zip(history["creator_id"], history["date"], strict=True))
    events = world.labels["fraud_events"]
    bursts = events[events["kind"] == "burst"]
    for c, d in zip(bursts["creator_id"], bursts["start_date"], strict=True):
        if (c, d) in seen and (c, d - pd.Timedelta(days=1)) in seen:
            return c, d
    raise AssertionError("no observed burst in the scoring world")


def test_explain_points_at_the_purchase_date_and_pod_posts(pipeline_scorer, scoring_world):
    cid, day = _burst_creator(scoring_world)
    scores, evidence = pipeline_scorer.explain(scoring_world.tables, [cid])
    assert scores["creator_id"].tolist() == [cid]
    assert list(evidence.columns) == list(EVIDENCE_COLUMNS)
    assert set(evidence["creator_id"]) == {cid}
    jumps = evidence[evidence["kind"] == "follower_jump"]
    assert ((jumps["date"] <= day) & (jumps["end_date"] >= day)).any()
    assert json.loads(scores["reasons"].iloc[0])  # reasons for every explained creator

    events = scoring_world.labels["fraud_events"]
    pods = events[events["kind"] == "pod"]
    commented = pods[pods["post_id"].isin(scoring_world.tables["comments"]["post_id"])]
    pod_creator = commented["creator_id"].value_counts().index[0]
    _, rows = pipeline_scorer.explain(scoring_world.tables, [pod_creator])
    found = rows.loc[rows["kind"] == "pod_post", "post_id"]
    assert len(found) >= 1 and found.isin(set(pods["post_id"])).all()


def test_explain_refuses_unknown_creators(pipeline_scorer, scoring_world):
    with pytest.raises(KeyError, match="nobody"):
        pipeline_scorer.explain(scoring_world.tables, ["nobody"])


class _Client:
    """Calls an ASGI app in-process (no server, no port)."""

    def __init__(self, app) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.request(method, url, **kwargs)

        return asyncio.run(go())

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture(scope="module")
def world_folder(tmp_path_factory, scoring_world) -> Path:
    from training.simulate import write_world

    root = tmp_path_factory.mktemp("explain-world")
    write_world(scoring_world, root / "in", root / "labels", fmt="parquet")
    return root / "in"


def test_api_explain_post_and_get(pipeline_scorer, scoring_world, world_folder, request_body):
    from serving.api import Settings, create_app

    cid, day = _burst_creator(scoring_world)
    client = _Client(create_app(pipeline_scorer, Settings()))
    body = request_body(scoring_world.tables, [cid]) | {"creator_id": cid, "top": 5}
    r = client.post("/v1/explain", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    row = got["creators"][0]
    assert row["creator_id"] == cid and set(SCORE_EXTRA_COLUMNS) <= set(row)
    assert set(row["evidence"]) >= {"history_days", "posts"}
    jumps = [e for e in got["evidence"] if e["kind"] == "follower_jump"]
    stamp = day.strftime("%Y-%m-%d")
    assert any(e["date"] <= stamp <= e["end_date"] for e in jumps)
    assert sum(e["kind"] == "fake_follower" for e in got["evidence"]) <= 5
    missing = client.post("/v1/explain", json=body | {"creator_id": "nobody"})
    assert missing.status_code == 404
    # GET needs a dataset the service was started with.
    assert client.get(f"/v1/explain/{cid}").status_code == 404
    stored = _Client(create_app(pipeline_scorer, Settings(data_dir=world_folder)))
    r2 = stored.get(f"/v1/explain/{cid}", params={"top": 5})
    assert r2.status_code == 200, r2.text
    assert r2.json()["evidence"] == got["evidence"]
    assert stored.get("/v1/explain/nobody").status_code == 404


def test_cli_explain_exports_csv_and_json(pipeline_scorer, scoring_world, world_folder, tmp_path):
    from serving.commands import explain_command

    app = typer.Typer()
    app.command("explain")(explain_command)
    app.command("noop")(lambda: None)  # two commands keep "explain" as a sub-command name
    cid, _ = _burst_creator(scoring_world)
    model = str(pipeline_scorer.folder)
    runner = CliRunner()
    args = ["explain", "--data", str(world_folder), "--creator", cid, "--model", model]
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "ev.csv")])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "ev.csv")
    assert list(csv.columns) == list(EVIDENCE_COLUMNS)
    assert (csv["creator_id"] == cid).all() and (csv["kind"] == "follower_jump").any()
    res = runner.invoke(app, [*args, "--out", str(tmp_path / "ev.json")])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "ev.json").read_text())
    assert doc["creators"][0]["creator_id"] == cid and len(doc["evidence"]) == len(csv)
    bad = runner.invoke(app, [*args, "--out", str(tmp_path / "ev.txt")])
    assert bad.exit_code == 2


def test_report_shows_evidence_and_the_audience_apart(pipeline_scorer, scoring_world):
    from serving.report import render_report

    cid, day = _burst_creator(scoring_world)
    tables = {
        k: v[v["creator_id"] == cid] for k, v in scoring_world.tables.items() if k != "brands"
    }
    page = render_report(tables, cid, pipeline_scorer)
    assert "Low-quality audience" in page and "confidence" in page
    assert "<h2>Evidence</h2>" in page and "follower jump" in page
    window = pd.date_range(day - pd.Timedelta(days=3), day).strftime("%Y-%m-%d")
    assert any(d in page for d in window)
    assert np.isfinite(pipeline_scorer.score(tables, extra=True)["fraud_risk"]).all()


def test_interval_matches_the_audience_estimate_it_rests_on(pipeline_scorer, scoring_world):
    """The score's interval equals one computed from the audience estimate and its error."""
    from features.audience import fake_share_table
    from features.dataset import load
    from models.confidence import account_rate_counts, likelihood_share_interval

    data = load(scoring_world.tables)
    model = pipeline_scorer.bundle.account_model
    table = fake_share_table(data.audience_sample, data.creators, model)
    table = table[table["n"] > 0]
    want = likelihood_share_interval(
        table["fake_share"],
        table["fake_share_se"],
        model.tpr,
        model.fpr,
        *account_rate_counts(model.metrics_),
        level=0.9,
    )
    got = pipeline_scorer.score(data, extra=True).set_index("creator_id").loc[want.index]
    assert len(want) > 20
    assert got["audience_fake_share"].to_numpy() == pytest.approx(want["fake_share"].to_numpy())
    assert got["audience_fake_share_low"].to_numpy() == pytest.approx(want["low"].to_numpy())
    assert got["audience_fake_share_high"].to_numpy() == pytest.approx(want["high"].to_numpy())
    # A share estimated at 0 keeps an upper bound above it: the sample cannot prove no fakes.
    zero = want["fake_share"].to_numpy() == 0
    assert zero.any()
    assert (got["audience_fake_share_high"].to_numpy()[zero] > 0).all()
