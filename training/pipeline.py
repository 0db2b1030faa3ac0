"""Training without tracking: contract tables + labels -> a :class:`models.Bundle` and its metrics.

Steps of :func:`fit_bundle`, in order, each seeded from ``TrainConfig.seed``:

1. **Split.** A share of the labelled creators (stratified by fraud kind) and of the brands is
   held out for validation. Every model trains on the training part only, so the validation
   metrics, and the champion comparison in ``training.tracking``, use data no model has seen.
2. **Text model** (``features.topics.TopicModel``) on the training creators' documents.
3. **Account model** on the labelled follower accounts of training creators, folds grouped by
   the creator followed (capped at ``account_max_accounts``, whole creators at a time).
4. **Expected-engagement curve** on training creators not labelled as buyers: "typical" means
   what honest creators of that platform and size get.
5. **Features** for every creator with these three fitted components (``features.build``).
6. **Fraud model** on the training creators, folds grouped by creator.
7. **Fit model** on the training brands' labelled pairs, folds grouped by brand; the pairs'
   ``fit_fraud_risk`` is the fraud model's out-of-fold risk for training creators (a creator
   never sees its own label through it) and its plain prediction for held-out creators.
8. **Validation** with :func:`evaluate_bundle`: the bundle is scored end to end, as a scorer
   would, on the held-out creators and brands.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import features as feature_builders
from features.audience import account_features
from features.dataset import CreatorData
from features.engagement import EngagementCurve, engagement_features
from features.topics import TopicModel, creator_documents
from models import metrics as M
from models.account import AccountModel
from models.bundle import Bundle
from models.fit import FitModel, brand_topics, pair_features
from models.fraud import FraudModel
from training.config import TrainConfig

__all__ = [
    "FRAUD_EXCLUDED_PREFIXES",
    "FRAUD_KINDS",
    "Split",
    "Prepared",
    "TrainResult",
    "split",
    "prepare",
    "fit_fraud",
    "fit_fit",
    "bundle_features",
    "evaluate_bundle",
    "fraud_kind_metrics",
    "fit_prepared",
    "fit_bundle",
]

#: Atomic fraud kinds reported separately when ``fraud_labels`` has a ``fraud_kind`` column
#: (the simulator's). A combined kind such as ``drip+likes`` counts towards each of its parts.
FRAUD_KINDS = ("burst", "drip", "likes", "pod", "f4f")


@dataclass(frozen=True)
class Split:
    """Which creators and brands train and which validate."""

    train_creators: pd.Index
    valid_creators: pd.Index
    train_brands: pd.Index
    valid_brands: pd.Index


@dataclass
class Prepared:
    """Everything up to the feature frame (steps 1-5), shared by training and tuning."""

    data: CreatorData
    labels: dict[str, pd.DataFrame]
    config: TrainConfig
    split: Split
    y: pd.Series  # 0/1 fraud label per labelled creator_id
    kind: pd.Series  # fraud kind per labelled creator_id ("" when unknown)
    text_model: TopicModel
    account_model: AccountModel | None
    curve: EngagementCurve
    features: pd.DataFrame  # every scorable creator
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def train_X(self) -> pd.DataFrame:
        """Feature rows of the labelled training creators."""
        return self.features.loc[self.split.train_creators]

    @property
    def train_y(self) -> np.ndarray:
        """Fraud labels of the training creators (0/1)."""
        return self.y.loc[self.split.train_creators].to_numpy(dtype="float64")


@dataclass
class TrainResult:
    """A trained bundle with its validation metrics and predictions.

    Attributes
    ----------
    bundle : the unsaved bundle (``bundle.save(folder)`` writes it with checksums).
    metrics : validation metrics of the bundle (:func:`evaluate_bundle`) plus the models'
        out-of-fold metrics on the training part, prefixed ``oof_``.
    valid_creators, valid_brands : the held-out creator and brand ids.
    predictions : one row per validation creator: ``creator_id, fraud_risk, label, fraud_kind``.
    fit_predictions : one row per validation pair: ``brand_id, creator_id, fit_score, fit_rank,
        raw_score, outcome``; empty without a fit model.
    features : the feature frame of every creator (plots, input examples).
    """

    bundle: Bundle
    metrics: dict[str, float]
    valid_creators: list[str]
    valid_brands: list[str]
    predictions: pd.DataFrame
    fit_predictions: pd.DataFrame
    features: pd.DataFrame
    config: TrainConfig
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Labels and split


def _fraud_labels(labels: Mapping[str, pd.DataFrame], ids: pd.Index) -> tuple[pd.Series, pd.Series]:
    if "fraud_labels" not in labels:
        raise ValueError("training needs a fraud_labels table (creator_id, bought_followers)")
    table = labels["fraud_labels"]
    flag = pd.array(table["bought_followers"], dtype="boolean")
    keep = ~pd.isna(flag) & table["creator_id"].isin(ids).to_numpy()
    cid = table["creator_id"].to_numpy(dtype=object)[keep]
    if pd.Index(cid).has_duplicates:
        raise ValueError("fraud_labels names a creator more than once")
    y = pd.Series(np.asarray(flag[keep], dtype="float64"), index=pd.Index(cid, name="creator_id"))
    if "fraud_kind" in table.columns:
        kind = table["fraud_kind"].astype(object).where(table["fraud_kind"].notna(), "")
        kind = pd.Series(kind.to_numpy(dtype=object)[keep], index=y.index)
    else:
        kind = pd.Series("", index=y.index, dtype=object)
    kind = kind.where(y == 1, "none")
    # Order of the creators table, so results never depend on the label file's row order.
    order = ids[ids.isin(y.index)]
    y, kind = y.reindex(order), kind.reindex(order)
    if y.nunique() < 2:
        raise ValueError("fraud_labels must hold both buyers and non-buyers among known creators")
    return y, kind


def _held_out(keys: pd.Series, share: float, rng: np.random.Generator) -> np.ndarray:
    """Mask of a ``share`` of rows per stratum (``keys``), drawn at random; at least one per
    stratum of two or more rows so that rare kinds reach validation too."""
    u = pd.Series(rng.random(len(keys)), index=keys.index)
    rank = u.groupby(keys.to_numpy()).rank(method="first")
    size = keys.map(keys.value_counts())
    take = np.where(size >= 2, np.maximum(1, np.round(share * size)), 0)
    return (rank <= take).to_numpy()


def split(y: pd.Series, kind: pd.Series, brand_ids: Sequence[str], config: TrainConfig) -> Split:
    """Hold out ``valid_share`` of labelled creators (stratified by kind) and of brands.

    At least three brands stay in training when there are four or more (the ranker's grouped
    folds need them); with fewer brands none is held out.
    """
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 101]))
    valid = _held_out(kind, config.valid_share, rng)
    brands = pd.Index(pd.unique(np.asarray(brand_ids, dtype=object)), name="brand_id")
    n_valid = min(max(1, round(config.valid_share * len(brands))), max(0, len(brands) - 3))
    perm = np.random.default_rng(np.random.SeedSequence([config.seed, 102])).permutation(
        len(brands)
    )
    valid_b = np.zeros(len(brands), dtype=bool)
    valid_b[perm[:n_valid]] = True
    return Split(
        train_creators=y.index[~valid],
        valid_creators=y.index[valid],
        train_brands=brands[~valid_b],
        valid_brands=brands[valid_b],
    )


# --------------------------------------------------------------------------------------------
# Steps 2-5


def _subset(data: CreatorData, ids: pd.Index) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    creators = data.creators[data.creators["creator_id"].isin(ids)]
    posts = data.posts
    if posts is not None:
        posts = posts[posts["creator_id"].isin(ids)]
    return creators, posts


def _fit_text(data: CreatorData, ids: pd.Index, config: TrainConfig) -> TopicModel:
    creators, posts = _subset(data, ids)
    days = feature_builders.resolve_as_of(data).reindex(creators["creator_id"])
    docs = creator_documents(creators, posts, days)
    model = TopicModel(n_topics=config.n_topics, random_state=config.seed, **config.text_params)
    return model.fit(docs.to_numpy())


def _fit_account(
    labels: Mapping[str, pd.DataFrame], ids: pd.Index, config: TrainConfig
) -> AccountModel | None:
    table = labels.get("account_labels")
    if table is None or not len(table):
        return None
    table = table[pd.notna(pd.array(table["is_fake"], dtype="boolean"))]
    rng = np.random.default_rng(np.random.SeedSequence([config.seed, 103]))
    if "creator_id" in table.columns:
        table = table[table["creator_id"].isin(ids)]
        # Whole creators' samples in random order until the cap: folds stay grouped by creator.
        counts = table["creator_id"].value_counts().reindex(ids).dropna()
        order = counts.iloc[rng.permutation(len(counts))]
        chosen = order.index[np.cumsum(order.to_numpy()) <= config.account_max_accounts]
        table = table[table["creator_id"].isin(chosen)]
        groups = table["creator_id"].to_numpy(dtype=object)
    else:
        if len(table) > config.account_max_accounts:
            table = table.iloc[np.sort(rng.permutation(len(table))[: config.account_max_accounts])]
        groups = None
    y = np.asarray(pd.array(table["is_fake"], dtype="boolean"), dtype="float64")
    if len(np.unique(y)) < 2 or len(table) < 50:
        return None
    return AccountModel().fit(
        account_features(table),
        y,
        groups,
        params=config.lgb_params("account"),
        seed=config.seed,
        n_folds=config.account_n_folds,
        # The flag threshold that makes the flag-count fake share least noisy (see
        # models.account.min_variance_threshold and docs/evaluation.md); that estimate is
        # reported next to the likelihood one, and its tpr/fpr size the interval's model term.
        threshold="min_variance",
        calibration=config.calibration,
        max_rounds=config.max_rounds,
        early_stopping_rounds=config.early_stopping_rounds,
    )


def _fit_curve(data: CreatorData, honest: pd.Index) -> EngagementCurve:
    creators, posts = _subset(data, honest)
    days = feature_builders.resolve_as_of(data).reindex(creators["creator_id"])
    eng = engagement_features(posts, creators, data.follower_history, days)
    return EngagementCurve().fit(
        creators["followers"].to_numpy(dtype="float64", na_value=np.nan),
        creators["platform"].to_numpy(dtype=object),
        eng["eng_er_median"].to_numpy(dtype="float64"),
    )


def prepare(data: CreatorData, labels: Mapping[str, pd.DataFrame], config: TrainConfig) -> Prepared:
    """Split, fit the text model, account model and engagement curve, build all features."""
    timings: dict[str, float] = {}
    notes: list[str] = []
    ids = pd.Index(data.creators["creator_id"], name="creator_id")
    y, kind = _fraud_labels(labels, ids)
    brand_ids = (
        data.brands["brand_id"].astype(str).tolist()
        if data.brands is not None and "fit_labels" in labels
        else []
    )
    parts = split(y, kind, brand_ids, config)

    t = time.perf_counter()
    text_model = _fit_text(data, parts.train_creators, config)
    timings["text_model"] = time.perf_counter() - t

    t = time.perf_counter()
    account_model = _fit_account(labels, parts.train_creators, config)
    if account_model is None:
        notes.append("no usable account_labels: audience fake share stays unknown (NaN)")
    timings["account_model"] = time.perf_counter() - t

    t = time.perf_counter()
    honest = parts.train_creators[y.loc[parts.train_creators].to_numpy() == 0]
    try:
        curve = _fit_curve(data, honest)
    except ValueError as exc:  # no posts with a measurable rate among honest creators
        curve = EngagementCurve.prior()
        notes.append(f"engagement curve: published prior kept ({exc})")
    timings["engagement_curve"] = time.perf_counter() - t

    t = time.perf_counter()
    frame = feature_builders.build(
        data, text_model=text_model, account_model=account_model, curve=curve
    )
    timings["features"] = time.perf_counter() - t
    return Prepared(
        data=data,
        labels=dict(labels),
        config=config,
        split=parts,
        y=y,
        kind=kind,
        text_model=text_model,
        account_model=account_model,
        curve=curve,
        features=frame,
        timings=timings,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# Steps 6-7


#: Feature families the fraud model does not read. ``fraud_risk`` answers "did this creator buy
#: followers or engagement"; a low-quality audience is not evidence of that (FACTS.md: bots
#: follow everyone). With the audience family, honest creators whose true fake share is 0.4 or
#: more got a medium or high risk 6.8% of the time against 2.0% for other honest creators;
#: without it 3.4% against 1.7%, for a validation ROC-AUC of 0.982 instead of 0.989 (3,000
#: simulated creators, seed 11). The audience is reported on its own (``low_quality_audience``).
FRAUD_EXCLUDED_PREFIXES: tuple[str, ...] = ("aud_",)


def fit_fraud(prep: Prepared, config: TrainConfig | None = None) -> FraudModel:
    """The fraud model on the training creators (``config`` defaults to ``prep.config``).

    It reads every feature except the families in :data:`FRAUD_EXCLUDED_PREFIXES`.
    """
    config = config or prep.config
    X = prep.train_X
    X = X.loc[:, [c for c in X.columns if not c.startswith(FRAUD_EXCLUDED_PREFIXES)]]
    return FraudModel().fit(
        X,
        prep.train_y,
        X.index.to_numpy(dtype=object),
        params=config.lgb_params("fraud"),
        seed=config.seed,
        n_folds=config.n_folds,
        calibration=config.calibration,
        max_rounds=config.max_rounds,
        early_stopping_rounds=config.early_stopping_rounds,
    )


def _fraud_risk(fraud_model: FraudModel, frame: pd.DataFrame, oof: pd.Series | None) -> pd.Series:
    risk = pd.Series(fraud_model.predict_proba(frame), index=frame.index, name="fraud_risk")
    if oof is not None:
        risk.loc[oof.index] = oof.to_numpy()
    return risk


def _labelled_pairs(data: CreatorData, labels: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    table = labels.get("fit_labels")
    if table is None or data.brands is None:
        return pd.DataFrame(columns=["brand_id", "creator_id", "outcome"])
    known_b = set(data.brands["brand_id"].astype(str))
    known_c = set(data.creators["creator_id"])
    out = table.loc[:, ["brand_id", "creator_id", "outcome"]].copy()
    out["brand_id"] = out["brand_id"].astype(str)
    out["outcome"] = pd.to_numeric(out["outcome"], errors="coerce")
    ok = out["brand_id"].isin(known_b) & out["creator_id"].isin(known_c) & out["outcome"].notna()
    return out[ok].reset_index(drop=True)


def _pairs_frame(
    bundle_text: TopicModel,
    data: CreatorData,
    frame: pd.DataFrame,
    risk: pd.Series,
    pairs: pd.DataFrame,
) -> pd.DataFrame:
    brief, excluded = brand_topics(bundle_text, data.brands)
    out = pair_features(data.brands, data.creators, frame, brief, excluded, risk, pairs)
    out["outcome"] = pairs["outcome"].to_numpy(dtype="float64")
    return out


def fit_fit(
    prep: Prepared, fraud_model: FraudModel, config: TrainConfig | None = None
) -> FitModel | None:
    """The brand-fit ranker on the training brands' pairs, or None without fit labels."""
    config = config or prep.config
    pairs = _labelled_pairs(prep.data, prep.labels)
    pairs = pairs[pairs["brand_id"].isin(prep.split.train_brands)].reset_index(drop=True)
    n_brands = pairs["brand_id"].nunique()
    if n_brands < 3:
        return None
    oof = pd.Series(fraud_model.oof_, index=prep.split.train_creators)
    risk = _fraud_risk(fraud_model, prep.features, oof)
    X = _pairs_frame(prep.text_model, prep.data, prep.features, risk, pairs)
    return FitModel().fit(
        X.drop(columns="outcome"),
        X["outcome"].to_numpy(),
        params=config.lgb_params("fit"),
        seed=config.seed,
        n_folds=min(config.fit_n_folds, n_brands),
        good_outcome=config.good_outcome,
        max_rounds=config.fit_max_rounds,
        early_stopping_rounds=config.early_stopping_rounds,
    )


# --------------------------------------------------------------------------------------------
# Step 8 and the whole pipeline


def bundle_features(bundle: Bundle, data: CreatorData) -> pd.DataFrame:
    """The feature frame of ``data`` as ``bundle`` sees it (its text, account and curve parts)."""
    return feature_builders.build(
        data,
        text_model=bundle.text_model,
        account_model=bundle.account_model,
        curve=bundle.engagement_curve,
    )


def _binary_metrics(prefix: str, y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    if y.size == 0 or np.unique(y).size < 2:
        return {}
    return {
        f"{prefix}_roc_auc": M.roc_auc(y, p),
        f"{prefix}_pr_auc": M.pr_auc(y, p),
        f"{prefix}_brier": M.brier(y, p),
        f"{prefix}_ece": M.expected_calibration_error(y, p),
        f"{prefix}_recall_at_1pct_fpr": M.recall_at_fpr(y, p, 0.01),
        f"{prefix}_recall_at_5pct_fpr": M.recall_at_fpr(y, p, 0.05),
    }


def fraud_kind_metrics(y: np.ndarray, p: np.ndarray, kind: np.ndarray) -> dict[str, float]:
    """ROC-AUC and recall at 1% / 5% false-positive rate for each fraud kind against all
    non-buyers (the false-positive rate is the same for every kind), plus the kind's count."""
    out: dict[str, float] = {}
    neg = y == 0
    parts = pd.Series(kind, dtype=object).fillna("").str.split("+")
    for k in FRAUD_KINDS:
        pos = (y == 1) & parts.map(lambda ks, k=k: k in ks).to_numpy(dtype=bool)
        if not pos.any() or not neg.any():
            continue
        yy = np.r_[np.ones(pos.sum()), np.zeros(neg.sum())]
        pp = np.r_[p[pos], p[neg]]
        out[f"fraud_{k}_n"] = float(pos.sum())
        out[f"fraud_{k}_roc_auc"] = M.roc_auc(yy, pp)
        out[f"fraud_{k}_recall_at_1pct_fpr"] = M.recall_at_fpr(yy, pp, 0.01)
        out[f"fraud_{k}_recall_at_5pct_fpr"] = M.recall_at_fpr(yy, pp, 0.05)
    return out


def evaluate_bundle(
    bundle: Bundle,
    data: CreatorData,
    labels: Mapping[str, pd.DataFrame],
    valid_creators: Sequence[str],
    valid_brands: Sequence[str] = (),
    frame: pd.DataFrame | None = None,
) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame]:
    """Score ``bundle`` end to end on held-out creators and brands; return metrics and rows.

    The bundle builds its own features (``frame`` may pass them in when already built with this
    bundle), so two bundles evaluated on the same ``valid_creators`` and ``valid_brands`` are
    compared on the same data.

    Returns
    -------
    metrics : ``fraud_*`` (ROC-AUC, PR-AUC, Brier, ECE, recall at 1% / 5% FPR, overall and per
        kind), ``fit_ndcg_at_10`` / ``fit_ndcg_at_5`` / ``fit_good_roc_auc`` with a fit model,
        ``account_*`` with an account model and account labels.
    predictions : ``creator_id, fraud_risk, label, fraud_kind`` per validation creator.
    fit_predictions : ``brand_id, creator_id, fit_score, fit_rank, raw_score, outcome``.
    """
    frame = bundle_features(bundle, data) if frame is None else frame
    ids = pd.Index(data.creators["creator_id"], name="creator_id")
    y_all, kind_all = _fraud_labels(labels, ids)
    valid = pd.Index(valid_creators, name="creator_id")
    valid = valid[valid.isin(y_all.index)]
    y = y_all.loc[valid].to_numpy(dtype="float64")
    kind = kind_all.loc[valid].to_numpy(dtype=object)
    p = bundle.fraud_model.predict_proba(frame.loc[valid])
    out = {
        "valid_n_creators": float(len(valid)),
        "valid_positive_rate": float(y.mean()) if y.size else float("nan"),
    }
    out |= _binary_metrics("fraud", y, p)
    out |= fraud_kind_metrics(y, p, kind)
    predictions = pd.DataFrame(
        {
            "creator_id": valid.to_numpy(dtype=object),
            "fraud_risk": p,
            "label": y,
            "fraud_kind": kind,
        }
    )

    fit_rows = pd.DataFrame(
        columns=["brand_id", "creator_id", "fit_score", "fit_rank", "raw_score", "outcome"]
    )
    pairs = _labelled_pairs(data, labels)
    pairs = pairs[pairs["brand_id"].isin(list(valid_brands))].reset_index(drop=True)
    if bundle.fit_model is not None and bundle.text_model is not None and len(pairs):
        risk = _fraud_risk(bundle.fraud_model, frame, None)
        X = _pairs_frame(bundle.text_model, data, frame, risk, pairs)
        fit_rows = bundle.fit_model.predict(X)
        fit_rows["raw_score"] = bundle.fit_model.raw_score(X)
        fit_rows["outcome"] = X["outcome"].to_numpy()
        outcome = fit_rows["outcome"].to_numpy()
        out["valid_n_pairs"] = float(len(fit_rows))
        out["fit_ndcg_at_10"] = M.ndcg_at_k(outcome, fit_rows["raw_score"], fit_rows["brand_id"])
        out["fit_ndcg_at_5"] = M.ndcg_at_k(outcome, fit_rows["raw_score"], fit_rows["brand_id"], 5)
        good = (outcome >= bundle.fit_model.good_outcome_).astype("float64")
        if 0 < good.sum() < good.size:
            out["fit_good_roc_auc"] = M.roc_auc(good, fit_rows["fit_score"])
            out["fit_good_brier"] = M.brier(good, fit_rows["fit_score"])

    accounts = labels.get("account_labels")
    if bundle.account_model is not None and accounts is not None and "creator_id" in accounts:
        held = accounts[accounts["creator_id"].isin(valid)]
        flag = pd.array(held["is_fake"], dtype="boolean")
        held = held[~pd.isna(flag)]
        ya = np.asarray(pd.array(held["is_fake"], dtype="boolean"), dtype="float64")
        if len(held):
            pa = bundle.account_model.predict_fake(account_features(held))
            out |= _binary_metrics("account", ya, pa)
    return out, predictions, fit_rows


def _oof_metrics(fraud: FraudModel, account: AccountModel | None, fit: FitModel | None) -> dict:
    out = {f"oof_fraud_{k}": v for k, v in fraud.metrics_.items()}
    if account is not None:
        out |= {f"oof_account_{k}": v for k, v in account.metrics_.items()}
    if fit is not None:
        out |= {f"oof_fit_{k}": v for k, v in fit.metrics_.items()}
    return out


def fit_prepared(prep: Prepared, config: TrainConfig | None = None) -> TrainResult:
    """Steps 6-8 on prepared features: fraud and fit models, bundle, validation.

    ``config`` may differ from ``prep.config`` in the fraud and fit settings only (tuning
    reuses one :class:`Prepared` for every trial); it defaults to ``prep.config``.
    """
    config = config or prep.config
    timings = dict(prep.timings)
    notes = list(prep.notes)
    t = time.perf_counter()
    fraud = fit_fraud(prep, config)
    timings["fraud_model"] = time.perf_counter() - t
    t = time.perf_counter()
    fit = fit_fit(prep, fraud, config)
    timings["fit_model"] = time.perf_counter() - t
    if fit is None:
        notes.append("no fit model: fewer than 3 training brands with fit labels")
    bundle = Bundle(
        fraud_model=fraud,
        feature_schema=[(str(c), str(prep.features[c].dtype)) for c in prep.features.columns],
        account_model=prep.account_model,
        fit_model=fit,
        text_model=prep.text_model,
        engagement_curve=prep.curve,
    )
    t = time.perf_counter()
    metrics, predictions, fit_rows = evaluate_bundle(
        bundle,
        prep.data,
        prep.labels,
        prep.split.valid_creators,
        prep.split.valid_brands,
        frame=prep.features,
    )
    timings["validation"] = time.perf_counter() - t
    return TrainResult(
        bundle=bundle,
        metrics=metrics | _oof_metrics(fraud, prep.account_model, fit),
        valid_creators=prep.split.valid_creators.tolist(),
        valid_brands=prep.split.valid_brands.tolist(),
        predictions=predictions,
        fit_predictions=fit_rows,
        features=prep.features,
        config=config,
        timings=timings,
        notes=notes,
    )


def fit_bundle(
    data: CreatorData, labels: Mapping[str, pd.DataFrame], config: TrainConfig | None = None
) -> TrainResult:
    """Train every component on ``data`` and ``labels`` and validate the bundle (no tracking).

    Parameters
    ----------
    data : loaded contract tables (``features.dataset.load``).
    labels : label tables by name (``features.dataset.load_labels``): ``fraud_labels``
        (required), ``fit_labels`` and ``account_labels`` (optional); an extra ``fraud_kind``
        column in ``fraud_labels`` adds per-kind metrics.
    config : training settings (default ``TrainConfig()``).

    Returns
    -------
    TrainResult
        The bundle, validation and out-of-fold metrics, the held-out ids and predictions.
    """
    config = config or TrainConfig()
    return fit_prepared(prepare(data, labels, config), config)
