"""TrainConfig: frozen, loadable from TOML, refuses unknown or invalid settings."""

from __future__ import annotations

import dataclasses

import pytest

from training.config import TrainConfig


def test_from_toml_merges_a_subset_over_the_defaults(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text("seed = 7\nn_topics = 16\n\n[fraud_params]\nlearning_rate = 0.03\n")
    config = TrainConfig.from_toml(path)
    assert (config.seed, config.n_topics, config.n_folds) == (7, 16, TrainConfig().n_folds)
    assert config.lgb_params("fraud") == {"num_threads": 1, "learning_rate": 0.03}
    assert config.lgb_params("fit") == {"num_threads": 1}


def test_unknown_keys_are_named(tmp_path):
    path = tmp_path / "train.toml"
    path.write_text("sead = 7\nn_topics = 16\n")
    with pytest.raises(ValueError, match="sead"):
        TrainConfig.from_toml(path)


@pytest.mark.parametrize(
    "bad", [{"valid_share": 1.0}, {"n_folds": 1}, {"calibration": "beta"}, {"num_threads": 0}]
)
def test_invalid_values_are_refused(bad):
    with pytest.raises(ValueError):
        TrainConfig(**bad)


def test_frozen_and_round_trips_through_a_dict():
    config = TrainConfig.quick(seed=5).with_params("fit", num_leaves=7)
    assert TrainConfig.from_dict(config.to_dict()) == config
    assert config.fit_params["num_leaves"] == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.seed = 1
    with pytest.raises(TypeError):
        config.fraud_params["learning_rate"] = 1.0
