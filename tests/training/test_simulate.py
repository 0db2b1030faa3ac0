"""Tests of the synthetic creator world: determinism, contract shape, and the target numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from features.dataset import load, load_labels
from features.schema import TABLES, tier_of
from training._sim_growth import PACKAGES
from training._sim_text import BRAND_PRODUCT, NICHES
from training.simulate import CREATORS_PER_BRAND, FORMATS, WorldConfig, simulate, write_world

N = 2_000  # large enough for per-tier medians, small enough for a couple of seconds


@pytest.fixture(scope="module")
def world():
    return simulate(N, seed=7)


@pytest.fixture(scope="module")
def per_creator(world):
    """Posts joined with creator size and fraud kind, plus per-creator engagement stats."""
    cr = world.tables["creators"][["creator_id", "followers", "platform"]]
    kind = world.labels["fraud_labels"][["creator_id", "fraud_kind"]]
    posts = world.tables["posts"].merge(cr, on="creator_id").merge(kind, on="creator_id")
    posts["er"] = (posts["likes"] + posts["comments"]) / posts["followers"]
    g = posts.groupby("creator_id")
    stats = g.agg(
        er=("er", "median"),
        followers=("followers", "first"),
        platform=("platform", "first"),
        kind=("fraud_kind", "first"),
        likes=("likes", "sum"),
        comments=("comments", "sum"),
        n=("likes", "size"),
    )
    stats["cv"] = g["likes"].std() / g["likes"].mean()
    stats["tier"] = tier_of(stats["followers"].to_numpy())
    return posts, stats


def _all_tables(w):
    return {**w.tables, **w.labels}


def test_same_seed_gives_identical_tables():
    a, b = simulate(120, seed=3), simulate(120, seed=3)
    for name, df in _all_tables(a).items():
        assert_frame_equal(df, _all_tables(b)[name], obj=name)


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_seed_gives_identical_files(tmp_path, fmt):
    paths = []
    for run in ("a", "b"):
        w = simulate(60, seed=11)
        paths.append(write_world(w, tmp_path / run / "in", tmp_path / run / "labels", fmt=fmt))
    assert [p.name for p in paths[0]] == [p.name for p in paths[1]]
    assert len(paths[0]) == 12
    for pa, pb in zip(*paths, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_different_seed_differs():
    a, b = simulate(120, seed=1), simulate(120, seed=2)
    assert not a.tables["creators"]["followers"].equals(b.tables["creators"]["followers"])
    assert not a.tables["posts"]["caption"].head(50).equals(b.tables["posts"]["caption"].head(50))


def test_contract_columns_and_dtypes(world):
    for name, df in world.tables.items():
        for col in TABLES[name]:
            assert col.name in df, f"{name}.{col.name} missing"
            s = df[col.name]
            if col.type == "int":
                assert str(s.dtype) in ("int64", "Int64"), (name, col.name, s.dtype)
            elif col.type == "bool":
                assert s.dtype == bool, (name, col.name)
            elif col.type in ("date", "timestamp"):
                assert s.dtype == "datetime64[ns]", (name, col.name)
                if col.type == "date":
                    assert (s == s.dt.normalize()).all(), (name, col.name)
            elif col.type == "str" and col.required:
                assert s.map(lambda v: isinstance(v, str) and v != "").all(), (name, col.name)
    views = world.tables["posts"]["views"]
    is_video = world.tables["posts"]["media_type"].isin(["video", "reel", "short"])
    assert views[is_video].notna().all() and views[~is_video].isna().all()


def test_ids_unique(world):
    t, lab = world.tables, world.labels
    assert t["creators"]["creator_id"].is_unique
    assert t["creators"]["handle"].is_unique
    assert t["brands"]["brand_id"].is_unique
    assert not t["posts"].duplicated(["creator_id", "post_id"]).any()
    assert not t["audience_sample"].duplicated(["creator_id", "follower_id"]).any()
    assert not t["follower_history"].duplicated(["creator_id", "date"]).any()
    assert not lab["fit_labels"].duplicated(["brand_id", "creator_id"]).any()
    assert len(lab["account_labels"]) == len(t["audience_sample"])


def test_snapshot_matches_last_history_value(world):
    cr = world.tables["creators"].set_index("creator_id")
    h = world.tables["follower_history"]
    end = pd.Timestamp(WorldConfig().end_date)
    assert (cr["snapshot_at"] == end).all()
    last = h[h["date"] == end].set_index("creator_id")
    assert h.groupby("creator_id")["date"].max().eq(end).all()
    assert (last["followers"] == cr.loc[last.index, "followers"]).all()
    assert (last["following"] == cr.loc[last.index, "following"]).all()
    # Messy sampling: some creators have no history, some only a handful of points.
    n_points = h.groupby("creator_id").size().reindex(cr.index, fill_value=0)
    assert 0.02 < (n_points == 0).mean() < 0.09
    assert (n_points.between(1, 8)).mean() > 0.05
    assert (cr["followers"].between(900, 5_500_000)).all()


def test_instagram_engagement_falls_with_tier(per_creator):
    _, stats = per_creator
    ig = stats[stats["platform"] == "instagram"]
    med = ig.groupby("tier")["er"].median()
    order = ["nano", "micro", "mid", "macro", "mega"]
    assert all(med[a] > med[b] for a, b in zip(order, order[1:], strict=False))
    assert 0.02 <= med["nano"] <= 0.05
    assert 0.003 <= med["mega"] <= 0.005


def test_tiktok_and_youtube_medians(per_creator):
    _, stats = per_creator
    med = stats.groupby("platform")["er"].median()
    assert 0.010 <= med["tiktok"] <= 0.016  # FACTS: 1.31%
    assert 0.004 <= med["youtube"] <= 0.007  # FACTS: 0.54%


def test_fraud_share_and_kinds(world):
    lab = world.labels["fraud_labels"]
    assert 0.12 <= lab["bought_followers"].mean() <= 0.24
    assert (lab["bought_followers"] == (lab["fraud_kind"] != "none")).all()
    kinds = set(lab["fraud_kind"])
    assert {"none", "burst", "drip", "likes", "pod", "f4f"} <= kinds
    assert any("+" in k for k in kinds)
    assert (lab["source"] == "simulator").all()


def test_burst_jumps_are_round_packages(world):
    ev = world.labels["fraud_events"]
    burst = ev[ev["kind"] == "burst"]
    assert len(burst) > 20
    assert burst["size"].isin(PACKAGES).all()
    # The observed jump from the day before to the day after the step is about the package.
    h = world.tables["follower_history"].set_index(["creator_id", "date"])["followers"]
    cid = burst["creator_id"]
    before = list(zip(cid, burst["start_date"] - pd.Timedelta(days=1), strict=True))
    after = list(zip(cid, burst["end_date"] + pd.Timedelta(days=1), strict=True))
    ok = np.array([b in h.index and a in h.index for b, a in zip(before, after, strict=True)])
    assert ok.sum() >= 10
    jump = (
        h.loc[[a for a, k in zip(after, ok, strict=True) if k]].to_numpy()
        - h.loc[[b for b, k in zip(before, ok, strict=True) if k]].to_numpy()
    )
    ratio = jump / burst["size"].to_numpy()[ok]
    assert 0.9 <= np.median(ratio) <= 1.15
    assert np.mean((ratio > 0.7) & (ratio < 1.4)) >= 0.8


def test_f4f_following_high_and_oscillating(world):
    kind = world.labels["fraud_labels"].set_index("creator_id")["fraud_kind"]
    cr = world.tables["creators"].set_index("creator_id")
    f4f = kind.index[kind == "f4f"]
    assert (cr.loc[f4f, "following"] >= 1_500).all()
    honest = kind.index[kind == "none"]
    assert (cr.loc[honest, "following"] >= 1_500).mean() < 0.15
    h = world.tables["follower_history"]
    h = h[h["creator_id"].isin(f4f)]
    swing = h.groupby("creator_id")["following"].agg(lambda s: s.max() / s.min())
    assert swing[h.groupby("creator_id").size() > 30].median() > 1.25


def test_comments_per_100_likes(per_creator):
    _, stats = per_creator
    ratio = 100 * stats["comments"] / stats["likes"]
    organic = ratio[(stats["kind"] == "none") & (stats["likes"] > 2_000)]
    assert organic.between(2, 5).mean() >= 0.85
    likes_fraud = ratio[stats["kind"].str.contains("likes")]
    assert likes_fraud.median() < 1.5


def test_like_spread_organic_vs_bought(world, per_creator):
    posts, stats = per_creator
    organic = stats[(stats["kind"] == "none") & (stats["n"] >= 10)]["cv"]
    assert organic.between(0.4, 1.0).mean() >= 0.7
    ev = world.labels["fraud_events"]
    hit = ev[ev["kind"] == "likes"][["creator_id", "post_id"]].merge(posts)
    g = hit.groupby("creator_id")["likes"]
    cv = (g.std() / g.mean())[g.size() >= 5]
    assert len(cv) >= 10
    assert (cv < 0.4).mean() >= 0.9


def test_pods_comment_within_the_hour_from_recurring_members(world):
    kind = world.labels["fraud_labels"].set_index("creator_id")["fraud_kind"]
    pod = kind.index[kind.str.contains("pod")]
    ev = world.labels["fraud_events"]
    pod_posts = ev[ev["kind"] == "pod"][["creator_id", "post_id"]]
    com = (
        world.tables["comments"]
        .merge(pod_posts)
        .merge(world.tables["posts"][["creator_id", "post_id", "posted_at"]])
    )
    delay = (com["created_at"] - com["posted_at"]).dt.total_seconds()
    assert (delay < 3600).mean() > 0.5
    top = com[com["creator_id"].isin(pod)].groupby(["creator_id", "commenter_id"]).size()
    assert (top.groupby(level=0).max() >= 3).mean() > 0.5
    organic = world.tables["comments"][
        world.tables["comments"]["creator_id"].isin(kind.index[kind == "none"])
    ]
    merged = organic.merge(world.tables["posts"][["creator_id", "post_id", "posted_at"]])
    late = (merged["created_at"] - merged["posted_at"]).dt.total_seconds() > 3600
    assert late.mean() > 0.6


def test_audience_fake_share_targets(world):
    truth = world.labels["audience_truth"].set_index("creator_id")["fake_share"]
    assert 0.24 <= truth.mean() <= 0.36  # SRF 2017: about 30%
    assert 0.14 <= truth.median() <= 0.20  # SRF 2017: median 14-20%
    honest = world.labels["fraud_labels"].set_index("creator_id")["bought_followers"].eq(False)
    assert (truth[honest] > 0.4).mean() > 0.1  # bots follow everyone
    size = world.tables["creators"].set_index("creator_id")["followers"]
    rho = truth[honest].rank().corr(size[honest].rank())
    assert abs(rho) < 0.1  # unrelated to size
    acc = world.labels["account_labels"]
    est = acc.groupby("creator_id")["is_fake"].mean()
    assert np.corrcoef(est, truth.loc[est.index])[0, 1] > 0.9
    without = 1 - acc["creator_id"].nunique() / len(truth)
    assert 0.02 < without < 0.09


def test_fake_accounts_look_like_bots_with_overlap(world):
    acc = world.labels["account_labels"]
    fake, real = acc[acc["is_fake"]], acc[~acc["is_fake"]]
    assert fake["followers"].median() < real["followers"].median() / 4
    assert fake["following"].median() > real["following"].median()
    assert (fake["media_count"] == 0).mean() > 0.4 > (real["media_count"] == 0).mean()
    assert fake["has_profile_pic"].mean() < 0.75 < real["has_profile_pic"].mean()
    assert (fake["username_digit_count"] > 0).mean() > 2 * (real["username_digit_count"] > 0).mean()
    # Overlap both ways: bots with posts and pictures, real people without.
    assert ((fake["media_count"] > 10) & fake["has_profile_pic"]).mean() > 0.05
    assert (~real["has_profile_pic"]).mean() > 0.01
    counted = acc["username"].str.count(r"\d")
    assert (counted == acc["username_digit_count"]).all()
    assert (acc["username"].str.len() == acc["username_length"]).all()


def test_viral_hard_negatives(world, per_creator):
    posts, stats = per_creator
    kind = world.labels["fraud_labels"].set_index("creator_id")["fraud_kind"]
    oe = world.labels["organic_events"]
    honest_viral = oe["creator_id"].isin(kind.index[kind == "none"])
    assert 0.05 <= honest_viral.sum() / (kind == "none").sum() <= 0.11  # issue: ~8%
    assert {"viral", "giveaway"} == set(oe["kind"])
    # The viral post stands out 5-50x from the creator's usual posts...
    hit = oe.merge(posts, on=["creator_id", "post_id"])
    usual = posts.groupby("creator_id")["likes"].median().loc[hit["creator_id"]].to_numpy()
    assert np.median(hit["likes"].to_numpy() / np.maximum(usual, 1)) > 4
    # ...and followers rise after it, with the engagement.
    h = world.tables["follower_history"].set_index(["creator_id", "date"])["followers"]
    before = list(zip(oe["creator_id"], oe["start_date"] - pd.Timedelta(days=1), strict=True))
    after = list(zip(oe["creator_id"], oe["end_date"], strict=True))
    ok = [b in h.index and a in h.index for b, a in zip(before, after, strict=True)]
    rise = (
        h.loc[[a for a, k in zip(after, ok, strict=True) if k]].to_numpy()
        - h.loc[[b for b, k in zip(before, ok, strict=True) if k]].to_numpy()
    )
    assert np.median(rise / oe["size"].to_numpy()[ok]) > 0.7
    # Giveaway posts carry far more comments per like than other posts.
    give = hit[hit["kind"] == "giveaway"]
    assert (give["comments"] / give["likes"]).median() > 0.1


def test_languages_and_niches(world):
    truth = world.labels["audience_truth"]
    other = (truth["language"] != "en").mean()
    assert 0.06 <= other <= 0.14
    assert truth["niche"].nunique() == 12
    zh = truth.loc[truth["language"] == "zh", "creator_id"]
    caps = world.tables["posts"].loc[world.tables["posts"]["creator_id"].isin(zh), "caption"]
    assert caps.str.contains(r"[\u4e00-\u9fff]").mean() > 0.9
    sponsored = world.tables["posts"]["is_sponsored"]
    assert 0.02 < sponsored.mean() < 0.3
    tags = world.tables["posts"].loc[sponsored, "caption"].str.contains("#")
    assert tags.all()


def test_fit_outcomes_follow_topic_and_fraud(world):
    fit = world.labels["fit_labels"]
    assert set(fit["outcome"]) == {0, 1, 2, 3}
    per_brand = fit.groupby("brand_id").size()
    assert per_brand.between(60, 100).all()
    assert len(per_brand) == max(5, N // CREATORS_PER_BRAND)
    truth = world.labels["audience_truth"].set_index("creator_id")["niche"]
    fraud = world.labels["fraud_labels"].set_index("creator_id")["bought_followers"]
    # The brand's niche, read back from the product its brief names (any brief language).
    products = [
        (phrase, niche)
        for lang_list in BRAND_PRODUCT.values()
        for phrase, niche in zip(lang_list.split("|"), NICHES, strict=True)
    ]
    brand_niche = {
        bid: next(niche for phrase, niche in products if phrase in brief)
        for bid, brief in zip(
            world.tables["brands"]["brand_id"], world.tables["brands"]["brief"], strict=True
        )
    }
    fit = fit.assign(
        niche=truth.loc[fit["creator_id"]].to_numpy(),
        fraud=fraud.loc[fit["creator_id"]].to_numpy(),
        brand_niche=fit["brand_id"].map(brand_niche),
    )
    by_fraud = fit.groupby("fraud")["outcome"].mean()
    assert by_fraud[False] > by_fraud[True] + 0.3
    same = fit["niche"] == fit["brand_niche"]
    assert fit.loc[same, "outcome"].mean() > fit.loc[~same, "outcome"].mean() + 0.8


def test_config_validation():
    with pytest.raises(ValueError, match="fraud_share"):
        simulate(10, fraud_share=1.5)
    with pytest.raises(ValueError, match="n_creators"):
        simulate(0)
    with pytest.raises(TypeError):
        simulate(10, not_a_setting=1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_written_world_loads_cleanly(tmp_path, fmt):
    w = simulate(80, seed=5)
    write_world(w, tmp_path / "in", tmp_path / "labels", fmt=fmt)
    data = load(tmp_path / "in")
    assert len(data.errors) == 0, data.errors.head().to_string()
    assert data.unscorable == {}
    assert len(data.creators) == 80
    assert len(data.posts) == len(w.tables["posts"])
    assert len(data.audience_sample) == len(w.tables["audience_sample"])
    labels, errors = load_labels(tmp_path / "labels")
    assert len(errors) == 0, errors.head().to_string()
    assert set(labels) == {"fraud_labels", "fit_labels", "account_labels"}
