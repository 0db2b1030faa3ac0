"""The follower-account model: is one follower account fake (``account_labels.is_fake``).

A calibrated LightGBM binary classifier on the per-account columns of
:func:`features.audience.account_features`. It implements ``features.audience.AccountModel``:
``feature_names``, ``predict_fake`` (calibrated probabilities), and ``threshold`` with the
``tpr``/``fpr`` measured at it on out-of-fold predictions, which the audience features use to
correct each creator's observed fake share.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
import pandas as pd

from models._binary import CalibratedBooster

__all__ = ["AccountModel"]


class AccountModel(CalibratedBooster):
    """Calibrated probability that a follower account is fake, with held-out error rates."""

    kind = "account"

    def __init__(self) -> None:
        super().__init__()
        self.threshold_: float = 0.5
        self.tpr_: float = float("nan")
        self.fpr_: float = float("nan")

    def fit(self, X: pd.DataFrame, y, groups=None, *, threshold: float = 0.5, **kwargs) -> Self:
        """Fit as :meth:`CalibratedBooster.fit`; then measure ``tpr``/``fpr`` at ``threshold``.

        The rates come from the cross-calibrated out-of-fold probabilities, so they describe
        accounts the model did not train on. ``groups`` may be the creator each account follows.
        """
        super().fit(X, y, groups, **kwargs)
        flagged = self.oof_ >= threshold
        pos = self.oof_y_ == 1.0
        self.threshold_ = float(threshold)
        self.tpr_ = float(flagged[pos].mean()) if pos.any() else float("nan")
        self.fpr_ = float(flagged[~pos].mean()) if (~pos).any() else float("nan")
        return self

    @classmethod
    def fit_labels(cls, account_labels: pd.DataFrame, **kwargs) -> AccountModel:
        """Train on an ``account_labels`` table (contract columns plus ``is_fake``)."""
        from features.audience import account_features

        y = account_labels["is_fake"]
        if y.isna().any():
            raise ValueError("account_labels.is_fake has missing values")
        X = account_features(account_labels)
        return cls().fit(X, y.astype("float64").to_numpy(), **kwargs)

    @property
    def feature_names(self) -> list[str]:
        """Columns of ``account_features`` the model reads, in order."""
        return list(self.feature_names_)

    @property
    def threshold(self) -> float:
        """Probability at or above which an account counts as fake."""
        return self.threshold_

    @property
    def tpr(self) -> float:
        """Share of fake accounts flagged at :attr:`threshold`, on out-of-fold predictions."""
        return self.tpr_

    @property
    def fpr(self) -> float:
        """Share of real accounts flagged at :attr:`threshold`, on out-of-fold predictions."""
        return self.fpr_

    def predict_fake(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each account is fake."""
        return self.predict_proba(X)

    def _meta(self) -> dict:
        return {**super()._meta(), "threshold": self.threshold_, "tpr": self.tpr_, "fpr": self.fpr_}

    def _set_meta(self, meta: Mapping) -> None:
        self.threshold_ = float(meta["threshold"])
        self.tpr_ = float(meta["tpr"])
        self.fpr_ = float(meta["fpr"])
