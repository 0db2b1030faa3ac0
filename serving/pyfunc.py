"""The creatorscore MLflow model, logged as "models from code" (this file is the model).

MLflow copies this script into the logged model and runs it on load; ``set_model`` at the end
names the model object. Nothing is pickled: :meth:`CreatorScoreModel.load_context` reads the
bundle folder logged as the artifact ``"bundle"`` through :meth:`models.Bundle.load`, which
verifies every file's SHA-256 first, so the model loads with
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false`` and a tampered file is refused.

Input is a *feature frame*: ``creator_id`` plus the bundle's feature columns (as made by
``features.build``), any slice of rows, columns selected by name and in any order (Spark hands
the model arbitrary batches). Per-creator history is turned into features upstream.
"""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
from mlflow.pyfunc import PythonModel

__all__ = ["CreatorScoreModel", "OUTPUT_COLUMNS"]

OUTPUT_COLUMNS = ("creator_id", "fraud_risk", "risk_band", "model_version")


class CreatorScoreModel(PythonModel):
    """Fraud risk for each row of a feature frame, from the checksummed bundle."""

    def load_context(self, context) -> None:
        """Load and verify the bundle logged as the artifact ``"bundle"``."""
        from models.bundle import Bundle
        from serving.predict import risk_band

        self.bundle = Bundle.load(context.artifacts["bundle"])
        self.risk_band = risk_band

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """``creator_id``, calibrated ``fraud_risk`` (0-1), ``risk_band`` and ``model_version``.

        Parameters
        ----------
        model_input : DataFrame with ``creator_id`` and the feature columns; extra columns are
            ignored, a missing feature column raises a ``KeyError`` naming it.
        """
        frame = pd.DataFrame(model_input)
        risk = np.asarray(self.bundle.fraud_model.predict_proba(frame), dtype="float64")
        ids = (
            frame["creator_id"].astype(object).to_numpy()
            if "creator_id" in frame.columns
            else np.full(len(frame), None, dtype=object)
        )
        return pd.DataFrame(
            {
                "creator_id": ids,
                "fraud_risk": risk,
                "risk_band": self.risk_band(risk),
                "model_version": self.bundle.version,
            }
        )


mlflow.models.set_model(CreatorScoreModel())
