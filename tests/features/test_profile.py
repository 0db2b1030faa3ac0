"""Tests for the profile features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.profile import FEATURES, _str_lengths, profile_features


def creators() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "creator_id": ["a", "b", "c"],
            "platform": ["tiktok", None, "youtube"],
            "followers": [1000.0, 0.0, np.nan],
            "following": [100.0, 5.0, 9.0],
            "posts_count": [10.0, 0.0, 99.0],
            "bio": ["héllo", None, ""],
            "is_verified": pd.array([True, None, False], dtype="boolean"),
            "created_at": pd.to_datetime(["2024-01-01", "2023-01-01", None]),
        }
    )


def test_three_creators_by_hand():
    # as_of in another order than the creators, one creator missing: looked up by id.
    as_of = pd.Series(
        pd.to_datetime(["2024-01-11", "2024-03-01"]), index=pd.Index(["a", "c"], name="creator_id")
    )
    out = profile_features(creators(), as_of)
    assert list(out.columns) == [f.name for f in FEATURES]
    assert list(out.index) == ["a", "b", "c"] and out.index.name == "creator_id"
    a, b, c = (out.loc[k] for k in "abc")
    assert a["profile_log10_followers"] == 3.0 and a["profile_following_ratio"] == 0.1
    assert a["profile_followers_per_post"] == 100.0 and b["profile_followers_per_post"] == 0.0
    assert a["profile_log10_posts"] == np.log10(11.0) and b["profile_log10_posts"] == 0.0
    assert (a["profile_is_verified"], c["profile_is_verified"]) == (1.0, 0.0)
    assert np.isnan(b["profile_is_verified"])
    assert a["profile_account_age_days"] == 10.0
    assert np.isnan(b["profile_account_age_days"]) and np.isnan(c["profile_account_age_days"])
    assert (a["profile_bio_chars"], c["profile_bio_chars"]) == (5.0, 0.0)
    assert np.isnan(b["profile_bio_chars"])
    assert a["profile_platform_tiktok"] == 1.0 and a["profile_platform_instagram"] == 0.0
    assert b["profile_platform_instagram"] == 1.0  # missing platform: the contract default
    assert c["profile_platform_youtube"] == 1.0
    assert np.isnan(c["profile_log10_followers"])


def test_aligned_and_reindexed_as_of_agree():
    table = creators()
    aligned = pd.Series(
        pd.to_datetime(["2024-02-01", "2024-02-02", "2024-02-03"]),
        index=pd.Index(["a", "b", "c"], name="creator_id"),
    )
    shuffled = aligned.iloc[[2, 0, 1]]
    pd.testing.assert_frame_equal(
        profile_features(table, aligned), profile_features(table, shuffled), check_exact=True
    )


def test_flags_that_are_not_the_boolean_dtype_convert_the_same():
    table = creators()
    as_of = pd.Series(pd.Timestamp("2024-02-01"), index=pd.Index(list("abc"), name="creator_id"))
    loose = table.assign(is_verified=pd.Series([True, None, False], dtype=object))
    pd.testing.assert_frame_equal(
        profile_features(loose, as_of), profile_features(table, as_of), check_exact=True
    )


@pytest.mark.parametrize(
    "cells",
    [
        ["ab", None, "", "ünï", np.nan],  # the loaded str type
        [None, None],  # all missing
        [],
        ["ab", 12, None],  # not all str: the string accessor decides
    ],
)
def test_str_lengths_match_the_string_accessor(cells):
    values = pd.Series(cells, dtype=object)
    expected = values.str.len().to_numpy(dtype="float64", na_value=np.nan)
    np.testing.assert_array_equal(_str_lengths(values), expected)
