"""LightGBM plumbing shared by the models: parameters, column selection, grouped cross-fitting.

Determinism: every model trains with ``deterministic=True``, ``force_row_wise=True`` and a fixed
``seed`` (LightGBM derives its bagging, feature-fraction and data seeds from it). With these the
trees do not depend on the thread count (checked: 1 and 2 threads give the same trees), but the
saved model text lists ``num_threads``, so it is pinned rather than left to the machine. Same data
+ same seed -> identical ``model_to_string()``.

``num_threads`` defaults to 1: on a busy 2-core machine OpenMP spin-waiting made a 5-fold fit on
5,000 x 60 take 45 s with 2 threads against 8 s with 1. Raise it for large data on idle cores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

from features._series import frame_dtypes

__all__ = [
    "BASE_PARAMS",
    "make_params",
    "feature_matrix",
    "predict_threads",
    "cross_fit",
    "train_final",
]

# SHAP cost grows with leaves and depth (pred_contrib ~960 rows/s at 31 leaves and depth 6, 190
# rows/s at 63 leaves without a depth cap), so the defaults keep trees small.
BASE_PARAMS: dict[str, object] = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "max_depth": 6,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "verbosity": -1,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
}


def make_params(
    objective: Mapping[str, object], params: Mapping[str, object] | None, seed: int
) -> dict[str, object]:
    """Base parameters, then the objective's, then the caller's overrides, then ``seed``."""
    out = {**BASE_PARAMS, **objective, **(params or {})}
    for banned in ("num_iterations", "num_boost_round", "n_estimators", "early_stopping_round"):
        if banned in out:
            raise ValueError(f"{banned!r} is chosen by early stopping; do not pass it in params")
    out["seed"] = int(seed)
    return out


# Below this many rows a prediction runs on the calling thread. Starting and spin-waiting the
# OpenMP team costs about 6.5 ms of CPU per predict call on 2 cores whatever the input: one
# creator's fraud risk took 6.5 ms with the default threads and 0.02 ms on one thread, its 99
# sampled followers 6.9 ms and 0.15 ms. Large inputs still use every core.
_SERIAL_PREDICT_ROWS = 20_000


def predict_threads(n_rows: int) -> int:
    """``num_threads`` for a LightGBM predict call on ``n_rows`` rows (0: OpenMP's default)."""
    return 1 if n_rows < _SERIAL_PREDICT_ROWS else 0


def feature_matrix(X: pd.DataFrame, feature_names: Sequence[str]) -> np.ndarray:
    """Columns ``feature_names`` of ``X``, selected by name, as a float64 matrix.

    Extra columns are ignored; missing ones raise a ``KeyError`` naming every one of them. The
    matrix may share memory with ``X``: read it, do not write to it.
    """
    names = list(feature_names)
    columns = X.columns
    pos = _positions(columns, names)
    if pos is None:  # repeated column names: selection by label, as pandas does it
        missing = [c for c in names if c not in columns]
    else:
        missing = [names[i] for i in np.flatnonzero(pos < 0)]
    if missing:
        raise KeyError(
            f"{len(missing)} feature column(s) missing from the input frame: {', '.join(missing)}"
        )
    # One pass over the dtypes, each distinct dtype judged once (a check per column cost
    # about 0.1 ms per call, a column lookup per feature about 1 ms).
    dtypes = frame_dtypes(X)
    same = pos is not None and len(pos) == len(dtypes) and np.array_equal(pos, np.arange(len(pos)))
    if (
        pos is not None
        and set(dtypes) == {_FLOAT64}
        and (same or len(dtypes) <= 2 * len(names) or _one_block(X))
    ):
        # A float64 frame (the feature frame): its own memory as a matrix (a view for one
        # block, else a copy of not many more columns than wanted), then the model's columns
        # taken from it. Selecting through ``.loc`` built a new frame first, most of the cost
        # of scoring a few creators.
        values = X.to_numpy(dtype="float64", na_value=np.nan)
        return values if same else values.T[pos].T
    # The frame itself when it holds exactly these columns in order: a float64 frame then gives
    # its own memory (column-major, which LightGBM reads as it is) instead of a copy, which for
    # millions of sampled followers cost about a second and a gigabyte.
    cols = X if same or list(columns) == names else X.loc[:, names]
    numeric: dict[object, bool] = {}
    bad = []
    for c, t in zip(cols.columns, dtypes if cols is X else frame_dtypes(cols), strict=True):
        if t not in numeric:
            numeric[t] = pd.api.types.is_numeric_dtype(t)
        if not numeric[t]:
            bad.append(c)
    if bad:
        raise TypeError(f"feature column(s) are not numeric: {', '.join(map(str, bad))}")
    return cols.to_numpy(dtype="float64", na_value=np.nan)


def _one_block(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` holds its columns in one 2-D array (``to_numpy`` then copies nothing)."""
    return bool(getattr(getattr(frame, "_mgr", None), "is_single_block", False))


_FLOAT64 = np.dtype("float64")
# Column positions of a model's features in the frames it is given, by (frame columns, model
# columns): a feature frame's columns are the same from call to call, and finding them by name
# cost more than the prediction of a few rows. A handful of entries (one per model and frame
# shape); cleared if it ever grows past a few dozen.
_POSITION_CACHE: dict[tuple[tuple, tuple], np.ndarray | None] = {}
_MISS = object()


def _positions(columns: pd.Index, names: list[str]) -> np.ndarray | None:
    """Position of each of ``names`` in ``columns`` (-1: absent); None if ``columns`` repeat."""
    key: tuple | None = (tuple(columns), tuple(names))
    try:
        hit = _POSITION_CACHE.get(key, _MISS)
    except TypeError:  # unhashable column labels: no cache
        hit, key = _MISS, None
    if hit is not _MISS:
        return hit
    pos = columns.get_indexer(names) if columns.is_unique else None
    if pos is not None:
        pos.flags.writeable = False  # shared by every later call
    if key is not None:
        if len(_POSITION_CACHE) >= 32:
            _POSITION_CACHE.clear()
        _POSITION_CACHE[key] = pos
    return pos


def _dataset(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray | None, names: list[str], ranking: bool
) -> lgb.Dataset:
    if not ranking:
        return lgb.Dataset(X, label=y, feature_name=names, free_raw_data=False)
    # LightGBM ranking wants each query's rows contiguous: sort by group (stable) first.
    order = np.argsort(groups, kind="stable")
    g = groups[order]
    sizes = np.diff(np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1, g.size])
    return lgb.Dataset(
        X[order], label=y[order], group=sizes, feature_name=names, free_raw_data=False
    )


def _splitter(n_splits: int, seed: int, ranking: bool):
    if ranking:
        return GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)


def _train(
    params: dict,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    names: list[str],
    ranking: bool,
    train: np.ndarray,
    valid: np.ndarray,
    max_rounds: int,
    early_stopping_rounds: int,
) -> lgb.Booster:
    dtrain = _dataset(X[train], y[train], groups[train], names, ranking)
    dvalid = _dataset(X[valid], y[valid], groups[valid], names, ranking)
    dvalid.reference = dtrain
    return lgb.train(
        params,
        dtrain,
        num_boost_round=max_rounds,
        valid_sets=[dvalid],
        callbacks=[
            lgb.early_stopping(early_stopping_rounds, first_metric_only=True, verbose=False)
        ],
    )


def cross_fit(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    names: list[str],
    params: dict,
    *,
    n_folds: int,
    seed: int,
    ranking: bool,
    max_rounds: int,
    early_stopping_rounds: int,
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Grouped K-fold out-of-fold raw scores, with early stopping inside each training part.

    Each outer fold's rows are scored by a booster that never saw them: its number of rounds is
    chosen by early stopping on an inner group split of the *training* part, so the out-of-fold
    scores (and a calibrator fitted on them) stay honest.

    Returns
    -------
    oof : raw score of every row from the fold that held it out.
    fold : outer fold index of every row.
    best_iterations : best round of each fold's booster.
    """
    oof = np.full(y.size, np.nan)
    fold_of = np.full(y.size, -1, dtype="int64")
    best: list[int] = []
    strat = np.zeros(y.size) if ranking else y
    outer = _splitter(n_folds, seed, ranking)
    for k, (tr, te) in enumerate(outer.split(X, strat, groups)):
        inner = _splitter(max(2, n_folds - 1), seed + 1 + k, ranking)
        itr, iva = next(inner.split(X[tr], strat[tr], groups[tr]))
        booster = _train(
            params,
            X,
            y,
            groups,
            names,
            ranking,
            tr[itr],
            tr[iva],
            max_rounds,
            early_stopping_rounds,
        )
        n = booster.best_iteration or booster.current_iteration()
        best.append(int(n))
        oof[te] = booster.predict(X[te], num_iteration=n, raw_score=True)
        fold_of[te] = k
    return oof, fold_of, best


def train_final(
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    names: list[str],
    params: dict,
    n_rounds: int,
    ranking: bool,
) -> lgb.Booster:
    """One booster on every row with a fixed number of rounds."""
    return lgb.train(params, _dataset(X, y, groups, names, ranking), num_boost_round=n_rounds)
