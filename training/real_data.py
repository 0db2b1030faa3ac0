"""Adapters from the public labelled account datasets to the data contract.

Three public datasets of real Instagram accounts labelled fake or real live outside the repo, in
``../shared/data/`` relative to the repo root (override with ``CREATORSCORE_SHARED_DATA``). Their
licences allow research and benchmarking, not shipping them or weights trained on them, so they
are read in place and only ever used for evaluation:

- ``instafake``: InstaFake fake-v1 (Akyon & Kalfaoglu 2019), 200 fake / 994 real;
- ``kaggle``: the 2019 Kaggle fake/spammer/genuine set, 348 / 348, with its train/test split;
- ``srf``: SRF Data 2017 hand-labelled followers of Swiss influencers, 98 / 877, plus 10,000
  unlabelled followers (:func:`srf_unlabelled_sample`).

:func:`account_labels` maps each onto the contract's ``account_labels`` table (the
``audience_sample`` account columns plus ``is_fake``) using the column mapping in the dataset's
README, and loads it with :func:`features.dataset.load_labels`, so it reaches the account model
through the same coercion and checks as any user's table. A column a dataset lacks stays unknown
(NaN / None), never zero. :func:`mixed_audiences` builds ``creators`` + ``audience_sample`` tables
whose follower samples are drawn from labelled accounts at known fake shares.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DATASETS",
    "ENV_VAR",
    "SRF_UNLABELLED",
    "shared_data_dir",
    "dataset_dir",
    "available",
    "raw_accounts",
    "account_labels",
    "srf_unlabelled_sample",
    "mixed_audiences",
]

#: Environment variable naming the folder that holds the dataset folders.
ENV_VAR = "CREATORSCORE_SHARED_DATA"
#: Short name -> folder under the shared data folder.
DATASETS: dict[str, str] = {
    "instafake": "instafake-fake-v1",
    "kaggle": "kaggle-instagram-fake",
    "srf": "srf-2017-instagram",
}
# The files each adapter reads; a dataset counts as available only when all are present.
_FILES: dict[str, tuple[str, ...]] = {
    "instafake": ("fakeAccountData.json", "realAccountData.json"),
    "kaggle": ("train.csv", "test.csv"),
    "srf": ("labelled_1000_inclprivate.csv",),
}
SRF_UNLABELLED = "random_sample_of_unclassified_followers.csv"


def shared_data_dir() -> Path:
    """The shared data folder: ``$CREATORSCORE_SHARED_DATA``, else ``<repo>/../shared/data``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


def dataset_dir(name: str, root: str | Path | None = None) -> Path:
    """Folder of dataset ``name`` (a key of :data:`DATASETS`) under ``root``."""
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    return Path(root if root is not None else shared_data_dir()) / DATASETS[name]


def available(root: str | Path | None = None) -> list[str]:
    """Names of the datasets whose files are all present under ``root`` (:data:`DATASETS` order)."""
    return [
        name
        for name in DATASETS
        if all((dataset_dir(name, root) / f).is_file() for f in _FILES[name])
    ]


def _instafake(folder: Path) -> pd.DataFrame:
    parts = [pd.read_json(folder / f) for f in _FILES["instafake"]]
    raw = pd.concat(parts, ignore_index=True)
    # README mapping; InstaFake gives no user name string, full name or external link.
    return pd.DataFrame(
        {
            "followers": raw["userFollowerCount"],
            "following": raw["userFollowingCount"],
            "biography_length": raw["userBiographyLength"],
            "media_count": raw["userMediaCount"],
            "has_profile_pic": raw["userHasProfilPic"].astype(bool),
            "is_private": raw["userIsPrivate"].astype(bool),
            "username_digit_count": raw["usernameDigitCount"],
            "username_length": raw["usernameLength"],
            "is_fake": raw["isFake"].astype(bool),
        }
    )


def _kaggle(folder: Path) -> pd.DataFrame:
    parts = []
    for split in ("train", "test"):
        part = pd.read_csv(folder / f"{split}.csv")
        part["split"] = split
        parts.append(part)
    raw = pd.concat(parts, ignore_index=True)
    # Only the digit *share* of the user name is given: account_features reads it from the
    # extra column username_digit_share; length and digit count stay unknown.
    return pd.DataFrame(
        {
            "has_profile_pic": raw["profile pic"].astype(bool),
            "username_digit_share": raw["nums/length username"].astype("float64"),
            "biography_length": raw["description length"],
            "has_external_url": raw["external URL"].astype(bool),
            "is_private": raw["private"].astype(bool),
            "media_count": raw["#posts"],
            "followers": raw["#followers"],
            "following": raw["#follows"],
            "is_fake": raw["fake"].astype(bool),
            "split": raw["split"],
        }
    )


def _srf_columns(raw: pd.DataFrame) -> pd.DataFrame:
    # No bio, external link or full name in SRF's export: unknown.
    return pd.DataFrame(
        {
            "username": raw["Username"].astype(object),
            "media_count": raw["Number.of.posts"],
            "following": raw["Number.of.people.they.follow"],
            "followers": raw["Number.of.followers"],
            "has_profile_pic": raw["has_profile_picture"],
            "is_private": raw["Private.account"],
        }
    )


def _srf(folder: Path) -> pd.DataFrame:
    raw = pd.read_csv(folder / _FILES["srf"][0])
    out = _srf_columns(raw)
    out["is_fake"] = raw["rating"]
    return out


_READERS = {"instafake": _instafake, "kaggle": _kaggle, "srf": _srf}


def raw_accounts(name: str, root: str | Path | None = None) -> pd.DataFrame:
    """Dataset ``name`` with its columns renamed to the contract's, before coercion.

    Adds ``follower_id`` (``<name>_<row>``) and ``source``; the Kaggle set keeps its ``split``
    (train/test) and gives ``username_digit_share`` instead of the digit count and length.

    Raises
    ------
    FileNotFoundError
        When a file of the dataset is missing, naming it and :data:`ENV_VAR`.
    """
    folder = dataset_dir(name, root)
    for f in _FILES[name]:
        if not (folder / f).is_file():
            raise FileNotFoundError(
                f"{folder / f} not found; set {ENV_VAR} to the folder holding {DATASETS[name]}/"
            )
    frame = _READERS[name](folder)
    frame.insert(0, "follower_id", [f"{name}_{i}" for i in range(len(frame))])
    frame["source"] = name
    return frame


def account_labels(name: str, root: str | Path | None = None) -> pd.DataFrame:
    """Dataset ``name`` as a loaded contract ``account_labels`` table.

    Returns
    -------
    DataFrame in the loaded representation of :mod:`features.schema` (counts float64 with NaN
    unknown, flags pandas ``boolean``), every ``account_labels`` column present (all-unknown
    where the dataset lacks it) plus the extras ``source`` and, per dataset,
    ``username_digit_share`` and ``split``.

    Raises
    ------
    ValueError
        When a row breaks the contract (the public files are expected to be clean).
    """
    from features.dataset import load_labels

    tables, errors = load_labels({"account_labels": raw_accounts(name, root)})
    if len(errors):
        first = errors.iloc[0]
        raise ValueError(
            f"{name}: {len(errors)} row problem(s), first: row {first['row']}, "
            f"column {first['column']}: {first['problem']}"
        )
    return tables["account_labels"]


def srf_unlabelled_sample(root: str | Path | None = None) -> pd.DataFrame:
    """SRF's 10,000 unlabelled followers as ``audience_sample`` rows of one creator ``srf_random``.

    They are a random sample of the followers of 115 Swiss influencers (SRF estimated 25.8-31.1%
    of them fake); which influencer each follows is not given, so they form one pooled sample.
    """
    path = dataset_dir("srf", root) / SRF_UNLABELLED
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; set {ENV_VAR}")
    out = _srf_columns(pd.read_csv(path))
    out.insert(0, "follower_id", [f"srf_random_{i}" for i in range(len(out))])
    out.insert(0, "creator_id", "srf_random")
    return out


def mixed_audiences(
    accounts: pd.DataFrame,
    shares: Sequence[float],
    size: int,
    per_share: int,
    rng: np.random.Generator,
    prefix: str = "mix",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Creators whose audience samples hold exactly ``round(share * size)`` fake accounts.

    Each creator's fakes are drawn from the fake rows of ``accounts`` and its real followers from
    the real rows, without replacement within the creator unless a pool is smaller than the draw
    (then with replacement; each draw still gets its own ``follower_id``).

    Parameters
    ----------
    accounts : ``account_labels`` rows (contract columns plus ``is_fake``).
    shares : fake shares to build, each in [0, 1].
    size : accounts in each creator's sample.
    per_share : creators per share.
    rng : random generator.
    prefix : creator ids are ``<prefix>_<number>``.

    Returns
    -------
    creators : contract ``creators`` table (creator_id, followers = ``size``).
    audience_sample : contract ``audience_sample`` table (no ``is_fake``).
    truth : fake share of each creator's sample (k / size), indexed by creator_id.
    """
    fake = np.asarray(pd.array(accounts["is_fake"], dtype="boolean"), dtype=bool)
    pools = (np.flatnonzero(fake), np.flatnonzero(~fake))
    share_of = np.repeat(np.asarray(shares, dtype="float64"), per_share)
    if ((share_of < 0) | (share_of > 1)).any():
        raise ValueError("shares must lie within [0, 1]")
    n_fake = np.round(share_of * size).astype(np.int64)
    if ((n_fake > 0) & (pools[0].size == 0)).any() or (
        (n_fake < size) & (pools[1].size == 0)
    ).any():
        raise ValueError("accounts lack the fake or real rows the shares need")
    ids = np.asarray([f"{prefix}_{i:04d}" for i in range(len(share_of))], dtype=object)
    rows = []
    # One draw per creator: a Python loop over a few hundred creators, not a hot path.
    for k in n_fake:
        picks = [
            rng.choice(pool, size=m, replace=m > pool.size)
            for pool, m in zip(pools, (k, size - k), strict=True)
        ]
        rows.append(np.concatenate(picks))
    take = np.concatenate(rows)
    who = np.repeat(ids, size)
    sample = accounts.iloc[take].drop(columns=["is_fake"]).reset_index(drop=True)
    base = sample["follower_id"] if "follower_id" in sample else pd.Series(take.astype(str))
    sample["follower_id"] = (
        base.astype(str).to_numpy()
        + "#"
        + np.tile(np.arange(size).astype(str), len(ids)).astype(object)
    )
    sample.insert(0, "creator_id", who)
    creators = pd.DataFrame({"creator_id": ids, "followers": np.full(len(ids), size)})
    truth = pd.Series(n_fake / size, index=pd.Index(ids, name="creator_id"), name="fake_share")
    return creators, sample, truth
