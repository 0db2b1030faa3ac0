import numpy as np
import pandas as pd
import pytest

from features.audience import ACCOUNT_FEATURES
from models import AccountModel, ArtifactError


@pytest.fixture(scope="module")
def accounts():
    rng = np.random.default_rng(11)
    n = 800
    fake = rng.random(n) < 0.35
    X = pd.DataFrame(
        {
            "acc_has_pic": np.where(fake, rng.random(n) < 0.3, rng.random(n) < 0.9).astype(float),
            "acc_log_media": np.where(fake, rng.exponential(0.5, n), rng.normal(4, 1, n)),
            "acc_log_following_per_follower": np.where(
                fake, rng.normal(2.5, 1, n), rng.normal(0, 1, n)
            ),
            "acc_username_digits": rng.integers(0, 5, n).astype(float),
        }
    )
    X.loc[rng.random(n) < 0.1, "acc_has_pic"] = np.nan
    return X, fake.astype(float)


@pytest.fixture(scope="module")
def model(accounts, fast):
    X, y = accounts
    return AccountModel().fit(X, y, params=fast, n_folds=4, max_rounds=100)


def test_protocol_attributes_measured_out_of_fold(model, accounts):
    X, y = accounts
    assert model.feature_names == list(X.columns)
    assert model.threshold == 0.5
    flagged = model.oof_ >= 0.5
    assert model.tpr == pytest.approx(flagged[y == 1].mean())
    assert model.fpr == pytest.approx(flagged[y == 0].mean())
    assert 0 <= model.fpr < 0.1 < 0.8 < model.tpr <= 1
    p = model.predict_fake(X)
    assert p.shape == (len(X),) and ((p >= 0) & (p <= 1)).all()


def test_round_trip_keeps_rates_and_refuses_tampering(model, accounts, tmp_path):
    X, _ = accounts
    sums = model.save(tmp_path)
    loaded = AccountModel.load(tmp_path, sums)
    assert (loaded.threshold, loaded.tpr, loaded.fpr) == (model.threshold, model.tpr, model.fpr)
    np.testing.assert_array_equal(loaded.predict_fake(X), model.predict_fake(X))
    booster = tmp_path / "booster.txt"
    booster.write_bytes(booster.read_bytes() + b"\n")
    with pytest.raises(ArtifactError, match="booster.txt"):
        AccountModel.load(tmp_path, sums)


def test_a_fraud_model_folder_is_not_an_account_model(model, fraud_model, tmp_path):
    sums = fraud_model.save(tmp_path)
    with pytest.raises(ArtifactError, match="'fraud' model"):
        AccountModel.load(tmp_path, sums)


def test_trains_on_account_labels(fast):
    rng = np.random.default_rng(4)
    n = 400
    fake = rng.random(n) < 0.4
    labels = pd.DataFrame(
        {
            "username": [
                f"user{int(d)}" if f else "anna"
                for f, d in zip(fake, rng.integers(1000, 99999, n), strict=True)
            ],
            "has_profile_pic": pd.array(~fake | (rng.random(n) < 0.2), dtype="boolean"),
            "media_count": np.where(fake, 0.0, rng.integers(5, 500, n).astype(float)),
            "followers": rng.integers(10, 2000, n).astype(float),
            "following": np.where(fake, 3000.0, 300.0),
            "is_fake": pd.array(fake, dtype="boolean"),
        }
    )
    m = AccountModel.fit_labels(labels, params=fast, n_folds=3, max_rounds=50)
    assert m.feature_names == list(ACCOUNT_FEATURES)
    assert m.tpr > 0.9 and m.fpr < 0.1


def test_account_model_is_capped_for_scoring_speed():
    # Every sampled follower is scored, so the tree count is capped whatever max_rounds says,
    # and explicit params still override the speed-oriented defaults.
    from models.account import ACCOUNT_PARAMS, MAX_TREES

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    y = ((X["a"] + 0.3 * rng.normal(size=3000)) > 0.8).astype(float)
    m = AccountModel().fit(X, y, n_folds=3, max_rounds=1000, early_stopping_rounds=1000)
    assert m.booster_.num_trees() <= MAX_TREES
    text = m.booster_.model_to_string()
    assert f"[max_depth: {ACCOUNT_PARAMS['max_depth']}]" in text
    deeper = AccountModel().fit(X, y, n_folds=3, max_rounds=20, params={"max_depth": 2})
    assert "[max_depth: 2]" in deeper.booster_.model_to_string()
