"""fit_bundle: grouped splits, every component trained, honest validation, reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import Bundle
from training.pipeline import (
    FRAUD_EXCLUDED_PREFIXES,
    evaluate_bundle,
    fit_bundle,
    fraud_kind_metrics,
    split,
)


def test_bundle_has_every_component(trained):
    b = trained.bundle
    assert b.account_model is not None and b.fit_model is not None
    assert b.text_model is not None and b.engagement_curve is not None
    assert b.feature_names == list(trained.features.columns)
    # "Bought" is kept apart from "low-quality audience": the fraud model never sees aud_*.
    assert b.fraud_model.feature_names_ == [
        c for c in b.feature_names if not c.startswith(FRAUD_EXCLUDED_PREFIXES)
    ]
    assert any(c.startswith("aud_") for c in b.feature_names)
    assert b.text_model.n_topics == trained.config.n_topics
    # The curve is fitted, not the published prior (which has no samples).
    assert b.engagement_curve.n_samples_["pooled"] > 100


def test_validation_creators_and_brands_are_held_out(trained, small_world):
    data, labels = small_world
    valid = set(trained.valid_creators)
    n_labelled = len(labels["fraud_labels"])
    # The fraud model's out-of-fold rows are exactly the training creators.
    assert len(trained.bundle.fraud_model.oof_y_) == n_labelled - len(valid)
    assert 0.15 < len(valid) / n_labelled < 0.25
    assert set(trained.predictions["creator_id"]) == valid
    assert set(trained.fit_predictions["brand_id"]) == set(trained.valid_brands)
    n_train_brands = data.brands["brand_id"].nunique() - len(trained.valid_brands)
    assert trained.bundle.fit_model.metrics_["n_brands"] == n_train_brands


def test_metrics_cover_every_model_and_fraud_kind(trained):
    m = trained.metrics
    for key in (
        "fraud_roc_auc",
        "fraud_pr_auc",
        "fraud_brier",
        "fraud_ece",
        "fraud_recall_at_1pct_fpr",
        "fraud_recall_at_5pct_fpr",
        "fraud_burst_recall_at_5pct_fpr",
        "fit_ndcg_at_10",
        "account_roc_auc",
        "oof_fraud_roc_auc",
    ):
        assert key in m and 0.0 <= m[key] <= 1.0, key
    # Even a small world's bought-follower bursts are easy: a model that learnt nothing is ~0.5.
    assert m["fraud_roc_auc"] > 0.8
    assert m["account_roc_auc"] > 0.8


def test_evaluate_bundle_reproduces_the_validation_metrics(trained, small_world):
    """The champion comparison re-scores bundles from scratch: it must agree with training."""
    data, labels = small_world
    again, pred, fit_rows = evaluate_bundle(
        trained.bundle, data, labels, trained.valid_creators, trained.valid_brands
    )
    for key in ("fraud_roc_auc", "fraud_ece", "fit_ndcg_at_10", "account_roc_auc"):
        assert again[key] == pytest.approx(trained.metrics[key], abs=1e-12)
    pd.testing.assert_frame_equal(pred, trained.predictions)


def test_same_seed_and_data_give_identical_files(trained, small_world, quick_config, tmp_path):
    data, labels = small_world
    again = fit_bundle(data, labels, quick_config)
    for name in ("fraud_model", "fit_model", "account_model"):
        first = getattr(trained.bundle, name).booster_.model_to_string()
        assert getattr(again.bundle, name).booster_.model_to_string() == first, name
    a = Bundle.save(trained.bundle, tmp_path / "a")
    b = again.bundle.save(tmp_path / "b")
    assert a == b  # every file, text model and curve included


def test_another_seed_gives_another_split(small_world, quick_config, trained):
    data, labels = small_world
    other = fit_bundle(data, labels, quick_config.__class__.quick(seed=1))
    assert set(other.valid_creators) != set(trained.valid_creators)


def test_split_is_stratified_by_kind_and_keeps_three_training_brands(quick_config):
    ids = pd.Index([f"c{i}" for i in range(100)])
    kind = pd.Series(["none"] * 80 + ["burst"] * 15 + ["drip"] * 5, index=ids)
    y = (kind != "none").astype(float)
    parts = split(y, kind, ["b1", "b2", "b3", "b4"], quick_config)
    held = kind.loc[parts.valid_creators].value_counts()
    assert (held["none"], held["burst"], held["drip"]) == (16, 3, 1)
    assert len(parts.train_brands) == 3 and len(parts.valid_brands) == 1


def test_kind_metrics_count_combined_kinds_towards_each_part():
    y = np.array([0, 0, 0, 0, 1, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.35, 0.8])
    kind = np.array(["none"] * 4 + ["drip", "likes", "drip+likes"], dtype=object)
    m = fraud_kind_metrics(y, p, kind)
    assert m["fraud_drip_n"] == 2 and m["fraud_likes_n"] == 2
    assert m["fraud_drip_roc_auc"] == 1.0
    assert m["fraud_likes_roc_auc"] == pytest.approx(7 / 8)
    assert "fraud_pod_n" not in m


def test_training_needs_both_classes(small_world, quick_config):
    data, labels = small_world
    honest = labels["fraud_labels"].assign(bought_followers=False)
    with pytest.raises(ValueError, match="both"):
        fit_bundle(data, {**labels, "fraud_labels": honest}, quick_config)
