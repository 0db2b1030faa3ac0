"""The Python API: exact output columns, one row per input creator in order, errors kept."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from features.schema import FIT_COLUMNS, SCORE_COLUMNS
from serving.predict import RISK_BANDS, Scorer, risk_band


def test_risk_bands_cut_at_the_documented_thresholds():
    assert [low for _, low in RISK_BANDS] == [0.0, 0.2, 0.5]
    got = risk_band([0.0, 0.1999, 0.2, 0.4999, 0.5, 1.0, np.nan]).tolist()
    assert got == ["low", "low", "medium", "medium", "high", "high", None]


def test_score_returns_the_contract_columns_in_input_order(scorer, world_tables):
    tables = dict(world_tables)
    # Reverse the creators: the output must follow the input, not the model's order.
    tables["creators"] = tables["creators"].iloc[::-1].reset_index(drop=True)
    out = scorer.score(tables)
    assert list(out.columns) == list(SCORE_COLUMNS)
    assert out["creator_id"].tolist() == tables["creators"]["creator_id"].tolist()
    assert (out["status"] == "ok").all() and (out["error"] == "").all()
    assert out["fraud_risk"].between(0, 1).all()
    assert out["risk_band"].tolist() == risk_band(out["fraud_risk"]).tolist()
    assert set(out["tier"]) <= {"nano", "micro", "mid", "macro", "mega"}
    assert (out["model_version"] == scorer.bundle.version).all()


def test_reasons_only_for_flagged_rows_by_default(scorer, world_tables):
    out = scorer.score(world_tables)
    parsed = out["reasons"].map(json.loads)
    flagged = out["risk_band"].isin(["medium", "high"])
    assert flagged.any() and (~flagged).any()
    assert parsed[flagged].map(len).gt(0).all()
    assert parsed[~flagged].map(len).eq(0).all()
    every = scorer.score(world_tables, reasons="all")["reasons"].map(json.loads)
    assert every.map(len).gt(0).all()
    assert every[flagged].tolist() == parsed[flagged].tolist()


def test_bad_rows_give_error_rows_in_place(scorer, world_tables):
    tables = {k: v.copy() for k, v in world_tables.items()}
    bad_id = tables["creators"]["creator_id"].iloc[2]
    first = tables["posts"].index[tables["posts"]["creator_id"] == bad_id][0]
    tables["posts"].loc[first, "likes"] = -3
    tables["creators"]["followers"] = tables["creators"]["followers"].astype(object)
    tables["creators"].loc[5, "followers"] = "many"
    out = scorer.score(tables)
    assert len(out) == len(tables["creators"])
    errors = out[out["status"] == "error"]
    assert errors.index.tolist() == [2, 5]
    assert "posts row" in errors.loc[2, "error"] and "likes" in errors.loc[2, "error"]
    assert "followers" in errors.loc[5, "error"]
    assert errors["fraud_risk"].isna().all() and errors["risk_band"].isna().all()
    ok = out.drop(index=[2, 5])
    assert (ok["status"] == "ok").all() and ok["fraud_risk"].notna().all()


def test_scores_follow_the_input_whatever_the_feature_frame_order(scorer, world_tables):
    from features.dataset import load

    data, X = scorer.features(load(world_tables))
    want = scorer.score_features(data, X)
    # Each creator keeps its own risk, tier and engagement when the frame comes shuffled.
    shuffled = X.sample(frac=1.0, random_state=0)
    assert not shuffled.index.equals(X.index)
    pd.testing.assert_frame_equal(scorer.score_features(data, shuffled), want)
    assert want["tier"].tolist() == world_tables["creators"]["followers"].map(_tier).tolist()


def _tier(followers: float) -> str:
    from features.schema import tier_of

    return tier_of(np.array([followers], dtype="float64"))[0]


def test_score_accepts_a_folder_and_equals_the_mapping(scorer, world_dir, world_tables):
    a = scorer.score(world_dir)
    b = scorer.score(world_tables)
    pd.testing.assert_frame_equal(a, b)


def test_fit_ranks_within_brands_and_keeps_top(scorer, world_tables):
    brands = world_tables["brands"]
    full = scorer.fit(world_tables, brands)
    n_creators = len(world_tables["creators"])
    assert list(full.columns) == list(FIT_COLUMNS)
    assert len(full) == len(brands) * n_creators
    for _, group in full.groupby("brand_id"):
        assert sorted(group["fit_rank"]) == list(range(1, n_creators + 1))
        assert group["fit_score"].is_monotonic_decreasing or group["fit_score"].nunique() < len(
            group
        )
    top = scorer.fit(world_tables, brands, top=3)
    assert len(top) == 3 * len(brands)
    best = full[full["fit_rank"] <= 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        top[["brand_id", "creator_id", "fit_rank"]], best[["brand_id", "creator_id", "fit_rank"]]
    )


def test_fit_reports_bad_brands_and_bad_creators(scorer, world_tables):
    tables = {k: v.copy() for k, v in world_tables.items()}
    tables["creators"].loc[0, "followers"] = -1
    brands = tables["brands"].head(3).copy()
    brands.loc[1, "brief"] = None
    out = scorer.fit(tables, brands, top=2)
    bad_brand = out[out["creator_id"] == ""]
    assert bad_brand["brand_id"].tolist() == [brands["brand_id"][1]]
    assert "brief" in bad_brand["error"].iloc[0]
    # Each good brand: its 2 best, then the unscorable creator as an error row.
    for b in brands["brand_id"][[0, 2]]:
        rows = out[out["brand_id"] == b]
        assert rows["status"].tolist() == ["ok", "ok", "error"]
        assert rows["creator_id"].iloc[2] == tables["creators"]["creator_id"][0]
    assert out["brand_id"].drop_duplicates().tolist() == brands["brand_id"].tolist()


def test_load_refuses_a_tampered_bundle(bundle_dir, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle_dir, copy)
    target = copy / "fraud" / "calibrator.json"
    target.write_text(target.read_text().replace("1", "2", 1))
    with pytest.raises(Exception, match="calibrator.json"):
        Scorer.load(copy)


# ------------------------------------------------------------------ optional columns, row-wise
# The optional columns are built row by row in Python (a request scores a handful of creators,
# where pandas' per-operation costs dominated); these pin them to a column-wise pandas reference.


def _pct_ref(values: np.ndarray) -> pd.Series:
    return pd.Series(values).map(lambda v: f"{v:.0%}")


def _audience_reasons_ref(X: pd.DataFrame, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The column-wise pandas construction the row-wise one replaced."""
    from serving.predict import _AUDIENCE_TRAITS, _feature

    n = len(X)
    share = _feature(X, "aud_fake_share")
    sampled = _feature(X, "aud_n_sampled")
    mass = _feature(X, "aud_mass_follower_share")
    interval = np.where(
        np.isfinite(low),
        (" (90% interval " + _pct_ref(low) + "-" + _pct_ref(high) + ")").to_numpy(dtype=object),
        "",
    )
    fake = (
        "an estimated "
        + _pct_ref(share)
        + " of followers look fake"
        + pd.Series(interval, dtype=object)
        + ", from "
        + pd.Series(sampled).map(lambda v: f"{v:,.0f}")
        + " sampled accounts"
    )
    mass_text = _pct_ref(mass) + (
        " of sampled followers follow more than 1,500 accounts (they see about 10% of posts)"
    )
    pieces = [(np.isfinite(share), fake), (np.isfinite(mass), mass_text)]
    traits = [c for c in _AUDIENCE_TRAITS if c in X.columns]
    if traits:
        values = X[traits].to_numpy(dtype="float64")
        order = np.argsort(-np.nan_to_num(values, nan=-1.0), axis=1, kind="stable")
        for rank in range(min(2, len(traits))):
            j = order[:, rank]
            v = values[np.arange(n), j]
            words = np.asarray([_AUDIENCE_TRAITS[t] for t in traits], dtype=object)[j]
            pieces.append((np.isfinite(v), _pct_ref(v) + " " + pd.Series(words, dtype=object)))
    text = pd.Series("", index=np.arange(n), dtype=object)
    for present, phrase in pieces:
        quoted = '"' + phrase.reset_index(drop=True) + '"'
        sep = np.where(text == "", "", ", ")
        text = text + np.where(present, sep + quoted, "")
    return ("[" + text + "]").to_numpy(dtype=object)


def _random_audience_frame(rng: np.random.Generator, n: int, traits: list[str]) -> pd.DataFrame:
    def cells() -> np.ndarray:
        v = rng.choice([0.0, 0.004, 0.005, 0.125, 0.335, 0.5, 0.995, 1.0, np.nan], size=n)
        return np.where(rng.random(n) < 0.5, rng.random(n), v)

    X = pd.DataFrame(
        {
            "aud_fake_share": cells(),
            "aud_n_sampled": rng.choice([1.0, 99.0, 1234.0, 1234567.0, np.nan], size=n),
            "aud_mass_follower_share": cells(),
            **{t: cells() for t in traits},
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="creator_id"),
    )
    return X


@pytest.mark.parametrize("seed", range(6))
def test_audience_reasons_equal_the_column_wise_reference(seed):
    from serving.predict import _AUDIENCE_TRAITS, _audience_reasons

    rng = np.random.default_rng(seed)
    names = list(_AUDIENCE_TRAITS)
    traits = [t for t in names if rng.random() < 0.7]  # some frames lack some trait columns
    n = int(rng.integers(0, 9))
    X = _random_audience_frame(rng, n, traits)
    low = np.where(rng.random(n) < 0.3, np.nan, rng.random(n) * 0.5)
    high = low + rng.random(n) * 0.5
    got = _audience_reasons(X, low, high)
    assert got.dtype == object and len(got) == n
    if n:
        assert got.tolist() == _audience_reasons_ref(X, low, high).tolist()
    for text in got:
        json.loads(text)  # every row is a JSON list


def test_audience_reasons_by_hand():
    from serving.predict import _audience_reasons

    X = pd.DataFrame(
        {
            "aud_fake_share": [0.25, np.nan],
            "aud_n_sampled": [1500.0, np.nan],
            "aud_mass_follower_share": [0.1, np.nan],
            "aud_no_pic_share": [0.2, np.nan],
            "aud_zero_posts_share": [0.3, np.nan],
            "aud_digit_name_share": [np.nan, np.nan],
            "aud_empty_bio_share": [0.05, np.nan],
        }
    )
    got = _audience_reasons(X, np.array([0.2, np.nan]), np.array([0.31, np.nan]))
    assert json.loads(got[0]) == [
        "an estimated 25% of followers look fake (90% interval 20%-31%), from 1,500 sampled "
        "accounts",
        "10% of sampled followers follow more than 1,500 accounts (they see about 10% of posts)",
        "30% of sampled followers have never posted",
        "20% of sampled followers have no profile picture",
    ]
    assert got[1] == "[]"


def test_evidence_json_counts_round_half_to_even_like_pandas():
    from serving.predict import _json_counts

    counts = {"posts": np.array([2.5, 3.5, 0.0]), "comments": np.array([10.0, 1e6, 7.49])}
    got = _json_counts(counts, 3).tolist()
    assert got == [
        '{"posts": 2, "comments": 10}',
        '{"posts": 4, "comments": 1000000}',
        '{"posts": 0, "comments": 7}',
    ]
    want = pd.DataFrame(counts).round().astype("int64").astype(str)
    assert [json.loads(t)["posts"] for t in got] == want["posts"].astype(int).tolist()
    assert _json_counts({"posts": np.zeros(0)}, 0).tolist() == []


def test_extra_columns_with_every_creator_unscorable(scorer, world_tables):
    # No feature rows at all: the optional columns hold their fills, nothing raises.
    tables = {k: v.copy() for k, v in world_tables.items()}
    tables["creators"] = tables["creators"].head(2).copy()
    tables["creators"]["followers"] = -1.0
    out = scorer.score(tables, extra=True)
    assert out["status"].tolist() == ["error", "error"]
    assert out["audience_reasons"].tolist() == ["[]", "[]"]
    assert out["evidence"].isna().all() and out["fraud_confidence"].isna().all()
    assert out["audience_fake_share_low"].dtype == "float64"
    assert out["audience_fake_share_low"].isna().all()


def test_extra_columns_follow_the_confidence_frame(scorer, world_tables):
    from features.dataset import load
    from features.schema import SCORE_EXTRA_COLUMNS

    data, X = scorer.features(load(world_tables))
    out = scorer.score_features(data, X, extra=True)
    assert list(out.columns) == [*SCORE_COLUMNS, *SCORE_EXTRA_COLUMNS]
    assert isinstance(out.index, pd.RangeIndex)
    more = scorer.confidence(X)
    assert list(more.columns) == [
        "evidence",
        "fraud_confidence",
        "audience_fake_share_low",
        "audience_fake_share_high",
        "low_quality_audience",
        "audience_reasons",
    ]
    aligned = more.loc[out["creator_id"]].reset_index(drop=True)
    for name in SCORE_EXTRA_COLUMNS:
        pd.testing.assert_series_equal(out[name], aligned[name], check_names=False)
