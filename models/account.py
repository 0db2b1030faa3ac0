"""The follower-account model: is one follower account fake (``account_labels.is_fake``).

A calibrated LightGBM binary classifier on the per-account columns of
:func:`features.audience.account_features`. It implements ``features.audience.AccountModel``:
``feature_names``, ``predict_fake`` (calibrated probabilities), and ``threshold`` with the
``tpr``/``fpr`` measured at it on out-of-fold predictions, which the audience features use to
correct each creator's observed fake share.

Unknown is not zero, and real audience samples lack different columns (one public set has no
user names, another no bios, none has full names). LightGBM sends a NaN it never saw in training
to the side of zero, so a model trained on complete accounts would read "bio unknown" as "empty
bio". :meth:`AccountModel.fit` therefore trains on the accounts plus copies of a share of them
with whole contract columns blanked at random (:data:`COLUMN_FEATURES`), so every feature learns
where its unknown values belong; the copies stay in their original's fold, and out-of-fold
metrics and ``tpr``/``fpr`` are measured on the original accounts only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

import numpy as np
import pandas as pd

from models._binary import CalibratedBooster

__all__ = [
    "ACCOUNT_PARAMS",
    "AccountModel",
    "COLUMN_FEATURES",
    "MAX_TREES",
    "mask_columns",
    "min_variance_threshold",
]

#: LightGBM parameters of the account model, under the caller's ``params``. Every sampled
#: follower of every creator is scored, so scoring speed matters more here than in any other
#: model: small trees at a large learning rate. Measured on simulated accounts (40,000 training
#: accounts, 300,000 held out from another world): held-out ROC-AUC 0.9107 at learning rate 0.2
#: and 60 trees against 0.9124 with the shared defaults (learning rate 0.05, depth 6, 31 leaves;
#: early stopping chose 198 trees), at 5.5 times the scoring speed.
ACCOUNT_PARAMS: dict[str, object] = {"learning_rate": 0.4, "max_depth": 4, "num_leaves": 15}
#: Most boosting rounds of the account model, whatever ``max_rounds`` allows. Scoring time grows
#: with the trees: on 1.9 million sampled followers (one thread) 30 trees took 1.2 CPU-s against
#: 2.7 s for 60 at learning rate 0.2, the largest single cost of a feature build. Measured with
#: the evaluation of docs/evaluation.md, 30 trees at 0.4 against 60 at 0.2: out-of-fold ROC-AUC
#: on simulated accounts 0.929 against 0.932; synthetic-trained ROC-AUC on InstaFake 0.957
#: (0.973), Kaggle 0.951 (0.957), SRF 0.929 (0.928); fake-share MAE at 100 accounts 0.044,
#: 0.028, 0.036 (0.047, 0.029, 0.042). More, slower trees did not help either (100 trees at 0.1:
#: held-out ROC-AUC 0.9104; 109 trees at 0.1 and depth 5: 0.9122 at a quarter of the speed).
MAX_TREES = 30

# Fake shares over which the estimate's variance is averaged when choosing a threshold: the
# range the audience estimate must cover (SRF 2017: most creators low, a cluster very high).
_SHARES = np.linspace(0.0, 0.8, 9)

#: Account features derived from each optional ``audience_sample`` column: blanking the column
#: makes all of them unknown. A user name also gives the digit share, which the Kaggle set gives
#: alone, so the name is blanked either with or without the share.
COLUMN_FEATURES: dict[str, tuple[str, ...]] = {
    "username": ("acc_username_digits", "acc_username_length", "acc_username_digit_share"),
    "username_counts": ("acc_username_digits", "acc_username_length"),
    "full_name": ("acc_full_name_present", "acc_full_name_digits"),
    "has_profile_pic": ("acc_has_pic",),
    "is_private": ("acc_private",),
    "biography_length": ("acc_bio_length",),
    "has_external_url": ("acc_external_url",),
    "media_count": ("acc_log_media", "acc_log_following_per_media", "acc_zero_posts"),
    "followers": ("acc_log_followers", "acc_log_following_per_follower"),
    "following": (
        "acc_log_following",
        "acc_log_following_per_follower",
        "acc_log_following_per_media",
        "acc_mass_follower",
    ),
}
# Per-column chance of being blanked in an augmented copy. Counts (media, followers, following)
# are what every source gives, so they are blanked rarely; the rest often, as in the public sets.
_BLANK_CHANCE: dict[str, float] = {
    "username": 0.25,
    "username_counts": 0.25,
    "full_name": 0.5,
    "has_profile_pic": 0.15,
    "is_private": 0.25,
    "biography_length": 0.4,
    "has_external_url": 0.5,
    "media_count": 0.05,
    "followers": 0.05,
    "following": 0.05,
}


def mask_columns(X: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A copy of account features with whole source columns blanked (NaN) at random, per row.

    Each column of :data:`COLUMN_FEATURES` is blanked independently with its own chance; only
    features present in ``X`` are touched.
    """
    out = X.copy()
    for column, chance in _BLANK_CHANCE.items():
        feats = [f for f in COLUMN_FEATURES[column] if f in out.columns]
        if feats:
            hit = rng.random(len(out)) < chance
            out.loc[hit, feats] = np.nan
    return out


def min_variance_threshold(y: np.ndarray, p: np.ndarray, min_gap: float = 0.2) -> float:
    """The threshold whose adjusted fake-share estimate has the least variance.

    For a threshold with rates ``tpr`` and ``fpr``, the adjusted classify-and-count estimate of
    a sample of ``n`` accounts with fake share ``s`` has variance
    ``(s tpr (1 - tpr) + (1 - s) fpr (1 - fpr)) / (n (tpr - fpr)^2)``. This picks, on the grid
    0.01, 0.02, ..., 0.99, the threshold minimising that variance averaged over shares 0-0.8,
    among thresholds with ``tpr - fpr >= min_gap`` (if none has it: the largest gap; if no
    threshold flags fakes more often than reals: 0.5).

    A low threshold flags nearly all fakes, and a share of fakes flagged near 1 changes least
    from one source of accounts to another; a high one keeps false positives rare. The variance
    weighs the two; nothing here looks at data other than the out-of-fold predictions given.

    Parameters
    ----------
    y : 0/1 labels.
    p : out-of-fold probabilities.
    min_gap : smallest ``tpr - fpr`` accepted.

    Examples
    --------
    Every threshold from 0.31 to 0.6 separates these perfectly; the tie goes to 0.5:

    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> min_variance_threshold(y, np.array([0.0, 0.1, 0.2, 0.3, 0.6, 0.9]))
    0.5
    """
    yy = np.asarray(y, dtype="float64") == 1.0
    pp = np.asarray(p, dtype="float64")
    grid = np.round(np.arange(0.01, 1.0, 0.01), 2)
    flagged = pp[:, None] >= grid[None, :]
    tpr = flagged[yy].mean(axis=0)
    fpr = flagged[~yy].mean(axis=0)
    gap = tpr - fpr
    noise = _SHARES[:, None] * (tpr * (1 - tpr)) + (1 - _SHARES[:, None]) * (fpr * (1 - fpr))
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(gap >= min_gap, noise.mean(axis=0) / gap**2, np.inf)
    if not np.isfinite(var).any():
        # A weak model: the largest gap (Youden's J), as long as it is a gap at all.
        if not (gap > 0).any():
            return 0.5
        var = -gap
    # Ties (flat stretches between scores) go to the threshold nearest 0.5.
    best = np.flatnonzero(var <= var.min() + 1e-12 * abs(var.min()))
    return float(grid[best[np.argmin(np.abs(grid[best] - 0.5))]])


class AccountModel(CalibratedBooster):
    """Calibrated probability that a follower account is fake, with held-out error rates."""

    kind = "account"

    def __init__(self) -> None:
        super().__init__()
        self.threshold_: float = 0.5
        self.tpr_: float = float("nan")
        self.fpr_: float = float("nan")

    def fit(
        self,
        X: pd.DataFrame,
        y,
        groups=None,
        *,
        threshold: float | str = 0.5,
        missing_copies: float = 0.5,
        max_trees: int = MAX_TREES,
        **kwargs,
    ) -> Self:
        """Fit as :meth:`CalibratedBooster.fit`; then measure ``tpr``/``fpr`` at ``threshold``.

        The rates come from the cross-calibrated out-of-fold probabilities, so they describe
        accounts the model did not train on. ``groups`` may be the creator each account follows.

        Parameters
        ----------
        threshold : probability at or above which an account is flagged, or
            ``"min_variance"``: chosen on the out-of-fold predictions by
            :func:`min_variance_threshold`, for the audience fake-share estimate.
        missing_copies : share of the accounts added again with source columns blanked at random
            (:func:`mask_columns`), so unknown values are learnt as unknown; 0 adds none.
        max_trees : cap on boosting rounds, applied over ``max_rounds`` (:data:`MAX_TREES`).
        params : LightGBM parameters, merged over :data:`ACCOUNT_PARAMS`.
        """
        kwargs["params"] = {**ACCOUNT_PARAMS, **dict(kwargs.get("params") or {})}
        kwargs["max_rounds"] = max(1, min(int(kwargs.get("max_rounds", max_trees)), max_trees))
        n = len(X)
        if missing_copies > 0:
            rng = np.random.default_rng(np.random.SeedSequence([int(kwargs.get("seed", 0)), 7]))
            pick = np.sort(rng.permutation(n)[: int(round(missing_copies * n))])
            g = np.arange(n) if groups is None else np.asarray(groups)
            yy = np.asarray(pd.array(y, dtype="float64").to_numpy(na_value=np.nan))
            X = pd.concat([X, mask_columns(X.iloc[pick], rng)], ignore_index=True)
            y = np.r_[yy, yy[pick]]
            groups = np.r_[g, g[pick]]
        super().fit(X, y, groups, **kwargs)
        if len(self.oof_) > n:
            # Measure on the original accounts only; the copies served training.
            self.oof_, self.oof_raw_, self.oof_y_ = (
                self.oof_[:n],
                self.oof_raw_[:n],
                self.oof_y_[:n],
            )
            self.metrics_ = self._oof_metrics(self.oof_y_, self.oof_)
        if threshold == "min_variance":
            threshold = min_variance_threshold(self.oof_y_, self.oof_)
        elif isinstance(threshold, str):
            raise ValueError(f"threshold must be a number or 'min_variance', not {threshold!r}")
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

    @property
    def prior(self) -> float:
        """Fake share of the accounts the model was calibrated on (out-of-fold rows).

        Its probabilities embed this prevalence; the fake-share estimate of
        :func:`features.audience.likelihood_fake_share` divides it out. NaN when unknown.
        """
        return float(self.metrics_.get("positive_rate", float("nan")))

    def predict_fake(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each account is fake."""
        return self.predict_proba(X)

    def _meta(self) -> dict:
        return {**super()._meta(), "threshold": self.threshold_, "tpr": self.tpr_, "fpr": self.fpr_}

    def _set_meta(self, meta: Mapping) -> None:
        self.threshold_ = float(meta["threshold"])
        self.tpr_ = float(meta["tpr"])
        self.fpr_ = float(meta["fpr"])
