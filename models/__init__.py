"""What each model is: LightGBM models, their calibration, pair features, reasons and the bundle.

- :class:`FraudModel`: calibrated probability that a creator bought followers or engagement.
- :class:`AccountModel`: calibrated probability that one follower account is fake.
- :class:`FitModel` and :func:`pair_features`: LambdaRank over brand x creator pairs.
- :func:`reasons_for`: SHAP contributions -> plain-word reasons with signed contributions.
- :class:`Bundle`: every component needed to score, saved with SHA-256 checksums.
"""

from models._artifacts import ArtifactError
from models.account import AccountModel
from models.bundle import Bundle, library_versions
from models.calibration import IsotonicCalibrator, PlattCalibrator, calibrator_from_dict
from models.fit import PAIR_FEATURES, FitModel, brand_topics, pair_features, rank_within
from models.fraud import FraudModel
from models.metrics import (
    brier,
    expected_calibration_error,
    ndcg_at_k,
    pr_auc,
    recall_at_fpr,
    reliability_table,
    roc_auc,
)
from models.reasons import TEMPLATES, describe, reasons_for

__all__ = [
    "AccountModel",
    "ArtifactError",
    "Bundle",
    "FitModel",
    "FraudModel",
    "IsotonicCalibrator",
    "PAIR_FEATURES",
    "PlattCalibrator",
    "TEMPLATES",
    "brand_topics",
    "brier",
    "calibrator_from_dict",
    "describe",
    "expected_calibration_error",
    "library_versions",
    "ndcg_at_k",
    "pair_features",
    "pr_auc",
    "rank_within",
    "reasons_for",
    "recall_at_fpr",
    "reliability_table",
    "roc_auc",
]
