import numpy as np
import pandas as pd
import pytest

from models import ArtifactError, FraudModel, metrics


def test_separable_problem_has_high_honest_auc(fraud_model, fraud_data):
    _, y = fraud_data
    assert fraud_model.metrics_["roc_auc"] > 0.95
    assert metrics.roc_auc(y, fraud_model.oof_) == pytest.approx(fraud_model.metrics_["roc_auc"])
    assert fraud_model.oof_.shape == y.shape and np.isfinite(fraud_model.oof_).all()
    assert 1 <= fraud_model.n_rounds_ <= 200 and len(fraud_model.best_iterations_) == 4
    assert fraud_model.feature_names_ == list(fraud_data[0].columns)


def test_probabilities_are_calibrated_on_fresh_data(fraud_model, make_fraud_frame):
    X, y = make_fraud_frame(n=2000, seed=7)
    p = fraud_model.predict_proba(X)
    assert ((p >= 0) & (p <= 1)).all()
    assert metrics.expected_calibration_error(y, p) < 0.08
    assert metrics.roc_auc(y, p) > 0.95


def test_same_seed_same_booster_text(fraud_data, fast):
    X, y = fraud_data

    def text(seed):
        m = FraudModel().fit(X, y, X.index, params=fast, seed=seed, n_folds=3, max_rounds=60)
        return m.booster_.model_to_string()

    first = text(3)
    assert text(3) == first
    assert text(4) != first


def test_contributions_sum_to_raw_score(fraud_model, fraud_data):
    X, _ = fraud_data
    c = fraud_model.contributions(X.iloc[:50])
    assert list(c.columns) == [*X.columns, "bias"]
    assert c.index.equals(X.index[:50])
    np.testing.assert_allclose(c.sum(axis=1), fraud_model.raw_score(X.iloc[:50]), atol=1e-9)


def test_columns_selected_by_name(fraud_model, fraud_data):
    X, _ = fraud_data
    shuffled = X[X.columns[::-1]].assign(extra=1.0)
    np.testing.assert_array_equal(fraud_model.predict_proba(shuffled), fraud_model.predict_proba(X))
    with pytest.raises(KeyError, match="eng_er_vs_expected, noise"):
        fraud_model.predict_proba(X.drop(columns=["eng_er_vs_expected", "noise"]))


def test_save_load_round_trip_and_tamper(fraud_model, fraud_data, tmp_path):
    X, _ = fraud_data
    sums = fraud_model.save(tmp_path / "m")
    assert set(sums) == {"booster.txt", "calibrator.json", "meta.json"}
    loaded = FraudModel.load(tmp_path / "m", sums)
    np.testing.assert_array_equal(loaded.predict_proba(X), fraud_model.predict_proba(X))
    np.testing.assert_array_equal(
        loaded.contributions(X).to_numpy(), fraud_model.contributions(X).to_numpy()
    )
    assert loaded.metrics_ == fraud_model.metrics_

    cal = tmp_path / "m" / "calibrator.json"
    cal.write_text(cal.read_text().replace("0.", "0.9", 1))
    with pytest.raises(ArtifactError, match="calibrator.json: SHA-256 mismatch"):
        FraudModel.load(tmp_path / "m", sums)
    (tmp_path / "m" / "booster.txt").unlink()
    with pytest.raises(ArtifactError, match="booster.txt"):
        FraudModel.load(tmp_path / "m", sums)


def test_labels_must_be_binary(fraud_data):
    X, y = fraud_data
    with pytest.raises(ValueError, match="0/1"):
        FraudModel().fit(X, np.where(y == 1, 2.0, 0.0))
    with pytest.raises(ValueError, match="num_iterations"):
        FraudModel().fit(X, y, params={"num_iterations": 10})


def test_platt_calibration(make_fraud_frame, fast):
    X, y = make_fraud_frame(n=400, seed=3)
    m = FraudModel().fit(X, y, params=fast, n_folds=4, calibration="platt", max_rounds=80)
    assert m.calibrator_.to_dict()["kind"] == "platt"
    assert m.metrics_["roc_auc"] > 0.9


def test_folds_keep_each_group_together(make_fraud_frame, fast):
    from models._boosting import cross_fit, make_params

    X, y = make_fraud_frame(n=400, seed=5)
    groups = np.repeat(np.arange(100), 4)  # four rows per creator
    y = np.repeat(y[:100], 4)
    prm = make_params({"objective": "binary", "metric": "binary_logloss"}, fast, 0)
    oof, fold, best = cross_fit(
        X.to_numpy(),
        y,
        groups,
        list(X.columns),
        prm,
        n_folds=4,
        seed=0,
        ranking=False,
        max_rounds=30,
        early_stopping_rounds=5,
    )
    per_group = pd.Series(fold).groupby(groups).nunique()
    assert (per_group == 1).all() and set(fold) == {0, 1, 2, 3}
    assert np.isfinite(oof).all() and len(best) == 4


def test_thread_count_does_not_change_the_trees(fraud_data, fast):
    X, y = fraud_data

    def trees(threads):
        m = FraudModel().fit(
            X, y, params={**fast, "num_threads": threads}, n_folds=2, max_rounds=20
        )
        return m.booster_.model_to_string().split("\nparameters:")[0]

    assert trees(1) == trees(2)


def test_small_and_large_inputs_score_the_same_on_any_thread_count(fraud_model, fraud_data):
    # Small inputs are predicted on the calling thread, large ones on every core: the same
    # rows must get the same scores and contributions either way.
    from models._boosting import _SERIAL_PREDICT_ROWS

    X, _ = fraud_data
    big = pd.concat([X] * (_SERIAL_PREDICT_ROWS // len(X) + 1), ignore_index=True)
    assert len(big) >= _SERIAL_PREDICT_ROWS > len(X)
    np.testing.assert_array_equal(fraud_model.raw_score(big)[: len(X)], fraud_model.raw_score(X))
    head = big.iloc[:5]
    np.testing.assert_array_equal(
        fraud_model.contributions(big.iloc[:_SERIAL_PREDICT_ROWS]).to_numpy()[:5],
        fraud_model.contributions(head).to_numpy(),
    )


def test_feature_matrix_selects_by_name_from_any_frame():
    from models._boosting import feature_matrix

    rng = np.random.default_rng(3)
    wide = pd.DataFrame(rng.normal(size=(4, 5)), columns=list("abcde"))
    wide.iloc[1, 2] = np.nan
    want = ["d", "a", "c"]
    expected = wide.loc[:, want].to_numpy()
    np.testing.assert_array_equal(feature_matrix(wide, want), expected)
    # The same labels again (positions kept from the first call), other values: this frame's.
    other = wide * 2
    np.testing.assert_array_equal(feature_matrix(other, want), 2 * expected)
    # The same names in another frame order, and a frame of several dtypes with a text column.
    np.testing.assert_array_equal(feature_matrix(wide[list("edcba")], want), expected)
    mixed = wide.assign(a=np.arange(4), e=list("wxyz"))
    np.testing.assert_array_equal(feature_matrix(mixed, want)[:, 1], np.arange(4.0))
    with pytest.raises(TypeError, match="not numeric: e"):
        feature_matrix(mixed, ["a", "e"])
    with pytest.raises(KeyError, match="1 feature column"):
        feature_matrix(wide, ["a", "zz"])
    # Exactly the model's columns in order: the frame's own memory, no copy.
    assert np.shares_memory(feature_matrix(wide, list("abcde")), wide.to_numpy())
