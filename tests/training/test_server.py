"""The same round trip against a real ``mlflow server`` process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from models import Bundle
from training.tracking import ALIAS, MODEL_NAME, download_bundle, train_and_log

pytestmark = [
    pytest.mark.slow,
    # Raised inside MLflow while it imports; harmless, not ours (see test_tracking.py).
    pytest.mark.filterwarnings(
        "ignore:The ``noload`` loader strategy is deprecated:DeprecationWarning"
    ),
    pytest.mark.filterwarnings("ignore:.*Any type hint is inferred as AnyType:UserWarning"),
]

START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``mlflow server`` with a SQLite backend and proxied artifacts, stopped after the module."""
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{root / 'srv.db'}",
            "--artifacts-destination",
            str(root / "art"),
        ],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so its workers stop with it
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"mlflow server exited: {(root / 'server.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server not healthy after {START_TIMEOUT_S} s")
            time.sleep(0.5)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("MLFLOW_TRACKING_URI", uri)
            mp.setenv("MLFLOW_REGISTRY_URI", uri)
            mp.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
            mp.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
            mp.chdir(root)
            yield uri
            mlflow.set_tracking_uri(None)
            mlflow.set_registry_uri(None)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_train_register_load_and_score_through_a_server(server, small_world, quick_config):
    data, labels = small_world
    run = train_and_log(data, labels, quick_config, tracking_uri=server, echo=lambda _: None)
    client = MlflowClient(server, server)
    assert str(client.get_model_version_by_alias(MODEL_NAME, ALIAS).version) == run.version
    assert client.get_run(run.run_id).data.metrics["fraud_roc_auc"] == pytest.approx(
        run.result.metrics["fraud_roc_auc"]
    )

    model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{ALIAS}")
    rows = run.result.features.reset_index().iloc[10:14]
    out = model.predict(rows)
    np.testing.assert_allclose(
        out["fraud_risk"].to_numpy(),
        run.result.bundle.fraud_model.predict_proba(rows),
        rtol=0,
        atol=1e-12,
    )
    bundle = Bundle.load(download_bundle(f"models:/{MODEL_NAME}@{ALIAS}"))
    assert bundle.version == run.result.bundle.version == out["model_version"].iloc[0]
