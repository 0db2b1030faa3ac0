"""Confidence: the fake-share interval (hand values, coverage on simulated creators) and grades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.confidence import (
    account_rate_counts,
    audience_band,
    fake_share_interval,
    fraud_confidence,
    likelihood_share_bounds,
    likelihood_share_interval,
    low_quality_share,
    wilson_interval,
)

FAST = {"learning_rate": 0.2, "min_data_in_leaf": 10, "num_leaves": 15, "max_depth": 4}


def test_wilson_interval_by_hand():
    # k=10, n=100, z=1.6449: centre (0.1 + 0.01353) / 1.02706 = 0.1105, half-width 0.0495.
    lo, hi = wilson_interval(np.array([10.0, 0.0]), np.array([100.0, 0.0]), 0.9)
    assert lo[0] == pytest.approx(0.0610, abs=5e-4)
    assert hi[0] == pytest.approx(0.1600, abs=5e-4)
    assert np.isnan(lo[1]) and np.isnan(hi[1])


def test_interval_by_hand_and_unknown_rows():
    out = fake_share_interval(
        pd.Series([100.0, 0.0, np.nan], index=["a", "b", "c"]), [31.0, 0.0, 0.0], 0.8, 0.1
    )
    assert list(out.index) == ["a", "b", "c"]
    # Wilson for 31/100 is [0.2398, 0.3903]; through (r - 0.1) / 0.7 that is [0.200, 0.415].
    assert out.loc["a"].tolist() == pytest.approx([0.3, 0.1997, 0.4147], abs=5e-4)
    assert out.loc[["b", "c"]].isna().all().all()


def test_few_heldout_accounts_widen_the_interval():
    exact = fake_share_interval([200.0], [60.0], 0.8, 0.05)
    few = fake_share_interval([200.0], [60.0], 0.8, 0.05, n_fake_heldout=40, n_real_heldout=60)
    many = fake_share_interval([200.0], [60.0], 0.8, 0.05, 1e6, 1e6)
    assert few["low"].iloc[0] < exact["low"].iloc[0] - 0.01
    assert few["high"].iloc[0] > exact["high"].iloc[0] + 0.01
    assert many.to_numpy() == pytest.approx(exact.to_numpy(), abs=1e-4)


def test_bad_rates_raise():
    with pytest.raises(ValueError, match="fpr < tpr"):
        fake_share_interval([100.0], [10.0], 0.1, 0.1)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 2_000),
    frac=st.floats(0, 1),
    tpr=st.floats(0.3, 1.0),
    fpr=st.floats(0.0, 0.25),
    heldout=st.integers(10, 10_000),
)
def test_interval_is_ordered_bounded_and_holds_the_estimate(n, frac, tpr, fpr, heldout):
    k = np.floor(frac * n)
    out = fake_share_interval([float(n)], [k], tpr, fpr, heldout, heldout).iloc[0]
    assert 0.0 <= out["low"] <= out["fake_share"] <= out["high"] <= 1.0


def test_rate_counts_from_metrics():
    assert account_rate_counts({"n_rows": 1000.0, "positive_rate": 0.25}) == (250, 750)
    assert all(np.isnan(v) for v in account_rate_counts({}))


@pytest.fixture(scope="module")
def held_out_world():
    """Account model trained on half of a simulated world; the other half's samples and truth."""
    from features.audience import account_features, fake_share_table
    from models import AccountModel
    from training.simulate import simulate

    world = simulate(500, seed=21)
    labels = world.labels["account_labels"]
    creators = world.tables["creators"]
    ids = creators["creator_id"].to_numpy(dtype=object)
    train = set(ids[::2])
    rows = labels[labels["creator_id"].isin(train)]
    model = AccountModel().fit(
        account_features(rows),
        rows["is_fake"].astype("float64").to_numpy(),
        rows["creator_id"].to_numpy(dtype=object),
        params=FAST,
        n_folds=3,
        max_rounds=60,
        early_stopping_rounds=10,
        threshold="min_variance",
    )
    test = creators[~creators["creator_id"].isin(train)]
    audience = world.tables["audience_sample"]
    audience = audience[audience["creator_id"].isin(test["creator_id"])]
    truth = world.labels["audience_truth"].set_index("creator_id")["fake_share"]
    return model, test, audience, truth, fake_share_table


def _intervals(model, creators, audience, fake_share_table, kind="likelihood"):
    """Each creator's estimate and interval: ``kind`` "likelihood" (``aud_fake_share``) or
    "count" (the flag-count estimate), as ``fake_share`` so that both read alike."""
    table = fake_share_table(audience, creators, model)
    table = table[table["n"] > 0]
    n_fake, n_real = account_rate_counts(model.metrics_)
    if kind == "likelihood":
        iv = likelihood_share_interval(
            table["fake_share"], table["fake_share_se"], model.tpr, model.fpr, n_fake, n_real
        )
    else:
        iv = fake_share_interval(
            table["n"], table["n_flagged"], model.tpr, model.fpr, n_fake, n_real, level=0.9
        )
        table = table.assign(fake_share=table["count_share"])
    return table, iv


@pytest.mark.parametrize("kind", ["likelihood", "count"])
def test_interval_covers_the_true_share_of_simulated_creators(held_out_world, kind):
    model, creators, audience, truth, fake_share_table = held_out_world
    table, iv = _intervals(model, creators, audience, fake_share_table, kind)
    assert len(iv) > 200
    # The interval's point is the estimate of the table.
    assert iv["fake_share"].to_numpy() == pytest.approx(table["fake_share"].to_numpy())
    true = truth.reindex(iv.index)
    inside = (true >= iv["low"]) & (true <= iv["high"])
    assert inside.mean() >= 0.85


@pytest.mark.parametrize("kind", ["likelihood", "count"])
def test_half_the_sample_moves_the_share_less_than_its_interval_says(held_out_world, kind):
    model, creators, audience, truth, fake_share_table = held_out_world
    rng = np.random.default_rng(5)
    half = audience[rng.random(len(audience)) < 0.5]
    _, full = _intervals(model, creators, audience, fake_share_table, kind)
    _, part = _intervals(model, creators, half, fake_share_table, kind)
    part = part.reindex(full.index)
    inside = (full["fake_share"] >= part["low"]) & (full["fake_share"] <= part["high"])
    assert inside.mean() >= 0.9
    # A smaller sample says it knows less.
    assert (part["high"] - part["low"]).mean() > (full["high"] - full["low"]).mean()


@settings(max_examples=200, deadline=None)
@given(
    share=st.floats(0.0, 1.0),
    se=st.floats(0.0, 0.5),
    tpr=st.floats(0.3, 1.0),
    fpr=st.floats(0.0, 0.25),
    heldout=st.integers(10, 10_000),
)
def test_likelihood_interval_is_ordered_bounded_and_holds_the_estimate(
    share, se, tpr, fpr, heldout
):
    out = likelihood_share_interval([share], [se], tpr, fpr, heldout, heldout).iloc[0]
    assert 0.0 <= out["low"] <= out["fake_share"] <= out["high"] <= 1.0
    # Knowing the model less well never narrows it.
    wider = likelihood_share_interval([share], [se], tpr, fpr, 10, 10).iloc[0]
    assert wider["high"] - wider["low"] >= out["high"] - out["low"] - 1e-12


def test_likelihood_bounds_are_the_interval_columns():
    share = pd.Series([0.0, 0.3, np.nan, 1.0], index=list("abcd"))
    se = np.array([0.01, 0.05, np.nan, 0.2])
    frame = likelihood_share_interval(share, se, 0.8, 0.1, 400, 1600, level=0.8)
    p, low, high = likelihood_share_bounds(share, se, 0.8, 0.1, 400, 1600, level=0.8)
    assert frame.index.tolist() == list("abcd")
    for name, values in zip(("fake_share", "low", "high"), (p, low, high), strict=True):
        np.testing.assert_array_equal(frame[name].to_numpy(), values)
    with pytest.raises(ValueError, match="fpr < tpr"):
        likelihood_share_bounds(share, se, 0.1, 0.2)
    with pytest.raises(ValueError, match="level"):
        likelihood_share_bounds(share, se, 0.8, 0.1, level=1.0)


def test_confidence_grades_by_hand():
    counts = pd.DataFrame(
        {
            "history_days": [180, 180, 20, 180, np.nan, 5],
            "history_points": [150, 150, 6, 150, np.nan, 3],
            "posts": [30, 30, 5, 2, 12, 2],
            "comments": [100, 0, 0, 0, 0, 0],
        }
    )
    # full everything / no comments / partial history and posts / full history alone /
    # full posts alone (no history known) / too little of everything
    assert fraud_confidence(counts).tolist() == [
        "high",
        "medium",
        "medium",
        "medium",
        "medium",
        "low",
    ]


def test_low_quality_band_uses_vendor_alarm_levels():
    share = low_quality_share([0.10, 0.10, 0.62, np.nan, np.nan], [0.05, 0.30, 0.1, 0.5, np.nan])
    assert share.tolist()[:4] == [0.10, 0.30, 0.62, 0.5]
    assert audience_band(share).tolist() == ["low", "medium", "high", "high", None]
