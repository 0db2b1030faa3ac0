"""The fraud model: did a creator buy followers or engagement (``fraud_labels.bought_followers``).

A LightGBM binary classifier on the creator feature frame (``features.build``), calibrated on
out-of-fold scores, so ``predict_proba`` is the ``fraud_risk`` of the output contract. Folds are
grouped by creator. Reasons come from LightGBM's own SHAP values (:meth:`FraudModel.contributions`)
turned into sentences by :func:`models.reasons.reasons_for`; a positive contribution raises risk.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"eng_er_vs_expected": rng.normal(size=300), "noise": rng.normal(size=300)})
>>> y = (X["eng_er_vs_expected"] > 0.5).astype(int)
>>> m = FraudModel().fit(X, y, params={"min_data_in_leaf": 5}, n_folds=3, max_rounds=50)
>>> bool(m.metrics_["roc_auc"] > 0.9)
True
"""

from __future__ import annotations

from models._binary import CalibratedBooster

__all__ = ["FraudModel"]


class FraudModel(CalibratedBooster):
    """Calibrated probability that a creator bought followers or engagement.

    ``predict_proba`` gives ``fraud_risk``; ``reasons`` (SHAP-based, positive = raises the risk)
    should be called only for the rows whose reasons are shown, as SHAP values are ~100x slower
    than predictions.
    """

    kind = "fraud"
