"""Small synthetic frames for the model tests (explicit seeds, a few hundred rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

FAST = {"learning_rate": 0.2, "min_data_in_leaf": 10}


def fraud_frame(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Creator features where bought followers show as a jump, low engagement and junk comments."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(float)
    X = pd.DataFrame(
        {
            "growth_max_jump_1d_rel": np.where(
                y == 1, rng.uniform(0.1, 0.6, n), rng.uniform(0.0, 0.15, n)
            ),
            "eng_er_vs_expected": np.where(
                y == 1, rng.uniform(0.1, 0.8, n), rng.uniform(0.5, 2, n)
            ),
            "cmt_low_effort_share": rng.uniform(0, 1, n),
            "noise": rng.normal(size=n),
        },
        index=pd.Index([f"c{i:04d}" for i in range(n)], name="creator_id"),
    )
    X.loc[X.sample(frac=0.1, random_state=seed).index, "cmt_low_effort_share"] = np.nan
    return X, y


@pytest.fixture(scope="session")
def fraud_data() -> tuple[pd.DataFrame, np.ndarray]:
    return fraud_frame()


@pytest.fixture(scope="session")
def fraud_model(fraud_data):
    from models import FraudModel

    X, y = fraud_data
    return FraudModel().fit(
        X, y, X.index, params=FAST, n_folds=4, max_rounds=200, early_stopping_rounds=20
    )


@pytest.fixture(scope="session")
def make_fraud_frame():
    return fraud_frame


@pytest.fixture(scope="session")
def fast():
    return dict(FAST)
