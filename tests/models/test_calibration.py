import json

import numpy as np
import pytest

from models.calibration import IsotonicCalibrator, PlattCalibrator, calibrator_from_dict


@pytest.fixture
def scores_labels():
    rng = np.random.default_rng(1)
    s = rng.normal(size=500)
    y = (rng.random(500) < 1 / (1 + np.exp(-2 * s))).astype(float)
    return s, y


@pytest.mark.parametrize("cls", [IsotonicCalibrator, PlattCalibrator])
def test_json_round_trip_is_exact_and_monotone(cls, scores_labels):
    s, y = scores_labels
    cal = cls().fit(s, y)
    again = calibrator_from_dict(json.loads(json.dumps(cal.to_dict())))
    grid = np.linspace(-5, 5, 1001)
    np.testing.assert_array_equal(cal.transform(grid), again.transform(grid))
    p = cal.transform(grid)
    assert np.all(np.diff(p) >= 0)
    assert p.min() >= 0 and p.max() <= 1


def test_isotonic_matches_sklearn_predict(scores_labels):
    from sklearn.isotonic import IsotonicRegression

    s, y = scores_labels
    ref = IsotonicRegression(y_min=0, y_max=1, out_of_bounds="clip").fit(s, y)
    grid = np.linspace(-6, 6, 301)
    np.testing.assert_allclose(IsotonicCalibrator().fit(s, y).transform(grid), ref.predict(grid))


def test_platt_recovers_logistic_slope():
    rng = np.random.default_rng(2)
    s = rng.normal(size=20_000)
    y = (rng.random(s.size) < 1 / (1 + np.exp(-(2 * s - 1)))).astype(float)
    cal = PlattCalibrator().fit(s, y)
    assert cal.a_ == pytest.approx(2, abs=0.1) and cal.b_ == pytest.approx(-1, abs=0.1)


def test_bad_state_is_refused():
    with pytest.raises(ValueError, match="non-decreasing"):
        calibrator_from_dict({"kind": "isotonic", "x": [0, 1], "y": [0.9, 0.1]})
    with pytest.raises(ValueError, match="unknown calibrator"):
        calibrator_from_dict({"kind": "beta"})
