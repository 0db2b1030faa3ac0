"""Hyper-parameter search for the fraud model with Optuna, one nested MLflow run per trial.

Trials score the fraud model's out-of-fold ROC-AUC on the *training* creators (grouped folds,
raw scores), never the validation creators: those stay untouched for the final metrics and the
champion comparison. Features are built once (:func:`training.pipeline.prepare`) and shared by
every trial. The TPE sampler is seeded from ``TrainConfig.seed``, so the same data, seed and
trial count give the same trials.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mlflow
import optuna

from models import metrics as M
from training.config import TrainConfig
from training.pipeline import Prepared, fit_fraud

__all__ = ["SEARCH_SPACE", "suggest", "tune"]

#: name -> (low, high, log scale); integers for the integer parameters. ``max_depth`` stays at
#: its default because SHAP reasons slow down sharply with deeper trees.
SEARCH_SPACE: dict[str, tuple[float, float, bool]] = {
    "learning_rate": (0.02, 0.2, True),
    "num_leaves": (7, 31, False),
    "min_data_in_leaf": (5, 60, False),
    "feature_fraction": (0.5, 1.0, False),
    "bagging_fraction": (0.5, 1.0, False),
    "lambda_l2": (1e-3, 10.0, True),
}
_INTEGER = ("num_leaves", "min_data_in_leaf")


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    """LightGBM parameters for one trial from :data:`SEARCH_SPACE`."""
    out: dict[str, Any] = {}
    for name, (lo, hi, log) in SEARCH_SPACE.items():
        if name in _INTEGER:
            out[name] = trial.suggest_int(name, int(lo), int(hi), log=log)
        else:
            out[name] = trial.suggest_float(name, lo, hi, log=log)
    return out


def tune(
    prep: Prepared,
    n_trials: int,
    config: TrainConfig | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run ``n_trials`` trials; return the best fraud-model parameters.

    Each trial is a nested MLflow run (under the active run, when there is one) logging its
    parameters and out-of-fold metrics; the parent run gets ``tune_best_oof_roc_auc``.
    """
    config = config or prep.config
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=config.seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    parent = mlflow.active_run()
    # Nested runs go to the active experiment, not the parent's, unless told.
    experiment_id = parent.info.experiment_id if parent is not None else None

    def objective(trial: optuna.Trial) -> float:
        params = suggest(trial)
        model = fit_fraud(prep, config.with_params("fraud", **params))
        score = M.roc_auc(model.oof_y_, model.oof_raw_)
        if parent is not None:
            with mlflow.start_run(
                experiment_id=experiment_id, nested=True, run_name=f"trial-{trial.number:03d}"
            ):
                mlflow.log_params({f"fraud_params.{k}": v for k, v in params.items()})
                mlflow.log_metric("oof_fraud_roc_auc_raw", score)
                mlflow.log_metrics({f"oof_fraud_{k}": v for k, v in model.metrics_.items()})
                mlflow.log_metric("n_rounds", model.n_rounds_)
        echo(f"trial {trial.number}: out-of-fold ROC-AUC {score:.4f} {params}")
        return score

    study.optimize(objective, n_trials=n_trials)
    if parent is not None:
        mlflow.log_metric("tune_best_oof_roc_auc", study.best_value)
        mlflow.log_params({"tune.n_trials": n_trials, "tune.best_trial": study.best_trial.number})
    return dict(study.best_params)
