"""Metrics for the fraud, account and fit models.

Probability metrics take 0/1 labels ``y`` and predicted probabilities ``p``; ranking metrics take
graded labels, scores and a group id per row (one group = one brand). scikit-learn computes
ROC AUC, average precision and the Brier score; ECE, recall at a fixed false-positive rate and
grouped NDCG are written here because scikit-learn's versions do not fit (its ``ndcg_score``
needs equal-length rows, not groups of different sizes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score, roc_curve

__all__ = [
    "roc_auc",
    "pr_auc",
    "brier",
    "reliability_table",
    "expected_calibration_error",
    "recall_at_fpr",
    "ndcg_at_k",
]


def _yp(y, p) -> tuple[np.ndarray, np.ndarray]:
    yy = np.asarray(y, dtype="float64").ravel()
    pp = np.asarray(p, dtype="float64").ravel()
    if yy.shape != pp.shape:
        raise ValueError(f"labels ({yy.size}) and predictions ({pp.size}) differ in length")
    return yy, pp


def roc_auc(y, p) -> float:
    """Area under the ROC curve."""
    yy, pp = _yp(y, p)
    return float(roc_auc_score(yy, pp))


def pr_auc(y, p) -> float:
    """Area under the precision-recall curve, as average precision (no interpolation)."""
    yy, pp = _yp(y, p)
    return float(average_precision_score(yy, pp))


def brier(y, p) -> float:
    """Brier score: mean squared difference between probability and 0/1 outcome."""
    yy, pp = _yp(y, p)
    return float(brier_score_loss(yy, pp))


def reliability_table(y, p, n_bins: int = 10, strategy: str = "uniform") -> pd.DataFrame:
    """Per-bin counts, mean predicted probability and observed positive rate.

    Parameters
    ----------
    y, p : 0/1 labels and predicted probabilities.
    n_bins : number of bins.
    strategy : ``"uniform"`` = equal-width bins on [0, 1] (the bin ``[k/n, (k+1)/n)``, the last
        one closed); ``"quantile"`` = equal-mass bins with edges at quantiles of ``p``.

    Returns
    -------
    DataFrame with one row per bin: ``bin_lo, bin_hi, count, mean_predicted, fraction_positive``
    (NaN means for empty bins), ready for a reliability diagram.
    """
    yy, pp = _yp(y, p)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.quantile(pp, np.linspace(0.0, 1.0, n_bins + 1))
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile', not {strategy!r}")
    idx = np.clip(np.searchsorted(edges, pp, side="right") - 1, 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins).astype("float64")
    sum_p = np.bincount(idx, weights=pp, minlength=n_bins)
    sum_y = np.bincount(idx, weights=yy, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.where(count > 0, sum_p / count, np.nan)
        frac = np.where(count > 0, sum_y / count, np.nan)
    return pd.DataFrame(
        {
            "bin_lo": edges[:-1],
            "bin_hi": edges[1:],
            "count": count,
            "mean_predicted": mean_p,
            "fraction_positive": frac,
        }
    )


def expected_calibration_error(y, p, n_bins: int = 10, strategy: str = "uniform") -> float:
    """Expected calibration error: count-weighted mean of ``|fraction_positive - mean_predicted|``.

    Equal-width bins by default (``strategy="uniform"``); ``"quantile"`` gives equal-mass bins.

    Examples
    --------
    >>> expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])
    0.0
    """
    t = reliability_table(y, p, n_bins=n_bins, strategy=strategy)
    used = t["count"] > 0
    gap = (t["fraction_positive"] - t["mean_predicted"]).abs()[used]
    return float(np.sum(gap * t["count"][used]) / t["count"][used].sum())


def recall_at_fpr(y, p, fpr: float = 0.01) -> float:
    """Highest recall (true-positive rate) reachable with a false-positive rate at most ``fpr``.

    Examples
    --------
    >>> recall_at_fpr([0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.7, 0.9], fpr=0.0)
    0.5
    """
    yy, pp = _yp(y, p)
    fprs, tprs, _ = roc_curve(yy, pp)
    ok = fprs <= fpr + 1e-12
    return float(tprs[ok].max()) if ok.any() else 0.0


def ndcg_at_k(y, score, groups, k: int = 10) -> float:
    """Mean NDCG@k over groups (brands), with gain ``2**label - 1`` as in LightGBM's lambdarank.

    Within a group rows are ranked by descending score (ties in input order). Groups without any
    positive label have no ideal ranking and are left out of the mean.

    Examples
    --------
    >>> round(ndcg_at_k([3, 2, 0], [0.1, 0.9, 0.5], ["b", "b", "b"], k=3), 4)
    0.7309
    """
    rel = np.asarray(y, dtype="float64").ravel()
    sc = np.asarray(score, dtype="float64").ravel()
    g = pd.factorize(pd.Series(np.asarray(groups)))[0]
    n = rel.size
    pos = np.arange(n)
    gain = np.power(2.0, rel) - 1.0

    def dcg(order_key: np.ndarray) -> np.ndarray:
        # Sort by group, then the key descending, then input position (stable ties).
        order = np.lexsort((pos, -order_key, g))
        gs = g[order]
        start = np.r_[0, np.flatnonzero(np.diff(gs)) + 1]
        rank = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
        contrib = np.where(rank < k, gain[order] / np.log2(rank + 2.0), 0.0)
        return np.bincount(gs, weights=contrib, minlength=g.max() + 1)

    actual = dcg(sc)
    ideal = dcg(rel)
    keep = ideal > 0
    if not keep.any():
        return float("nan")
    return float(np.mean(actual[keep] / ideal[keep]))
