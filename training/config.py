"""Training settings: one frozen dataclass, loadable from TOML and logged to MLflow whole.

A TOML file sets any subset of the fields; the LightGBM parameters of each model sit in their
own table and are merged over the defaults, e.g.::

    seed = 7
    valid_share = 0.2
    n_topics = 16

    [fraud_params]
    learning_rate = 0.03
    num_leaves = 15

Unknown keys are refused with their names, so a typo never silently trains with a default.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = ["TrainConfig"]

_PARAM_TABLES = ("fraud_params", "fit_params", "account_params", "text_params")


def _frozen(d: dict[str, Any] | None = None) -> MappingProxyType:
    return MappingProxyType(dict(d or {}))


@dataclass(frozen=True)
class TrainConfig:
    """Every setting of one training run.

    Attributes
    ----------
    seed : seed of the validation split, the folds, LightGBM and the topic model.
    valid_share : share of labelled creators (fraud) and of brands (fit) held out for
        validation; the champion comparison scores both bundles on exactly these.
    n_folds, fit_n_folds, account_n_folds : outer cross-fitting folds (out-of-fold scores for
        calibration); ``fit_n_folds`` is capped at the number of training brands.
    max_rounds, fit_max_rounds : upper bound of boosting rounds; early stopping picks fewer.
        The account model also stops at ``models.account.MAX_TREES`` (it scores every sampled
        follower, so its size is set for speed; its parameter defaults are
        ``models.account.ACCOUNT_PARAMS``, under ``account_params``).
    early_stopping_rounds : rounds without improvement before a fold stops.
    calibration : ``"isotonic"`` or ``"platt"`` for the fraud and account models.
    n_topics : topics of the text model.
    account_max_accounts : cap on labelled follower accounts used to train the account model,
        drawn as whole creators' samples (accounts beyond a few tens of thousands add little
        and cost minutes on large worlds).
    num_threads : LightGBM threads for every model (see ``models._boosting`` on determinism).
    fraud_params, fit_params, account_params : LightGBM parameter overrides per model.
    text_params : extra ``TopicModel`` arguments (``min_df``, ``max_iter``, ...).
    good_outcome : fit_score estimates P(outcome >= good_outcome).
    """

    seed: int = 0
    valid_share: float = 0.2
    n_folds: int = 5
    fit_n_folds: int = 5
    account_n_folds: int = 3
    max_rounds: int = 1000
    fit_max_rounds: int = 500
    early_stopping_rounds: int = 50
    calibration: str = "isotonic"
    n_topics: int = 24
    account_max_accounts: int = 40_000
    num_threads: int = 1
    good_outcome: int = 2
    fraud_params: MappingProxyType = field(default_factory=_frozen)
    fit_params: MappingProxyType = field(default_factory=_frozen)
    account_params: MappingProxyType = field(default_factory=_frozen)
    text_params: MappingProxyType = field(default_factory=_frozen)

    def __post_init__(self) -> None:
        for name in _PARAM_TABLES:
            value = getattr(self, name)
            if not isinstance(value, MappingProxyType):
                object.__setattr__(self, name, _frozen(dict(value)))
        if not 0.0 < self.valid_share < 1.0:
            raise ValueError(f"valid_share must be within (0, 1), got {self.valid_share}")
        for name in ("n_folds", "fit_n_folds", "account_n_folds"):
            if getattr(self, name) < 2:
                raise ValueError(f"{name} must be at least 2, got {getattr(self, name)}")
        for name in ("max_rounds", "fit_max_rounds", "early_stopping_rounds", "n_topics"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.calibration not in ("isotonic", "platt"):
            raise ValueError(f"calibration must be 'isotonic' or 'platt', not {self.calibration!r}")
        if self.num_threads < 1:
            raise ValueError(f"num_threads must be at least 1, got {self.num_threads}")

    def lgb_params(self, model: str) -> dict[str, Any]:
        """LightGBM overrides for ``model`` (fraud, fit, account), with ``num_threads``."""
        return {"num_threads": self.num_threads, **dict(getattr(self, f"{model}_params"))}

    def with_params(self, model: str, **params: Any) -> TrainConfig:
        """A copy whose ``<model>_params`` have ``params`` merged over the current ones."""
        key = f"{model}_params"
        return replace(self, **{key: {**dict(getattr(self, key)), **params}})

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict of every setting (JSON- and TOML-able), for logging."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _PARAM_TABLES:
            out[name] = dict(out[name])
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a (possibly partial) dict; unknown keys raise ``ValueError``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown training setting(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(known))}"
            )
        return cls(**values)

    @classmethod
    def from_toml(cls, path: str | Path) -> TrainConfig:
        """Read settings from a TOML file (any subset of the fields)."""
        with Path(path).open("rb") as fh:
            values = tomllib.load(fh)
        try:
            return cls.from_dict(values)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from exc

    @classmethod
    def quick(cls, **overrides: Any) -> TrainConfig:
        """Small, fast settings for tests and demos on a few hundred creators."""
        fast = {"learning_rate": 0.15, "min_data_in_leaf": 10}
        base = {
            "n_folds": 3,
            "fit_n_folds": 3,
            "account_n_folds": 2,
            "max_rounds": 120,
            "fit_max_rounds": 80,
            "early_stopping_rounds": 15,
            "n_topics": 12,
            "account_max_accounts": 8_000,
            "fraud_params": fast,
            "fit_params": fast,
            "account_params": fast,
            "text_params": {"max_iter": 150},
        }
        return cls.from_dict({**base, **overrides})
