"""Fixtures for the serving tests: a small simulated world and a tiny bundle trained on it.

The bundle is trained with the training pipeline when it is available (``training.pipeline``),
else directly with the models API; either way it is saved once per session and reloaded, so
every test scores through the same checksummed folder a user would. Tests that start a server
process (the HTTP service, chromedriver) get a free port and a wait-until-up helper here.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FAST = {"learning_rate": 0.2, "min_data_in_leaf": 10, "num_leaves": 15, "max_depth": 4}
N_TRAIN = 300
N_SCORE = 60


def train_tiny_bundle(folder: Path, n_creators: int = N_TRAIN, seed: int = 3) -> Path:
    """Train text, account, fraud and fit models on a simulated world; save them as a bundle."""
    from features import build
    from features.dataset import load
    from features.topics import TopicModel, creator_documents
    from models import AccountModel, Bundle, FitModel, FraudModel, brand_topics, pair_features
    from training.simulate import simulate

    world = simulate(n_creators, seed=seed)
    data = load(world.tables)
    from features import resolve_as_of

    days = resolve_as_of(data)
    docs = creator_documents(data.creators, data.posts, days)
    text_model = TopicModel(n_topics=8, min_df=2, max_iter=100, random_state=seed).fit(docs)
    accounts = world.labels["account_labels"].head(4000)
    account_model = AccountModel.fit_labels(
        accounts, params=FAST, n_folds=3, max_rounds=60, early_stopping_rounds=10
    )
    X = build(data, text_model=text_model, account_model=account_model)
    labels = world.labels["fraud_labels"].set_index("creator_id")["bought_followers"]
    y = labels.reindex(X.index).astype("float64").to_numpy()
    fraud = FraudModel().fit(
        X, y, X.index, params=FAST, n_folds=3, max_rounds=80, early_stopping_rounds=10
    )
    fit_labels = world.labels["fit_labels"]
    brief, excluded = brand_topics(text_model, data.brands)
    risk = pd.Series(fraud.predict_proba(X), index=X.index)
    pairs = pair_features(
        data.brands, data.creators, X, brief, excluded, risk, pairs=fit_labels
    ).reset_index(drop=True)
    fit = FitModel().fit(
        pairs,
        fit_labels["outcome"].to_numpy(),
        params=FAST,
        n_folds=3,
        max_rounds=60,
        early_stopping_rounds=10,
    )
    bundle = Bundle(
        fraud_model=fraud,
        feature_schema=[(c, "float64") for c in X.columns],
        account_model=account_model,
        fit_model=fit,
        text_model=text_model,
    )
    bundle.save(folder)
    return folder


@pytest.fixture(scope="session")
def bundle_dir(tmp_path_factory) -> Path:
    """A saved tiny bundle folder (trained once per session)."""
    return train_tiny_bundle(tmp_path_factory.mktemp("bundle") / "bundle")


@pytest.fixture(scope="session")
def scorer(bundle_dir):
    from serving.predict import Scorer

    return Scorer.load(bundle_dir)


@pytest.fixture(scope="session")
def world_tables() -> dict[str, pd.DataFrame]:
    """Contract tables of a small world, different from the training one."""
    from training.simulate import simulate

    return simulate(N_SCORE, seed=11).tables


@pytest.fixture(scope="session")
def world_dir(tmp_path_factory, world_tables) -> Path:
    """The small world written as parquet."""
    from training.simulate import World, WorldConfig, write_world

    root = tmp_path_factory.mktemp("world")
    world = World(config=WorldConfig(n_creators=N_SCORE, seed=11), tables=world_tables)
    write_world(world, root / "in", root / "labels", fmt="parquet")
    return root / "in"


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def request_body(tables: dict[str, pd.DataFrame], ids) -> dict:
    """The contract tables of the creators ``ids`` as an HTTP request body (records per table)."""
    out = {}
    for name in ("creators", "follower_history", "posts", "comments", "audience_sample"):
        frame = tables[name]
        frame = frame[frame["creator_id"].isin(ids)]
        out[name] = json.loads(frame.to_json(orient="records", date_format="iso"))
    return out


@pytest.fixture(name="request_body")
def request_body_fixture():
    """:func:`request_body`, for the HTTP tests."""
    return request_body


def fit_case(tables: dict[str, pd.DataFrame], n_creators: int = 3, n_brands: int = 2):
    """A POST /v1/fit body for the first creators and brands of ``tables``.

    Returns ``(body, own, brands)``: the body, the creators' own tables (what the scorer would
    be given for them) and the brands frame.
    """
    ids = tables["creators"]["creator_id"].iloc[:n_creators].tolist()
    brands = tables["brands"].iloc[:n_brands]
    body = request_body(tables, ids) | {"brands": json.loads(brands.to_json(orient="records"))}
    own = {k: v[v["creator_id"].isin(ids)] for k, v in tables.items() if k != "brands"}
    return body, own, brands


@pytest.fixture(name="fit_case")
def fit_case_fixture():
    """:func:`fit_case`, for the HTTP tests."""
    return fit_case


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(
    proc: subprocess.Popen,
    ready: Callable[[], bool],
    what: str,
    *,
    timeout: float = 60,
    not_yet: tuple[type[BaseException], ...] = (OSError,),
    log: Path | None = None,
) -> None:
    """Poll ``ready()`` until it is true; kill ``proc`` and raise if it exits or time runs out.

    An exception of a ``not_yet`` type from ``ready`` means "still starting". The error names
    ``what`` and ends with the last lines of ``log``.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if ready():
                return
        except not_yet:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            tail = log.read_text(errors="replace")[-2000:] if log is not None else ""
            raise RuntimeError(f"{what} did not start: {tail}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """A function returning a free TCP port on the loopback interface."""
    return _free_port


@pytest.fixture(scope="session")
def wait_until_up():
    """The function :func:`_wait_until_up`, for fixtures that start a server process."""
    return _wait_until_up
