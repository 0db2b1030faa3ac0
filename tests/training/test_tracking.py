"""Train -> log -> register -> load by alias -> score, against a SQLite MLflow store in tmp_path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from models import ArtifactError, Bundle
from training import tracking
from training.config import TrainConfig
from training.tracking import (
    ALIAS,
    MODEL_NAME,
    compare,
    data_digest,
    download_bundle,
    train_and_log,
)

# Raised inside MLflow while it imports (its SQLite store uses SQLAlchemy's deprecated
# ``noload``; its pyfunc module builds a schema from an ``Any`` hint): harmless, not ours.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        "ignore:The ``noload`` loader strategy is deprecated:DeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning"),
]


def quiet(_: str) -> None:
    """Progress lines are not under test here."""


@pytest.fixture(scope="module")
def store(tmp_path_factory, small_world, quick_config):
    """A SQLite store with version 1 of creatorscore trained, logged and made champion."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    data, labels = small_world
    with pytest.MonkeyPatch.context() as mp:
        # MLflow exports the URI it is pointed at; keep that from leaking into other modules.
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.setenv("MLFLOW_REGISTRY_URI", uri)
        mp.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
        mp.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        mp.chdir(root)  # nothing may land in the working folder but through the store
        first = train_and_log(data, labels, quick_config, tracking_uri=uri, echo=quiet)
        yield {"uri": uri, "root": root, "first": first, "client": MlflowClient(uri, uri)}
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)


def test_first_version_becomes_champion_and_scores_any_slice(store, small_world):
    first = store["first"]
    assert first.version == "1" and first.decision.promote
    assert "no champion yet" in first.decision.reason
    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{ALIAS}")  # pickle is disallowed
    frame = first.result.features.reset_index()
    rows = frame.iloc[[5, 1, 3]]
    # Columns selected by name: reversed order and an extra column change nothing.
    shuffled = rows[rows.columns[::-1]].assign(unrelated=1.0)
    out = model.predict(shuffled)
    assert list(out.columns) == ["creator_id", "fraud_risk", "risk_band", "model_version"]
    assert out["creator_id"].tolist() == rows["creator_id"].tolist()
    expected = first.result.bundle.fraud_model.predict_proba(rows)
    np.testing.assert_allclose(out["fraud_risk"].to_numpy(), expected, rtol=0, atol=1e-12)
    assert set(out["model_version"]) == {first.result.bundle.version}


def test_run_logs_config_data_metrics_plots_and_model(store):
    first = store["first"]
    client = store["client"]
    run = client.get_run(first.run_id)
    assert run.data.params["seed"] == "0"
    assert run.data.params["fraud_params.learning_rate"] == "0.15"
    assert run.data.params["data.creators_scorable"] == "400"
    for key in ("fraud_roc_auc", "fraud_ece", "fraud_recall_at_5pct_fpr", "fit_ndcg_at_10"):
        assert run.data.metrics[key] == pytest.approx(first.result.metrics[key])
    assert any(
        k.startswith("fraud_drip_") or k.startswith("fraud_burst_") for k in run.data.metrics
    )
    assert run.data.tags["champion_decision"].startswith("version 1 is now champion")
    names = {a.path for a in client.list_artifacts(first.run_id, "plots")}
    for plot in ("roc", "pr", "calibration", "shap_summary", "importance"):
        assert f"plots/fraud_{plot}.png" in names
    config = json.loads(
        Path(mlflow.artifacts.download_artifacts(f"runs:/{first.run_id}/config.json")).read_text()
    )
    assert TrainConfig.from_dict(config) == first.result.config


@pytest.mark.parametrize("uri", ["runs", "version", "alias"])
def test_download_bundle_finds_the_verified_bundle(store, uri, tmp_path):
    first = store["first"]
    model_uri = {
        "runs": f"runs:/{first.run_id}/model",
        "version": f"models:/{MODEL_NAME}/1",
        "alias": f"models:/{MODEL_NAME}@{ALIAS}",
    }[uri]
    folder = download_bundle(model_uri, tmp_path / "dl")
    assert folder.name == "bundle" and folder.parent.name == "artifacts"
    assert Bundle.load(folder).version == first.result.bundle.version


def test_a_tampered_artifact_is_refused(store, tmp_path):
    local = download_bundle(f"models:/{MODEL_NAME}/1", tmp_path / "dl").parent.parent
    copy = shutil.copytree(local, tmp_path / "tampered")
    booster = copy / "artifacts" / "bundle" / "fraud" / "booster.txt"
    booster.write_text(booster.read_text().replace("shrinkage=", "shrinkage=9", 1))
    with pytest.raises(ArtifactError, match="booster.txt"):
        mlflow.pyfunc.load_model(str(copy))


def test_worse_model_keeps_the_alias_and_promote_forces_it(store, small_world, quick_config):
    data, labels = small_world
    client = store["client"]
    # Two-leaf trees stopped after a single round cannot match the champion.
    weak = quick_config.with_params("fraud", num_leaves=2).with_params("fit", num_leaves=2)
    weak = TrainConfig.from_dict({**weak.to_dict(), "max_rounds": 1, "fit_max_rounds": 1})
    worse = train_and_log(data, labels, weak, tracking_uri=store["uri"], echo=quiet)
    assert not worse.decision.promote
    assert "worse than the champion" in worse.decision.reason
    assert str(client.get_model_version_by_alias(MODEL_NAME, ALIAS).version) == "1"
    assert client.get_run(worse.run_id).data.tags["promoted"] == "false"
    # The champion was scored on the new run's validation creators: its own figures come back.
    assert worse.decision.champion["fraud_roc_auc"] == pytest.approx(
        store["first"].result.metrics["fraud_roc_auc"]
    )

    forced = train_and_log(data, labels, weak, promote=True, tracking_uri=store["uri"], echo=quiet)
    assert forced.decision.promote and "--promote" in forced.decision.reason
    assert str(client.get_model_version_by_alias(MODEL_NAME, ALIAS).version) == forced.version
    assert "--promote" in client.get_run(forced.run_id).data.tags["champion_decision"]


def test_compare_promotes_ties_and_needs_every_metric_the_champion_has():
    champion = {"fraud_roc_auc": 0.9, "fit_ndcg_at_10": 0.8}
    assert compare({"fraud_roc_auc": 0.9, "fit_ndcg_at_10": 0.8}, champion)[0]
    ok, why = compare({"fraud_roc_auc": 0.95, "fit_ndcg_at_10": 0.79}, champion)
    assert not ok and "fit_ndcg_at_10 0.7900 < 0.8000" in why
    assert not compare({"fraud_roc_auc": 0.95}, champion)[0]  # lost its fit model
    assert compare({"fraud_roc_auc": 0.9, "fit_ndcg_at_10": 0.1}, {"fraud_roc_auc": 0.9})[0]


def test_data_digest_changes_with_any_byte(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "creators.csv").write_text("creator_id,followers\na,10\n")
    (tmp_path / "d" / "notes.txt").write_text("not a table")
    first = data_digest([tmp_path / "d"])
    assert first["files"] == "1"
    assert data_digest([tmp_path / "d"]) == first
    (tmp_path / "d" / "creators.csv").write_text("creator_id,followers\na,11\n")
    assert data_digest([tmp_path / "d"])["digest"] != first["digest"]


def test_default_store_is_sqlite_in_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert tracking.resolve_tracking_uri() == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5999")
    assert tracking.resolve_tracking_uri() == "http://127.0.0.1:5999"


def test_tuning_logs_one_nested_run_per_trial(store, small_world, quick_config):
    from training.pipeline import prepare
    from training.tune import SEARCH_SPACE, tune

    data, labels = small_world
    prep = prepare(data, labels, quick_config)
    with mlflow.start_run(experiment_id=tracking.ensure_experiment(uri=store["uri"])) as parent:
        best = tune(prep, 2, echo=quiet)
    assert set(best) == set(SEARCH_SPACE)
    children = store["client"].search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert len(children) == 2
    assert all("oof_fraud_roc_auc_raw" in c.data.metrics for c in children)
    # Seeded sampler: the same trials again.
    assert tune(prep, 2, echo=quiet) == best
