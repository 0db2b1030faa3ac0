"""MLflow tracking for training: where runs go, what each run logs, and who becomes champion.

- **Store.** ``MLFLOW_TRACKING_URI`` when set (a real tracking server works), else
  ``sqlite:///mlflow.db`` in the working folder: MLflow 3 no longer accepts a bare ``./mlruns``
  folder as a store. New experiments in a SQLite store keep their artifacts next to the
  database (``mlartifacts/``), not in whatever folder the process happens to run from.
- **Each run logs** the whole :class:`~training.config.TrainConfig` (params and
  ``config.json``), a SHA-256 digest and the size of the training data, the validation and
  out-of-fold metrics of :func:`training.pipeline.fit_bundle`, plots, and the bundle as one
  "models from code" pyfunc (``serving/pyfunc.py``) whose artifact ``"bundle"`` is the bundle
  folder, with a signature and an input example. Nothing in it is pickled.
- **Registry.** Every run registers a new version of ``creatorscore``. The alias ``champion``
  moves to it only when its validation fraud ROC-AUC and fit NDCG@10 are at least the current
  champion's *on this run's validation creators and brands* (the champion's bundle is
  downloaded and scored on them), when there is no champion, or when promotion is forced.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import unquote, urlparse

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from features.dataset import EXTENSIONS, CreatorData
from models.bundle import MANIFEST, Bundle
from training.config import TrainConfig
from training.pipeline import TrainResult, evaluate_bundle

__all__ = [
    "DEFAULT_TRACKING_URI",
    "MODEL_NAME",
    "ALIAS",
    "EXPERIMENT",
    "COMPARED_METRICS",
    "Decision",
    "resolve_tracking_uri",
    "configure",
    "ensure_experiment",
    "data_digest",
    "log_result",
    "log_bundle_model",
    "compare",
    "decide_champion",
    "apply_decision",
    "download_bundle",
    "TrackedRun",
    "train_and_log",
]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MODEL_NAME = "creatorscore"
ALIAS = "champion"
EXPERIMENT = "creatorscore"
#: Validation metrics compared with the champion, in order of importance (higher is better).
COMPARED_METRICS = ("fraud_roc_auc", "fit_ndcg_at_10")
# Floating-point noise must not decide a tie between equal models.
_TOLERANCE = 1e-12


def resolve_tracking_uri(uri: str | None = None) -> str:
    """``uri`` if given, else ``MLFLOW_TRACKING_URI``, else ``sqlite:///<cwd>/mlflow.db``."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or ""
    if not uri:
        return f"sqlite:///{Path.cwd().resolve() / 'mlflow.db'}"
    return uri


def configure(uri: str | None = None) -> str:
    """Point MLflow's tracking and registry at :func:`resolve_tracking_uri`; return the URI."""
    resolved = resolve_tracking_uri(uri)
    mlflow.set_tracking_uri(resolved)
    mlflow.set_registry_uri(resolved)
    return resolved


def _sqlite_path(uri: str) -> Path | None:
    if not uri.startswith("sqlite:"):
        return None
    return Path(unquote(urlparse(uri).path)).resolve()


def ensure_experiment(name: str = EXPERIMENT, uri: str | None = None) -> str:
    """Id of experiment ``name``, created if needed (SQLite: artifacts next to the database)."""
    uri = resolve_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    db = _sqlite_path(uri)
    location = (db.parent / "mlartifacts").as_uri() if db is not None else None
    return client.create_experiment(name, artifact_location=location)


# --------------------------------------------------------------------------------------------
# What a run logs


def _table_files(folder: Path) -> list[Path]:
    """Table files of a dataset folder (a Parquet dataset may be a folder of parts)."""
    files: list[Path] = []
    for path in sorted(folder.iterdir()):
        if path.name.partition(".")[2] not in EXTENSIONS:
            continue
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files


def data_digest(folders: Sequence[str | Path]) -> dict[str, str]:
    """SHA-256 over the table files of ``folders`` (names and bytes, in sorted order) and sizes.

    Returns ``{"digest": hex, "files": n, "bytes": n}``; equal digests mean byte-identical
    training data.
    """
    h = hashlib.sha256()
    n_files = n_bytes = 0
    for folder in folders:
        root = Path(folder)
        for path in _table_files(root):
            rel = path.relative_to(root).as_posix()
            h.update(f"{root.name}/{rel}\0".encode())
            with path.open("rb") as fh:
                for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                    h.update(block)
                    n_bytes += len(block)
            h.update(b"\0")
            n_files += 1
    return {"digest": h.hexdigest(), "files": str(n_files), "bytes": str(n_bytes)}


def _flat(prefix: str, values: Mapping) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in values.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out |= _flat(f"{key}.", v)
        else:
            out[key] = json.dumps(v) if isinstance(v, list | tuple) else str(v)
    return out


def data_sizes(data: CreatorData, labels: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Rows per table given (inputs and labels), and the scorable creators."""
    out = {"creators_scorable": len(data.creators), "creators_unscorable": len(data.unscorable)}
    for table in ("follower_history", "posts", "comments", "audience_sample", "brands"):
        frame = getattr(data, table)
        if frame is not None:
            out[f"{table}_rows"] = len(frame)
    for table, frame in labels.items():
        out[f"{table}_rows"] = len(frame)
    return out


def _finite(metrics: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}


def log_result(
    result: TrainResult,
    data: CreatorData,
    labels: Mapping[str, pd.DataFrame],
    data_dirs: Sequence[str | Path] = (),
) -> None:
    """Log config, data digest and sizes, metrics, timings and plots to the active run."""
    from training import plots

    config = result.config
    mlflow.log_params(_flat("", config.to_dict()))
    mlflow.log_dict(config.to_dict(), "config.json")
    sizes = data_sizes(data, labels)
    mlflow.log_params({f"data.{k}": v for k, v in sizes.items()})
    if data_dirs:
        digest = data_digest(data_dirs)
        mlflow.log_params({f"data.{k}": v for k, v in digest.items()})
        mlflow.set_tag("data_digest", digest["digest"])
    mlflow.log_metrics(_finite(result.metrics))
    mlflow.log_metrics({f"time_{k}_s": v for k, v in result.timings.items()})
    if result.notes:
        mlflow.set_tag("notes", " | ".join(result.notes))
    mlflow.log_dict(
        {"valid_creators": result.valid_creators, "valid_brands": result.valid_brands},
        "validation_split.json",
    )
    with tempfile.TemporaryDirectory() as tmp:
        plots.save_plots(result, Path(tmp))
        mlflow.log_artifacts(tmp, "plots")


def _pyfunc_script() -> str:
    spec = find_spec("serving.pyfunc")
    if spec is None or spec.origin is None:
        raise RuntimeError("serving/pyfunc.py not found; is creatorscore installed?")
    return spec.origin


def _requirements() -> list[str]:
    out = []
    for dist in ("mlflow", "lightgbm", "scikit-learn", "numpy", "pandas", "scipy", "creatorscore"):
        try:
            out.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return out


def input_example(result: TrainResult, n: int = 5) -> pd.DataFrame:
    """A few validation rows of the feature frame with ``creator_id`` first, as the pyfunc
    takes them (rows whose features are all known where possible, so the example is typical)."""
    frame = result.features.loc[result.valid_creators]
    full = frame.dropna()
    rows = (full if len(full) >= n else frame).head(n)
    return rows.reset_index().astype({"creator_id": str})


def log_bundle_model(result: TrainResult, register: bool = True) -> mlflow.models.model.ModelInfo:
    """Save the bundle, log it as the pyfunc ``model`` of the active run, register it."""
    from serving.predict import risk_band

    example = input_example(result)
    risk = result.bundle.fraud_model.predict_proba(example)
    output = pd.DataFrame(
        {
            "creator_id": example["creator_id"].to_numpy(dtype=object),
            "fraud_risk": risk,
            "risk_band": risk_band(risk).astype(str),
            "model_version": "0" * 16,  # the content hash, known once the bundle is saved
        }
    )
    signature = infer_signature(example, output)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bundle"
        result.bundle.save(folder)
        mlflow.log_dict(
            {
                "bundle_version": result.bundle.version,
                "versions": result.bundle.versions,
                "sha256": result.bundle.checksums,
                "feature_schema": result.bundle.feature_schema,
            },
            "bundle_manifest.json",
        )
        mlflow.set_tag("bundle_version", result.bundle.version)
        return mlflow.pyfunc.log_model(
            name="model",
            python_model=_pyfunc_script(),
            artifacts={"bundle": str(folder)},
            signature=signature,
            input_example=example,
            pip_requirements=_requirements(),
            registered_model_name=MODEL_NAME if register else None,
        )


# --------------------------------------------------------------------------------------------
# Champion


@dataclass(frozen=True)
class Decision:
    """Whether the new version takes the alias, and why."""

    promote: bool
    reason: str
    new: dict[str, float]
    champion: dict[str, float] | None = None
    champion_version: str | None = None

    def message(self, version: str | int) -> str:
        """One line for the console."""
        verb = f"version {version} is now {ALIAS}" if self.promote else f"{ALIAS} unchanged"
        return f"{verb}: {self.reason}"


def _fmt(metrics: Mapping[str, float], keys: Sequence[str]) -> str:
    return ", ".join(f"{k} {metrics[k]:.4f}" for k in keys if k in metrics)


def compare(new: Mapping[str, float], champion: Mapping[str, float]) -> tuple[bool, str]:
    """``(new is at least as good on every compared metric the champion has, explanation)``."""
    worse, checked = [], []
    for key in COMPARED_METRICS:
        old = champion.get(key)
        if old is None or not math.isfinite(old):
            continue
        mine = new.get(key, float("nan"))
        checked.append(key)
        if not (math.isfinite(mine) and mine >= old - _TOLERANCE):
            worse.append(f"{key} {mine:.4f} < {old:.4f}")
    if worse:
        return False, "worse than the champion on the same validation data: " + "; ".join(worse)
    both = ", ".join(f"{k} {new.get(k, float('nan')):.4f} >= {champion[k]:.4f}" for k in checked)
    return True, f"at least as good as the champion on the same validation data: {both}"


def decide_champion(
    client: MlflowClient,
    result: TrainResult,
    data: CreatorData,
    labels: Mapping[str, pd.DataFrame],
    promote: bool = False,
) -> Decision:
    """Compare the new bundle with the current champion on this run's validation data."""
    new = {k: result.metrics[k] for k in COMPARED_METRICS if k in result.metrics}
    try:
        current = client.get_model_version_by_alias(MODEL_NAME, ALIAS)
    except MlflowException:
        current = None
    if current is None:
        return Decision(True, f"no {ALIAS} yet ({_fmt(new, COMPARED_METRICS)})", new)
    try:
        champion = Bundle.load(download_bundle(f"models:/{MODEL_NAME}@{ALIAS}"))
        old, _, _ = evaluate_bundle(
            champion, data, labels, result.valid_creators, result.valid_brands
        )
    except Exception as exc:  # an unreadable champion must not block every later model
        if promote:
            return Decision(True, "--promote given", new, None, current.version)
        reason = f"{ALIAS} version {current.version} could not be evaluated ({exc}); replacing it"
        return Decision(True, reason, new, None, current.version)
    old = {k: old[k] for k in COMPARED_METRICS if k in old}
    better, why = compare(new, old)
    if promote and not better:
        return Decision(True, f"--promote given, although {why}", new, old, current.version)
    return Decision(better, f"{why} (version {current.version})", new, old, current.version)


def apply_decision(
    client: MlflowClient, decision: Decision, version: str | int, run_id: str | None = None
) -> None:
    """Move the alias if promoted; record the decision on the run and the model version."""
    if decision.promote:
        client.set_registered_model_alias(MODEL_NAME, ALIAS, str(version))
    text = decision.message(version)
    client.set_model_version_tag(MODEL_NAME, str(version), "champion_decision", text)
    for key, value in decision.new.items():
        client.set_model_version_tag(MODEL_NAME, str(version), f"valid_{key}", f"{value:.6f}")
    if run_id is not None:
        client.set_tag(run_id, "champion_decision", text)
        client.set_tag(run_id, "promoted", str(decision.promote).lower())
        if decision.champion is not None:
            for key, value in decision.champion.items():
                client.log_metric(run_id, f"champion_{key}", value)


# --------------------------------------------------------------------------------------------
# Getting a bundle back


def download_bundle(model_uri: str, dst_path: str | Path | None = None) -> Path:
    """Local folder of the bundle inside an MLflow model.

    Parameters
    ----------
    model_uri : ``models:/creatorscore@champion``, ``models:/creatorscore/3``,
        ``runs:/<run id>/model`` or ``models:/<model id>``.
    dst_path : where to download; default a new temporary folder (a local store may return
        its own folder directly: treat the result as read-only).

    Returns
    -------
    The folder holding ``manifest.json`` (``<model dir>/artifacts/bundle``); verify it with
    :meth:`models.Bundle.load`.
    """
    dst = None if dst_path is None else str(dst_path)
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=dst))
    for candidate in (local / "artifacts" / "bundle", local / "bundle", local):
        if (candidate / MANIFEST).is_file():
            return candidate
    raise FileNotFoundError(f"{model_uri}: no bundle ({MANIFEST}) in the downloaded model {local}")


def metrics_summary(metrics: Mapping[str, float], keys: Sequence[str]) -> str:
    """``key value`` pairs of the finite metrics among ``keys``, for printing."""
    return ", ".join(
        f"{k} {metrics[k]:.4f}" for k in keys if k in metrics and np.isfinite(metrics[k])
    )


# --------------------------------------------------------------------------------------------
# One tracked training run


@dataclass
class TrackedRun:
    """What :func:`train_and_log` did: the run, the registered version and the decision."""

    run_id: str
    version: str
    model_uri: str
    decision: Decision
    result: TrainResult
    tracking_uri: str


def train_and_log(
    data: CreatorData,
    labels: Mapping[str, pd.DataFrame],
    config: TrainConfig | None = None,
    *,
    data_dirs: Sequence[str | Path] = (),
    tune_trials: int = 0,
    promote: bool = False,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    run_name: str | None = None,
    echo: Callable[[str], None] = print,
) -> TrackedRun:
    """Train (optionally tune first), log everything, register, and decide the champion.

    Parameters
    ----------
    data, labels : loaded contract tables and label tables.
    config : training settings (default ``TrainConfig()``).
    data_dirs : the folders the tables came from, for the data digest.
    tune_trials : Optuna trials for the fraud model before the final fit (0 = none).
    promote : move the alias to the new version whatever the comparison says.
    tracking_uri : overrides ``MLFLOW_TRACKING_URI`` and the SQLite default.
    experiment, run_name : MLflow experiment and run names.
    echo : where progress lines go.
    """
    from training.pipeline import fit_prepared, prepare

    config = config or TrainConfig()
    uri = configure(tracking_uri)
    experiment_id = ensure_experiment(experiment, uri)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        run_id = run.info.run_id
        echo(f"run {run_id} in experiment {experiment!r} at {uri}")
        prep = prepare(data, labels, config)
        if tune_trials > 0:
            from training.tune import tune

            best = tune(prep, tune_trials, config, echo=echo)
            config = config.with_params("fraud", **best)
            echo(f"best of {tune_trials} trials: {best}")
        result = fit_prepared(prep, config)
        echo(
            "validation: "
            + metrics_summary(
                result.metrics,
                (
                    "fraud_roc_auc",
                    "fraud_pr_auc",
                    "fraud_ece",
                    "fraud_recall_at_5pct_fpr",
                    "fit_ndcg_at_10",
                ),
            )
        )
        log_result(result, data, labels, data_dirs)
        info = log_bundle_model(result)
        version = str(info.registered_model_version)
        decision = decide_champion(client, result, data, labels, promote=promote)
        apply_decision(client, decision, version, run_id)
    echo(f"registered {MODEL_NAME} version {version}")
    echo(decision.message(version))
    return TrackedRun(
        run_id=run_id,
        version=version,
        model_uri=f"models:/{MODEL_NAME}/{version}",
        decision=decision,
        result=result,
        tracking_uri=uri,
    )
