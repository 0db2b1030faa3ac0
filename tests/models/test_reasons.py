import json
import re

import numpy as np
import pandas as pd
import pytest

from models.reasons import TEMPLATES, describe, reasons_for

SIGNED = re.compile(r" \([+-]\d+\.\d\d\)$")
AS_OF = pd.Timestamp("2026-08-15")


class Entry:
    def __init__(self, name, meaning, unit):
        self.name, self.meaning, self.unit = name, meaning, unit


CATALOG = {"noise": Entry("noise", "day-to-day measurement noise", "ratio")}


def test_hand_built_contributions():
    contrib = pd.DataFrame(
        {
            "growth_max_jump_2d_rel": [0.42, -0.01],
            "eng_er_vs_expected": [0.35, -0.6],
            "eng_likes_cv": [-0.18, 0.001],
            "noise": [0.002, 0.2],
            "bias": [-2.0, -2.0],
        },
        index=["a", "b"],
    )
    features = pd.DataFrame(
        {
            "growth_max_jump_2d_rel": [0.41, 0.01],
            "growth_max_jump_abs": [9_800.0, 50.0],
            "growth_max_jump_days_ago": [12.0, np.nan],
            "eng_likes_jump_ratio": [1.02, np.nan],
            "eng_er_vs_expected": [0.31, 1.4],
            "eng_likes_cv": [0.21, 0.7],
            "profile_platform_instagram": [1.0, 0.0],
            "profile_platform_tiktok": [0.0, 1.0],
            "noise": [0.3, np.nan],
        },
        index=["a", "b"],
    )
    out = reasons_for(contrib, features, AS_OF, top_k=3, catalog=CATALOG)
    assert out[0] == [
        "followers jumped +9,800 (+41%) in two days around 2026-08-03 "
        "while likes per post stayed flat (1.02x) (+0.42)",
        "engagement rate 0.31x what is typical for an Instagram account of this size (+0.35)",
        "likes are unusually uniform across posts (CV 0.21) (-0.18)",
    ]
    # Row b: the strongest is a negative contribution; NaN is said as unknown; tiny ones dropped.
    assert out[1] == [
        "engagement rate 1.40x what is typical for a TikTok account of this size (-0.60)",
        "day-to-day measurement noise: unknown (+0.20)",
        "followers jumped +50 (+1%) in two days (-0.01)",
    ]
    json.dumps(out)


def test_as_of_per_row_and_missing():
    contrib = pd.DataFrame({"growth_max_jump_days_ago": [0.5, 0.5]}, index=[1, 2])
    feats = pd.DataFrame({"growth_max_jump_days_ago": [10.0, 10.0]}, index=[1, 2])
    days = pd.Series(pd.to_datetime(["2026-01-11", None]), index=[1, 2])
    out = reasons_for(contrib, feats, days, catalog={})
    assert out == [
        ["largest follower jump on 2026-01-01 (+0.50)"],
        ["largest follower jump 10 days ago (+0.50)"],
    ]


def test_rows_and_columns_are_matched_by_label_not_position():
    # Contributions in another row order than the features, text columns among the features,
    # ``bias`` in the middle and snapshot days in a third order: each row reads its own values.
    contrib = pd.DataFrame(
        {
            "growth_max_jump_days_ago": [0.5, -0.3, 0.2],
            "bias": [-2.0, -2.0, -2.0],
            "eng_likes_cv": [0.1, 0.6, -0.4],
        },
        index=["b", "c", "a"],
    )
    feats = pd.DataFrame(
        {
            "creator_id": ["a", "b", "c"],
            "eng_likes_cv": [0.2, 1.6, 0.7],
            "growth_max_jump_days_ago": [3.0, 10.0, np.nan],
        },
        index=["a", "b", "c"],
    )
    days = pd.Series(pd.to_datetime(["2026-01-31", "2026-01-11", "2026-03-01"]), index=list("cba"))
    out = reasons_for(contrib, feats, days, catalog={})
    by_row = [
        reasons_for(contrib.loc[[r]], feats.loc[[r]], days.loc[[r]], catalog={})[0]
        for r in contrib.index
    ]
    assert out == by_row
    assert out[0][0] == "largest follower jump on 2026-01-01 (+0.50)"
    assert out[2][0].startswith(describe("eng_likes_cv", 0.2, {})) and out[2][0].endswith("(-0.40)")
    assert not any("bias" in r for reasons in out for r in reasons)


def test_fraud_model_reasons_are_plain_words_with_the_right_sign(fraud_model, fraud_data):
    X, y = fraud_data
    rows = X[(y == 1) & (X["growth_max_jump_1d_rel"] > 0.4)].iloc[:5]
    contrib = fraud_model.contributions(rows)
    out = reasons_for(contrib, rows, AS_OF, top_k=4, catalog=CATALOG)
    for reasons, (_, c) in zip(out, contrib.iterrows(), strict=True):
        assert 1 <= len(reasons) <= 4
        for r in reasons:
            assert SIGNED.search(r), r
            assert not any(col in r for col in X.columns if "_" in col), r
        jump = [r for r in reasons if r.startswith("followers jumped")]
        assert jump and jump[0].endswith(f"({c['growth_max_jump_1d_rel']:+.2f})")
        assert c["growth_max_jump_1d_rel"] > 0  # a big jump raises risk
    assert fraud_model.reasons(rows, AS_OF, catalog=CATALOG) == out


def test_every_catalogued_feature_reads_as_words():
    from models.reasons import default_catalog

    catalog = default_catalog()
    names = set(catalog) | set(TEMPLATES)
    assert len(catalog) > 50
    for name in sorted(names):
        for value in (0.0, 0.5, 3.0, np.nan):
            phrase = describe(name, value, {}, AS_OF, catalog)
            assert phrase and not any(n in phrase for n in names), (name, phrase)


@pytest.mark.parametrize("value, words", [(0.2, "uniform"), (0.7, "normally"), (1.5, "widely")])
def test_likes_cv_wording(value, words):
    assert words in describe("eng_likes_cv", value, {}, None, {})


def test_every_fit_pair_feature_has_its_own_wording():
    from models.fit import PAIR_FEATURES

    assert set(PAIR_FEATURES) <= set(TEMPLATES), set(PAIR_FEATURES) - set(TEMPLATES)
    phrase = describe("fit_near_topic_share", 0.45, {}, AS_OF, {})
    assert phrase == "45% of the creator's content is in or near the brief's topics"


def test_days_are_matched_by_label_with_extra_and_missing_creators():
    contrib = pd.DataFrame({"growth_max_jump_days_ago": [0.5, 0.5, 0.5]}, index=["a", "b", "c"])
    feats = pd.DataFrame({"growth_max_jump_days_ago": [10.0, 10.0, 10.0]}, index=contrib.index)
    # Days of other creators too, in another order; "b" has none.
    days = pd.Series(pd.to_datetime(["2026-03-11", "2026-01-11", "2026-05-01"]), index=list("cax"))
    out = reasons_for(contrib, feats, days, catalog={})
    assert out == [
        ["largest follower jump on 2026-01-01 (+0.50)"],
        ["largest follower jump 10 days ago (+0.50)"],
        ["largest follower jump on 2026-03-01 (+0.50)"],
    ]
    # Days as text are read as dates; repeated creators in the days cannot be matched.
    as_text = days.dt.strftime("%Y-%m-%d")
    assert reasons_for(contrib, feats, as_text, catalog={}) == out
    with pytest.raises(ValueError, match="duplicate"):
        reasons_for(contrib, feats, pd.concat([days, days]), catalog={})
