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
