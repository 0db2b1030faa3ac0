"""Shared fixtures for the training tests: one small simulated world and one trained bundle."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def small_world():
    """400 simulated creators and 8 brands: (CreatorData, label tables)."""
    from features.dataset import load, load_labels
    from training.simulate import simulate

    world = simulate(400, seed=3, n_brands=8)
    labels, errors = load_labels(world.labels)
    assert errors.empty
    return load(world.tables), labels


@pytest.fixture(scope="session")
def quick_config():
    from training.config import TrainConfig

    return TrainConfig.quick()


@pytest.fixture(scope="session")
def trained(small_world, quick_config):
    """``fit_bundle`` on the small world with the quick settings."""
    from training.pipeline import fit_bundle

    data, labels = small_world
    return fit_bundle(data, labels, quick_config)
