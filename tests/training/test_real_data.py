"""Tests of the adapters from the public labelled account datasets to the contract.

Two kinds: tiny hand-made files in the datasets' own formats (always run), and a few rows of the
real files in the shared data folder. The latter skip only when that folder is absent, as in a
clone outside this project; under CI (``CI=true``) a missing folder fails instead.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from features.audience import account_features
from training import real_data
from training.real_data import DATASETS, ENV_VAR


@pytest.fixture(scope="module")
def shared_root():
    """The shared data folder with every dataset, or a skip (a failure under CI)."""
    root = real_data.shared_data_dir()
    missing = [n for n in DATASETS if n not in real_data.available(root)]
    if missing:
        why = f"labelled datasets {', '.join(missing)} not found under {root} (set {ENV_VAR})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI has the shared data, but {why}")
        pytest.skip(why)
    return root


@pytest.fixture
def tiny_root(tmp_path):
    """Two or three rows per dataset, written in each dataset's own format."""
    insta = tmp_path / DATASETS["instafake"]
    insta.mkdir()
    row = {
        "userFollowerCount": 25,
        "userFollowingCount": 1937,
        "userBiographyLength": 0,
        "userMediaCount": 0,
        "userHasProfilPic": 1,
        "userIsPrivate": 1,
        "usernameDigitCount": 0,
        "usernameLength": 10,
        "isFake": 1,
    }
    real = row | {"userMediaCount": 30, "userBiographyLength": 12, "isFake": 0}
    (insta / "fakeAccountData.json").write_text(json.dumps([row]))
    (insta / "realAccountData.json").write_text(json.dumps([real]))

    kag = tmp_path / DATASETS["kaggle"]
    kag.mkdir()
    head = (
        "profile pic,nums/length username,fullname words,nums/length fullname,name==username,"
        "description length,external URL,private,#posts,#followers,#follows,fake\n"
    )
    (kag / "train.csv").write_text(head + "1,0.27,0,0,0,53,0,0,32,1000,955,0\n")
    (kag / "test.csv").write_text(head + "0,0.5,1,0,0,0,0,1,0,12,80,1\n")

    srf = tmp_path / DATASETS["srf"]
    srf.mkdir()
    (srf / "labelled_1000_inclprivate.csv").write_text(
        '"Profile.URL","rating","Username","Number.of.posts","Number.of.people.they.follow",'
        '"Number.of.followers","has_profile_picture","Private.account"\n'
        '"https://instagram.com/anna_1990","FALSE","anna_1990",30,272,174,"TRUE",TRUE\n'
        '"https://instagram.com/x8x8","TRUE","x8x8",0,2100,3,"FALSE",FALSE\n'
    )
    return tmp_path


def test_data_folder_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert real_data.shared_data_dir() == tmp_path
    assert real_data.available() == []
    with pytest.raises(FileNotFoundError, match=ENV_VAR):
        real_data.account_labels("srf")
    monkeypatch.delenv(ENV_VAR)
    assert real_data.shared_data_dir().parts[-2:] == ("shared", "data")


def test_unknown_dataset_name_is_refused():
    with pytest.raises(KeyError, match="instafake"):
        real_data.dataset_dir("twitter")


def test_instafake_mapping(tiny_root):
    acc = real_data.account_labels("instafake", tiny_root)
    assert acc["is_fake"].tolist() == [True, False]
    first = acc.iloc[0]
    assert (first["followers"], first["following"], first["media_count"]) == (25, 1937, 0)
    assert (first["username_length"], first["username_digit_count"]) == (10, 0)
    assert bool(first["has_profile_pic"]) and bool(first["is_private"])
    assert acc.loc[1, "biography_length"] == 12
    # No user name text, full name or link in InstaFake: unknown, never zero or False.
    assert acc["username"].isna().all() and acc["full_name"].isna().all()
    assert acc["has_external_url"].isna().all()
    assert acc["follower_id"].tolist() == ["instafake_0", "instafake_1"]


def test_kaggle_mapping_keeps_the_digit_share(tiny_root):
    acc = real_data.account_labels("kaggle", tiny_root)
    assert acc["split"].tolist() == ["train", "test"]
    assert acc["is_fake"].tolist() == [False, True]
    assert acc["username_digit_share"].tolist() == [0.27, 0.5]
    assert acc["username_length"].isna().all() and acc["username_digit_count"].isna().all()
    assert acc["biography_length"].tolist() == [53, 0]
    assert acc["has_external_url"].tolist() == [False, False]
    f = account_features(acc)
    assert f["acc_username_digit_share"].tolist() == [0.27, 0.5]
    assert f["acc_username_digits"].isna().all()
    assert f["acc_full_name_present"].isna().all()


def test_srf_mapping_derives_the_name_and_leaves_the_bio_unknown(tiny_root):
    acc = real_data.account_labels("srf", tiny_root)
    assert acc["is_fake"].tolist() == [False, True]
    assert acc["username"].tolist() == ["anna_1990", "x8x8"]
    assert acc["has_profile_pic"].tolist() == [True, False]
    assert acc["biography_length"].isna().all()
    f = account_features(acc)
    assert f["acc_username_digits"].tolist() == [4.0, 2.0]
    assert np.isnan(f["acc_bio_length"]).all() and np.isnan(f["acc_external_url"]).all()
    assert f["acc_zero_posts"].tolist() == [0.0, 1.0]


def test_mixed_audiences_hold_the_asked_shares(tiny_root):
    accounts = pd.concat(
        [real_data.account_labels(n, tiny_root) for n in DATASETS], ignore_index=True
    )
    rng = np.random.default_rng(0)
    creators, sample, truth = real_data.mixed_audiences(accounts, [0.0, 0.5, 1.0], 4, 2, rng)
    assert len(creators) == 6 and len(sample) == 24
    assert truth.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    fake_ids = set(accounts.loc[accounts["is_fake"].astype(bool), "follower_id"])
    drawn = sample["follower_id"].str.split("#").str[0].isin(fake_ids)
    assert drawn.groupby(sample["creator_id"]).mean().tolist() == truth.tolist()
    # Drawn twice from a small pool, still one follower id per row and creator.
    assert not sample.duplicated(["creator_id", "follower_id"]).any()
    assert "is_fake" not in sample.columns
    with pytest.raises(ValueError, match="within"):
        real_data.mixed_audiences(accounts, [1.2], 4, 1, rng)


def test_real_files_first_rows(shared_root):
    insta = real_data.account_labels("instafake", shared_root)
    assert len(insta) == 1194 and int(insta["is_fake"].sum()) == 200
    # First fake account of fakeAccountData.json.
    row = insta.iloc[0]
    assert (row["followers"], row["following"], row["username_length"]) == (25, 1937, 10)

    kag = real_data.account_labels("kaggle", shared_root)
    assert len(kag) == 696 and int(kag["is_fake"].sum()) == 348
    assert (kag["split"] == "train").sum() == 576
    row = kag.iloc[0]
    assert (row["followers"], row["following"], row["media_count"]) == (1000, 955, 32)
    assert row["username_digit_share"] == 0.27

    srf = real_data.account_labels("srf", shared_root)
    assert len(srf) == 975 and int(srf["is_fake"].sum()) == 98
    row = srf.iloc[0]
    assert row["username"] == "__saaraa._" and (row["followers"], row["following"]) == (177, 198)
    assert srf["biography_length"].isna().all()


def test_real_files_load_as_an_audience(shared_root):
    from features.dataset import load

    sample = real_data.srf_unlabelled_sample(shared_root)
    assert len(sample) == 10_000
    creators = pd.DataFrame({"creator_id": ["srf_random"], "followers": [10_000]})
    data = load({"creators": creators, "audience_sample": sample})
    assert data.errors.empty and len(data.audience_sample) == 10_000
    assert data.audience_sample["biography_length"].isna().all()
