"""Validation plots for a training run, drawn with matplotlib's file-only Agg backend.

Each function returns a ``Figure``; :func:`save_plots` writes them all as PNG files for MLflow:
ROC and precision-recall curves (overall and per fraud kind), a reliability diagram, a SHAP
summary (per-creator contributions of the strongest features on validation creators) and gain
feature importance of each booster.
"""

from __future__ import annotations

from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd

# Figures are built on matplotlib's object API, never pyplot: no global backend switch, so a
# notebook that trains keeps showing its own plots, and servers without a display work.
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from models.metrics import reliability_table
from training.pipeline import FRAUD_KINDS, TrainResult

__all__ = [
    "roc_plot",
    "pr_plot",
    "calibration_plot",
    "shap_summary_plot",
    "importance_plot",
    "save_plots",
]

# SHAP values cost about 1 ms per row: a summary of this many validation creators is plenty.
SHAP_ROWS = 500


def _kind_masks(y: np.ndarray, kind: np.ndarray) -> dict[str, np.ndarray]:
    parts = pd.Series(kind, dtype=object).fillna("").str.split("+")
    out = {}
    for k in FRAUD_KINDS:
        pos = (y == 1) & parts.map(lambda ks, k=k: k in ks).to_numpy(dtype=bool)
        if pos.any():
            out[k] = pos | (y == 0)
    return out


def roc_plot(y: np.ndarray, p: np.ndarray, kind: np.ndarray | None = None) -> Figure:
    """ROC curve overall and per fraud kind (that kind's buyers against all non-buyers)."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr, lw=2, label="all buyers")
    for k, mask in (_kind_masks(y, kind) if kind is not None else {}).items():
        f, t, _ = roc_curve(y[mask], p[mask])
        ax.plot(f, t, lw=1, label=f"{k} ({int((y[mask] == 1).sum())})")
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    for x in (0.01, 0.05):
        ax.axvline(x, ls="--", lw=0.7, c="grey")
    ax.set(xlabel="false-positive rate", ylabel="recall", title="Fraud model ROC (validation)")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def pr_plot(y: np.ndarray, p: np.ndarray) -> Figure:
    """Precision-recall curve with the base rate."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    prec, rec, _ = precision_recall_curve(y, p)
    ax.plot(rec, prec, lw=2)
    ax.axhline(float(np.mean(y)), ls=":", c="grey", label="base rate")
    ax.set(xlabel="recall", ylabel="precision", title="Fraud model precision-recall (validation)")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    return fig


def calibration_plot(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> Figure:
    """Reliability diagram: observed buyer rate against predicted risk, with bin counts."""
    table = reliability_table(y, p, n_bins=n_bins)
    used = table["count"] > 0
    fig = Figure(figsize=(5.5, 6))
    ax, hist = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.plot(table["mean_predicted"][used], table["fraction_positive"][used], "o-")
    ax.set(ylabel="observed buyer rate", title="Fraud risk calibration (validation)")
    hist.bar(
        (table["bin_lo"] + table["bin_hi"]) / 2,
        table["count"],
        width=(table["bin_hi"] - table["bin_lo"]) * 0.9,
    )
    hist.set(xlabel="predicted risk", ylabel="creators", yscale="log")
    fig.tight_layout()
    return fig


def shap_summary_plot(contrib: pd.DataFrame, X: pd.DataFrame, top: int = 20) -> Figure:
    """One row per feature (strongest mean |SHAP| on top), one dot per creator, coloured by
    the feature's value rank (blue low, red high; grey unknown)."""
    values = contrib.drop(columns="bias", errors="ignore")
    order = values.abs().mean().sort_values(ascending=False).index[:top][::-1]
    fig = Figure(figsize=(7.5, 0.32 * len(order) + 1.5))
    ax = fig.subplots()
    rng = np.random.default_rng(0)
    for row, name in enumerate(order):
        s = values[name].to_numpy()
        v = X[name].rank(pct=True).to_numpy()
        jitter = rng.uniform(-0.3, 0.3, s.size)
        known = ~np.isnan(v)
        ax.scatter(s[~known], row + jitter[~known], s=6, c="lightgrey", lw=0)
        ax.scatter(s[known], row + jitter[known], s=6, c=v[known], cmap="coolwarm", lw=0)
    ax.axvline(0, c="grey", lw=0.7)
    ax.set_yticks(range(len(order)), list(order), fontsize=7)
    ax.set(xlabel="contribution to raw fraud score (log-odds)", title="SHAP summary (validation)")
    fig.tight_layout()
    return fig


def importance_plot(booster: lgb.Booster, title: str, top: int = 25) -> Figure:
    """Total split gain per feature, strongest ``top``."""
    gain = pd.Series(
        booster.feature_importance(importance_type="gain"), index=booster.feature_name()
    )
    gain = gain[gain > 0].sort_values().tail(top)
    fig = Figure(figsize=(7, 0.28 * max(len(gain), 1) + 1.5))
    ax = fig.subplots()
    ax.barh(range(len(gain)), gain.to_numpy())
    ax.set_yticks(range(len(gain)), list(gain.index), fontsize=7)
    ax.set(xlabel="total gain", title=title)
    fig.tight_layout()
    return fig


def save_plots(result: TrainResult, folder: Path) -> list[Path]:
    """Write every plot of ``result`` as PNG into ``folder``; return the files."""
    folder.mkdir(parents=True, exist_ok=True)
    pred = result.predictions
    y = pred["label"].to_numpy(dtype="float64")
    p = pred["fraud_risk"].to_numpy(dtype="float64")
    kind = pred["fraud_kind"].to_numpy(dtype=object)
    figures: dict[str, Figure] = {}
    if np.unique(y).size == 2:
        figures["fraud_roc.png"] = roc_plot(y, p, kind)
        figures["fraud_pr.png"] = pr_plot(y, p)
        figures["fraud_calibration.png"] = calibration_plot(y, p)
    X = result.features.loc[pred["creator_id"].head(SHAP_ROWS)]
    figures["fraud_shap_summary.png"] = shap_summary_plot(
        result.bundle.fraud_model.contributions(X), X
    )
    figures["fraud_importance.png"] = importance_plot(
        result.bundle.fraud_model.booster_, "Fraud model: feature importance (gain)"
    )
    if result.bundle.fit_model is not None:
        figures["fit_importance.png"] = importance_plot(
            result.bundle.fit_model.booster_, "Fit model: feature importance (gain)"
        )
    if result.bundle.account_model is not None:
        figures["account_importance.png"] = importance_plot(
            result.bundle.account_model.booster_, "Account model: feature importance (gain)"
        )
    written = []
    for name, fig in figures.items():
        path = folder / name
        fig.savefig(path, dpi=110)
        written.append(path)
    return written
