import numpy as np
import pandas as pd
import pytest

from models import metrics


def test_ece_zero_for_perfectly_calibrated_bins():
    # Bin [0.2, 0.3): 10 rows at 0.2, 2 positives; bin [0.7, 0.8): 10 rows at 0.7, 7 positives.
    p = np.r_[np.full(10, 0.2), np.full(10, 0.7)]
    y = np.r_[[1, 1], np.zeros(8), np.ones(7), np.zeros(3)]
    assert metrics.expected_calibration_error(y, p) == pytest.approx(0.0, abs=1e-12)


def test_ece_by_hand():
    # All at 0.9 with half positive: one bin, gap |0.5 - 0.9| = 0.4.
    assert metrics.expected_calibration_error([0, 1, 0, 1], [0.9] * 4) == pytest.approx(0.4)
    # Two bins of 2 rows: gaps |0 - 0.1| and |1 - 0.8|, weighted equally -> 0.15.
    y, p = [0, 0, 1, 1], [0.1, 0.1, 0.8, 0.8]
    assert metrics.expected_calibration_error(y, p) == pytest.approx(0.15)


def test_reliability_table_counts_and_rates():
    t = metrics.reliability_table([0, 1, 1, 1], [0.05, 0.15, 0.95, 1.0], n_bins=10)
    assert t["count"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert t.loc[9, "fraction_positive"] == 1.0
    assert t.loc[9, "mean_predicted"] == pytest.approx(0.975)
    assert np.isnan(t.loc[5, "mean_predicted"])
    q = metrics.reliability_table([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], n_bins=2, strategy="quantile")
    assert q["count"].tolist() == [2, 2]


def test_recall_at_fpr_tiny_example():
    y = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
    p = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.97, 0.85, 0.3]
    # Threshold 0.97 flags 2 positives and no negative; flagging 0.85 costs 2 negatives (20%).
    assert metrics.recall_at_fpr(y, p, fpr=0.0) == 0.5
    assert metrics.recall_at_fpr(y, p, fpr=0.1) == 0.5
    assert metrics.recall_at_fpr(y, p, fpr=0.2) == 0.75


def test_ndcg_hand_example_and_mean_over_groups():
    # Brand a ranks rel 2, 0, 3: DCG = 3 + 0 + 7/2 = 6.5; ideal = 7 + 3/log2(3) = 8.8928.
    # Brand b is perfectly ordered (1.0); brand c has no relevant pair and is left out.
    y = [3, 2, 0, 1, 0, 0, 0]
    s = [0.1, 0.9, 0.5, 0.8, 0.2, 0.3, 0.1]
    g = ["a", "a", "a", "b", "b", "c", "c"]
    expected_a = 6.5 / (7 + 3 / np.log2(3))
    assert metrics.ndcg_at_k(y, s, g, k=3) == pytest.approx((expected_a + 1.0) / 2)
    # k=1 for brand a: top row has rel 2 (gain 3) vs ideal 7.
    assert metrics.ndcg_at_k(y[:3], s[:3], g[:3], k=1) == pytest.approx(3 / 7)


def test_sklearn_backed_metrics():
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    assert metrics.roc_auc(y, p) == pytest.approx(0.75)
    assert metrics.brier(y, p) == pytest.approx(np.mean((p - y) ** 2))
    assert metrics.pr_auc(y, p) == pytest.approx((1 + 2 / 3) / 2)
    with pytest.raises(ValueError, match="differ in length"):
        metrics.brier(y, p[:3])
    assert isinstance(metrics.reliability_table(y, p), pd.DataFrame)
