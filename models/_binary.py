"""A calibrated LightGBM binary classifier: the shared core of the fraud and account models.

Training (:meth:`CalibratedBooster.fit`):

1. Grouped, stratified K-fold (groups = creators for fraud) gives an out-of-fold raw score for
   every row; each fold picks its rounds by early stopping on an inner split of its training part.
2. The calibrator (isotonic by default, or Platt) is fitted on all out-of-fold raw scores.
3. The final booster trains on every row for the median of the folds' best round counts.

``oof_`` holds *cross-calibrated* out-of-fold probabilities (fold k calibrated by a calibrator
fitted on the other folds only), so metrics and reliability tables computed from it are honest.

Saved as three files: ``booster.txt`` (LightGBM's text format), ``calibrator.json`` and
``meta.json``; :meth:`CalibratedBooster.load` checks their SHA-256 before parsing anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import lightgbm as lgb
import numpy as np
import pandas as pd

from models import metrics
from models._artifacts import ArtifactError, dumps_json, read_verified, write_files
from models._boosting import (
    cross_fit,
    feature_matrix,
    make_params,
    predict_threads,
    train_final,
)
from models.calibration import Calibrator, calibrator_from_dict, make_calibrator
from models.reasons import reasons_from_arrays

__all__ = ["CalibratedBooster"]

_FILES = ("booster.txt", "calibrator.json", "meta.json")


class CalibratedBooster:
    """LightGBM binary classifier with a calibrator fitted on out-of-fold scores."""

    kind = "binary"

    def __init__(self) -> None:
        self.booster_: lgb.Booster | None = None
        self.calibrator_: Calibrator | None = None
        self.feature_names_: list[str] = []
        self.params_: dict = {}
        self.n_rounds_: int = 0
        self.best_iterations_: list[int] = []
        self.metrics_: dict[str, float] = {}
        self.oof_: np.ndarray | None = None
        self.oof_raw_: np.ndarray | None = None
        self.oof_y_: np.ndarray | None = None

    # ------------------------------------------------------------------ training
    def fit(
        self,
        X: pd.DataFrame,
        y,
        groups=None,
        *,
        params: Mapping[str, object] | None = None,
        seed: int = 0,
        n_folds: int = 5,
        calibration: str = "isotonic",
        max_rounds: int = 1000,
        early_stopping_rounds: int = 50,
    ) -> Self:
        """Cross-fit, calibrate on out-of-fold scores, then train the final booster.

        Parameters
        ----------
        X : float feature columns (NaN = unknown); every column is used, in frame order.
        y : 0/1 (or bool) labels, one per row.
        groups : group id per row (e.g. creator_id) so no group straddles folds;
            ``None`` = every row its own group.
        params : LightGBM parameters overriding the defaults (not the number of rounds).
        seed : seed for folds and LightGBM.
        n_folds : outer folds for out-of-fold scores.
        calibration : ``"isotonic"`` or ``"platt"``.
        max_rounds, early_stopping_rounds : early stopping bounds per fold.
        """
        names = [str(c) for c in X.columns]
        Xm = feature_matrix(X, names)
        yy = np.asarray(pd.array(y, dtype="float64").to_numpy(na_value=np.nan))
        if yy.shape != (len(X),):
            raise ValueError(f"y has {yy.size} labels for {len(X)} rows")
        if not np.isin(yy, (0.0, 1.0)).all():
            raise ValueError("y must be 0/1 (or bool) with no missing labels")
        g = np.arange(len(X)) if groups is None else pd.factorize(np.asarray(groups))[0]
        prm = make_params({"objective": "binary", "metric": "binary_logloss"}, params, seed)
        oof_raw, fold, best = cross_fit(
            Xm,
            yy,
            g,
            names,
            prm,
            n_folds=n_folds,
            seed=seed,
            ranking=False,
            max_rounds=max_rounds,
            early_stopping_rounds=early_stopping_rounds,
        )
        self.calibrator_ = make_calibrator(calibration).fit(oof_raw, yy)
        oof = np.empty_like(oof_raw)
        for k in np.unique(fold):
            held = fold == k
            oof[held] = (
                make_calibrator(calibration).fit(oof_raw[~held], yy[~held]).transform(oof_raw[held])
            )
        self.n_rounds_ = max(1, int(round(float(np.median(best)))))
        self.booster_ = train_final(Xm, yy, g, names, prm, self.n_rounds_, ranking=False)
        self.feature_names_ = names
        self.params_ = prm
        self.best_iterations_ = best
        self.oof_raw_, self.oof_, self.oof_y_ = oof_raw, oof, yy
        self.metrics_ = self._oof_metrics(yy, oof)
        return self

    @staticmethod
    def _oof_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
        return {
            "roc_auc": metrics.roc_auc(y, p),
            "pr_auc": metrics.pr_auc(y, p),
            "brier": metrics.brier(y, p),
            "ece_uniform_10": metrics.expected_calibration_error(y, p),
            "recall_at_fpr_1pct": metrics.recall_at_fpr(y, p, 0.01),
            "recall_at_fpr_5pct": metrics.recall_at_fpr(y, p, 0.05),
            "n_rows": float(y.size),
            "positive_rate": float(y.mean()),
        }

    # ----------------------------------------------------------------- inference
    def _check(self) -> lgb.Booster:
        if self.booster_ is None or self.calibrator_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted")
        return self.booster_

    def raw_score(self, X: pd.DataFrame) -> np.ndarray:
        """Raw LightGBM margin (log-odds before calibration), columns selected by name."""
        booster = self._check()
        matrix = feature_matrix(X, self.feature_names_)
        return booster.predict(matrix, raw_score=True, num_threads=predict_threads(len(matrix)))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of the positive class, one value per row (1-D)."""
        return self.calibrator_.transform(self.raw_score(X))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-feature SHAP contributions in raw-score units, plus a ``bias`` column.

        Positive values push the raw score (and so the probability) up. Each row sums to
        :meth:`raw_score`. About 1,000 rows/s at the default tree size: call it only for the
        rows whose reasons you will show.
        """
        return pd.DataFrame(
            self._contribution_values(X), index=X.index, columns=[*self.feature_names_, "bias"]
        )

    def _contribution_values(self, X: pd.DataFrame) -> np.ndarray:
        """:meth:`contributions` as a matrix: one column per feature, then the bias."""
        booster = self._check()
        matrix = feature_matrix(X, self.feature_names_)
        return booster.predict(matrix, pred_contrib=True, num_threads=predict_threads(len(matrix)))

    def reasons(
        self,
        X: pd.DataFrame,
        as_of: pd.Series | pd.Timestamp | None = None,
        top_k: int = 4,
        *,
        catalog: Mapping[str, object] | None = None,
    ) -> list[list[str]]:
        """Plain-word reasons per row from :meth:`contributions` (see ``models.reasons``).

        ``as_of`` (per row, or one day) turns day offsets in the features into calendar dates.
        """
        values = self._contribution_values(X)
        # What ``reasons_for`` reads from the contributions frame, without building the frame
        # (a fixed ~0.1 ms of a one-creator request): every column but the bias.
        keep = [j for j, c in enumerate(self.feature_names_) if c != "bias"]
        names = [self.feature_names_[j] for j in keep]
        values = values[:, keep] if len(keep) < len(self.feature_names_) else values[:, :-1]
        return reasons_from_arrays(values, names, X, X.index, as_of, top_k, catalog=catalog)

    # --------------------------------------------------------------- persistence
    def _meta(self) -> dict:
        return {
            "kind": self.kind,
            "feature_names": self.feature_names_,
            "n_rounds": self.n_rounds_,
            "best_iterations": self.best_iterations_,
            "params": self.params_,
            # JSON has no NaN: an undefined metric (e.g. NDCG without relevant pairs) is null.
            "metrics": {k: (v if np.isfinite(v) else None) for k, v in self.metrics_.items()},
            "lightgbm_version": lgb.__version__,
        }

    def _set_meta(self, meta: Mapping) -> None:
        """Restore subclass state from ``meta`` (the base keeps nothing extra)."""

    def save(self, folder: str | Path) -> dict[str, str]:
        """Write ``booster.txt``, ``calibrator.json``, ``meta.json``; return name -> sha256."""
        booster = self._check()
        files = {
            "booster.txt": booster.model_to_string().encode("utf-8"),
            "calibrator.json": dumps_json(self.calibrator_.to_dict()),
            "meta.json": dumps_json(self._meta()),
        }
        return write_files(folder, files)

    @classmethod
    def load(cls, folder: str | Path, checksums: Mapping[str, str]) -> Self:
        """Load a saved model, refusing any file whose SHA-256 differs from ``checksums``."""
        raw = read_verified(folder, checksums, _FILES)
        meta = json.loads(raw["meta.json"])
        if meta.get("kind") != cls.kind:
            raise ArtifactError(f"{folder}: holds a {meta.get('kind')!r} model, not {cls.kind!r}")
        model = cls()
        model.booster_ = lgb.Booster(model_str=raw["booster.txt"].decode("utf-8"))
        if model.booster_.feature_name() != list(meta["feature_names"]):
            raise ArtifactError(f"{folder}: booster and meta.json disagree on feature names")
        model.calibrator_ = calibrator_from_dict(json.loads(raw["calibrator.json"]))
        model.feature_names_ = list(meta["feature_names"])
        model.n_rounds_ = int(meta["n_rounds"])
        model.best_iterations_ = [int(b) for b in meta["best_iterations"]]
        model.params_ = dict(meta["params"])
        model.metrics_ = {
            k: float("nan") if v is None else float(v) for k, v in meta["metrics"].items()
        }
        model._set_meta(meta)
        return model
