"""Score -> probability calibrators fitted on out-of-fold scores, stored as plain JSON.

Both calibrators are monotone maps from a raw model score (LightGBM margin) to a probability.
They are fitted on *out-of-fold* scores, so the map reflects how scores behave on rows the
booster has not seen. Their whole state is a few floats, written to JSON and read back exactly
(Python writes floats with ``repr``), so a saved calibrator gives bit-identical probabilities.

- :class:`IsotonicCalibrator`: scikit-learn's isotonic regression, kept as its threshold arrays
  and applied with ``np.interp`` (linear between thresholds, clipped outside them), which is
  what ``IsotonicRegression.predict`` does with ``out_of_bounds="clip"``.
- :class:`PlattCalibrator`: a logistic map ``1 / (1 + exp(-(a * s + b)))`` fitted by Newton's
  method with Platt's smoothed targets (no regularisation), for small label sets where
  isotonic steps would overfit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from sklearn.isotonic import IsotonicRegression

__all__ = [
    "IsotonicCalibrator",
    "PlattCalibrator",
    "Calibrator",
    "make_calibrator",
    "calibrator_from_dict",
]


def _check_xy(scores: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.asarray(scores, dtype="float64").ravel()
    t = np.asarray(y, dtype="float64").ravel()
    if s.shape != t.shape:
        raise ValueError(f"scores ({s.size}) and labels ({t.size}) differ in length")
    if not (np.isfinite(s).all() and np.isfinite(t).all()):
        raise ValueError("calibration scores and labels must be finite")
    return s, t


@dataclass
class IsotonicCalibrator:
    """Monotone step map from score to probability, stored as threshold arrays.

    Examples
    --------
    >>> cal = IsotonicCalibrator().fit([0.0, 1.0, 2.0, 3.0], [0, 0, 1, 1])
    >>> cal.transform([-5.0, 0.5, 2.5]).tolist()
    [0.0, 0.0, 1.0]
    """

    x_: np.ndarray = field(default_factory=lambda: np.empty(0))
    y_: np.ndarray = field(default_factory=lambda: np.empty(0))

    def fit(self, scores, y) -> IsotonicCalibrator:
        """Fit on out-of-fold ``scores`` and 0/1 (or 0-1) targets ``y``."""
        s, t = _check_xy(scores, y)
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(s, t)
        self.x_ = np.asarray(iso.X_thresholds_, dtype="float64")
        self.y_ = np.asarray(iso.y_thresholds_, dtype="float64")
        return self

    def transform(self, scores) -> np.ndarray:
        """Probabilities for ``scores`` (NaN stays NaN)."""
        if self.x_.size == 0:
            raise RuntimeError("IsotonicCalibrator is not fitted")
        s = np.asarray(scores, dtype="float64")
        return np.interp(s, self.x_, self.y_)

    def to_dict(self) -> dict:
        """Plain-JSON state."""
        return {"kind": "isotonic", "x": self.x_.tolist(), "y": self.y_.tolist()}

    @classmethod
    def from_dict(cls, d: Mapping) -> IsotonicCalibrator:
        """Rebuild from :meth:`to_dict` output."""
        x = np.asarray(d["x"], dtype="float64")
        y = np.asarray(d["y"], dtype="float64")
        if x.shape != y.shape or x.size == 0 or np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
            raise ValueError("isotonic calibrator state must be two equal, non-decreasing arrays")
        return cls(x_=x, y_=y)


@dataclass
class PlattCalibrator:
    """Logistic map ``p = 1 / (1 + exp(-(a * score + b)))``.

    Examples
    --------
    >>> cal = PlattCalibrator(a_=2.0, b_=0.0)
    >>> float(cal.transform([0.0])[0])
    0.5
    """

    a_: float = float("nan")
    b_: float = float("nan")

    def fit(self, scores, y, max_iter: int = 100) -> PlattCalibrator:
        """Fit ``a, b`` by Newton's method on Platt's smoothed targets."""
        s, t = _check_xy(scores, y)
        n_pos = float(t.sum())
        n_neg = float(t.size - n_pos)
        # Platt (1999): pull targets off 0/1 so separable data does not send a to infinity.
        target = np.where(t > 0.5, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
        a, b = 0.0, float(np.log((n_pos + 1.0) / (n_neg + 1.0)))
        for _ in range(max_iter):
            p = 1.0 / (1.0 + np.exp(-(a * s + b)))
            w = p * (1.0 - p)
            g = np.array([np.dot(p - target, s), np.sum(p - target)])
            h = np.array([[np.dot(w, s * s), np.dot(w, s)], [np.dot(w, s), np.sum(w)]])
            h += 1e-12 * np.eye(2)
            step = np.linalg.solve(h, g)
            a, b = a - float(step[0]), b - float(step[1])
            if np.max(np.abs(step)) < 1e-10:
                break
        self.a_, self.b_ = a, b
        return self

    def transform(self, scores) -> np.ndarray:
        """Probabilities for ``scores``."""
        if not np.isfinite(self.a_):
            raise RuntimeError("PlattCalibrator is not fitted")
        s = np.asarray(scores, dtype="float64")
        return 1.0 / (1.0 + np.exp(-(self.a_ * s + self.b_)))

    def to_dict(self) -> dict:
        """Plain-JSON state."""
        return {"kind": "platt", "a": self.a_, "b": self.b_}

    @classmethod
    def from_dict(cls, d: Mapping) -> PlattCalibrator:
        """Rebuild from :meth:`to_dict` output."""
        return cls(a_=float(d["a"]), b_=float(d["b"]))


Calibrator = IsotonicCalibrator | PlattCalibrator


def make_calibrator(kind: str) -> Calibrator:
    """A new, unfitted calibrator: ``"isotonic"`` or ``"platt"``."""
    if kind == "isotonic":
        return IsotonicCalibrator()
    if kind == "platt":
        return PlattCalibrator()
    raise ValueError(f"unknown calibration {kind!r}; use 'isotonic' or 'platt'")


def calibrator_from_dict(d: Mapping) -> Calibrator:
    """Rebuild whichever calibrator ``d`` describes (its ``"kind"`` key)."""
    kind = d.get("kind")
    if kind == "isotonic":
        return IsotonicCalibrator.from_dict(d)
    if kind == "platt":
        return PlattCalibrator.from_dict(d)
    raise ValueError(f"unknown calibrator kind {kind!r}")
