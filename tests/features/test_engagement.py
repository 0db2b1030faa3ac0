"""Tests for the engagement features and the expected-engagement curve."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal
from sklearn.exceptions import NotFittedError

from features.engagement import FEATURES, EngagementCurve, engagement_features

START = pd.Timestamp("2024-01-01")
NAMES = [f.name for f in FEATURES]


def posts_frame(rows) -> pd.DataFrame:
    """Posts from (creator_id, day offset (float), likes, comments[, views, sponsored]) rows."""
    full = [tuple(r) + (np.nan, None)[len(r) - 4 :] for r in rows]
    frame = pd.DataFrame(
        full, columns=["creator_id", "day", "likes", "comments", "views", "is_sponsored"]
    )
    return pd.DataFrame(
        {
            "creator_id": frame["creator_id"].astype(object),
            "post_id": [str(i) for i in range(len(frame))],
            "posted_at": START + pd.to_timedelta(frame["day"].astype(float), unit="D"),
            "likes": frame["likes"].astype("float64"),
            "comments": frame["comments"].astype("float64"),
            "views": frame["views"].astype("float64"),
            "is_sponsored": frame["is_sponsored"].astype("boolean"),
        }
    )


def history_frame(series: dict[str, tuple[list[int], list[float]]]) -> pd.DataFrame:
    """History from {creator: (day offsets, follower counts)}."""
    parts = [
        pd.DataFrame(
            {
                "creator_id": cid,
                "date": START + pd.to_timedelta(days, unit="D"),
                "followers": np.asarray(fol, dtype="float64"),
                "following": np.nan,
            }
        )
        for cid, (days, fol) in series.items()
    ]
    return pd.concat(parts, ignore_index=True)


def creators_frame(ids, followers, platforms=None) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "creator_id": list(ids),
            "platform": platforms or ["instagram"] * len(ids),
            "followers": np.asarray(followers, dtype="float64"),
        }
    )


def as_of_for(ids, day) -> pd.Series:
    return pd.Series(pd.Timestamp(day), index=pd.Index(list(ids), name="creator_id"))


# --------------------------------------------------------------------------------------------
# hand-checked fixture
# --------------------------------------------------------------------------------------------


def test_three_creators_by_hand():
    creators = creators_frame(
        ["a", "b", "c"], [10_000, 50_000, 20_000], ["instagram", "tiktok", "youtube"]
    )
    posts = posts_frame(
        [
            ("a", 0, 190, 10),
            ("a", 2, 290, 10),
            ("a", 4, 390, 10),
            ("a", 8.9, 990, 10),
            ("a", 9.0, 99_999, 0),  # the day after as_of: ignored
            ("c", 5.5, 510, 0),
        ]
    )
    # c grew from 20,000 to 30,000 over ten days: 25,500 followers at day 5.5.
    history = history_frame({"c": ([0, 10], [20_000, 30_000])})
    as_of = pd.Series(
        START + pd.to_timedelta([8, 8, 20], unit="D"),
        index=pd.Index(["a", "b", "c"], name="creator_id"),
    )
    out = engagement_features(posts, creators, history, as_of)

    assert list(out.index) == ["a", "b", "c"] and list(out.columns) == NAMES
    assert (out.dtypes == "float64").all()
    a, b, c = out.loc["a"], out.loc["b"], out.loc["c"]
    likes = np.array([190.0, 290, 390, 990])
    assert a["eng_n_posts"] == 4
    assert a["eng_er_median"] == pytest.approx(0.035)  # rates 0.02, 0.03, 0.04, 0.10
    assert a["eng_comments_per_like"] == pytest.approx(40 / likes.sum())
    assert a["eng_likes_cv"] == pytest.approx(likes.std(ddof=1) / likes.mean())
    assert a["eng_like_spike_ratio"] == pytest.approx(990 / 340)
    assert a["eng_posts_per_week"] == pytest.approx(3 / (8.9 / 7))
    gaps = np.array([2, 2, 4.9])
    assert a["eng_gap_cv"] == pytest.approx(gaps.std() / gaps.mean())
    # Prior: Instagram line through 3.5% at 5k and 0.4% at 2M, evaluated at 10k.
    slope = np.log10(0.004 / 0.035) / np.log10(2_000_000 / 5_000)
    expected = 0.035 * 2.0**slope
    assert a["eng_er_expected"] == pytest.approx(expected)
    assert a["eng_er_vs_expected"] == pytest.approx(0.035 / expected)
    assert a["eng_er_log_ratio"] == pytest.approx(np.log(0.035 / expected))
    assert 50 < a["eng_er_percentile"] < 100
    assert np.isnan(a["eng_spike_follower_growth_rel"])  # no history for a
    assert np.isnan(a["eng_likes_per_view"]) and np.isnan(a["eng_sponsored_er_ratio"])
    # b has no posts: only the expected rate, which needs just the creators row.
    assert b["eng_er_expected"] == pytest.approx(0.0131)
    assert b.drop("eng_er_expected").isna().all()
    # c: followers at posting time come from the history, not from the snapshot count.
    assert c["eng_er_median"] == pytest.approx(510 / 25_500)
    assert c["eng_n_posts"] == 1
    assert np.isnan(c["eng_likes_cv"]) and np.isnan(c["eng_posts_per_week"])
    assert c["eng_er_expected"] == pytest.approx(0.0054)


def test_missing_posts_give_nan_not_zero():
    creators = creators_frame(["a", "b"], [1_000, np.nan])
    for posts in (None, posts_frame([("a", 0, 1, 1)]).iloc[:0]):
        out = engagement_features(posts, creators, None, as_of_for(["a", "b"], "2024-02-01"))
        assert list(out.columns) == NAMES
        assert out.drop(columns="eng_er_expected").isna().all().all()
        assert out.loc["a", "eng_er_expected"] > 0 and np.isnan(out.loc["b", "eng_er_expected"])


def test_views_and_sponsored_posts():
    creators = creators_frame(["v"], [10_000])
    posts = posts_frame([("v", d, 300, 0, 6000, d % 3 == 0) for d in range(9)])
    posts.loc[posts["is_sponsored"], "likes"] = 150.0
    out = engagement_features(posts, creators, None, as_of_for(["v"], "2024-01-10")).loc["v"]
    assert out["eng_views_per_follower"] == pytest.approx(0.6)
    assert out["eng_likes_per_view"] == pytest.approx(0.05)
    assert out["eng_sponsored_er_ratio"] == pytest.approx(0.5)


# --------------------------------------------------------------------------------------------
# fraud signatures
# --------------------------------------------------------------------------------------------


def _jump_world(likes_after: float) -> tuple:
    """20,000 followers, +10,000 on day 60; a post every 3 days with 600 likes before."""
    days = np.arange(120)
    followers = np.where(days < 60, 20_000.0, 30_000.0) + days
    history = history_frame({"x": (list(days), list(followers))})
    rows = [("x", d + 0.5, 600.0 if d < 60 else likes_after, 20.0) for d in range(0, 120, 3)]
    return history, posts_frame(rows)


def test_bought_followers_lower_engagement_after_the_jump_viral_does_not():
    creators = creators_frame(["x"], [30_119])
    as_of = as_of_for(["x"], START + pd.Timedelta("119D"))
    history, bought_posts = _jump_world(likes_after=600.0)  # the new followers never engage
    bought = engagement_features(bought_posts, creators, history, as_of).loc["x"]
    history, viral_posts = _jump_world(likes_after=900.0)  # they engage like the old ones
    viral = engagement_features(viral_posts, creators, history, as_of).loc["x"]
    assert bought["eng_er_jump_ratio"] == pytest.approx(20_000 / 30_000, rel=0.05)
    assert bought["eng_likes_jump_ratio"] == pytest.approx(1.0, rel=0.02)
    assert viral["eng_er_jump_ratio"] >= 0.95
    assert viral["eng_likes_jump_ratio"] == pytest.approx(1.5, rel=0.02)


def test_like_spike_without_follower_growth():
    days = np.arange(40)
    flat = history_frame({"bot": (list(days), [50_000.0] * 40)})
    grew = history_frame({"hit": (list(days), list(np.where(days < 12, 50_000.0, 60_000.0)))})
    likes = [1000.0] * 10
    likes[5] = 20_000.0  # the post on day 10.5; "hit" gains 10,000 followers on day 12
    rows = [(cid, 2 * i + 0.5, lk, 30.0) for cid in ("bot", "hit") for i, lk in enumerate(likes)]
    creators = creators_frame(["bot", "hit"], [50_000, 60_000])
    out = engagement_features(
        posts_frame(rows),
        creators,
        pd.concat([flat, grew]),
        as_of_for(["bot", "hit"], START + pd.Timedelta("39D")),
    )
    assert out.loc["bot", "eng_like_spike_ratio"] == pytest.approx(20.0)
    assert out.loc["bot", "eng_spike_follower_growth_rel"] == 0.0
    assert out.loc["hit", "eng_spike_follower_growth_rel"] == pytest.approx(0.2)


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------


@st.composite
def worlds(draw, max_creators: int = 4):
    """Random creators with posts (some without) and irregular follower histories."""
    n = draw(st.integers(1, max_creators))
    ids = [f"c{i}" for i in range(n)]
    post_rows, hist = [], {}
    for cid in ids:
        for _ in range(draw(st.integers(0, 12))):
            post_rows.append(
                (
                    cid,
                    draw(st.integers(0, 60 * 24)) / 24.0,
                    draw(st.integers(0, 50_000)),
                    draw(st.integers(0, 2_000)),
                    draw(st.one_of(st.just(np.nan), st.integers(1, 10**6).map(float))),
                    draw(st.sampled_from([True, False, None])),
                )
            )
        days = sorted(draw(st.sets(st.integers(0, 60), max_size=30)))
        if days:
            steps = draw(st.lists(st.integers(-300, 8000), min_size=len(days), max_size=len(days)))
            level = draw(st.integers(1, 200_000))
            hist[cid] = (days, [float(max(level + s, 1)) for s in np.cumsum(steps)])
    posts = posts_frame(post_rows) if post_rows else None
    history = history_frame(hist) if hist else None
    followers = [draw(st.integers(1, 10**6)) for _ in ids]
    platforms = [draw(st.sampled_from(["instagram", "tiktok", "youtube", "x", None])) for _ in ids]
    creators = creators_frame(ids, followers, platforms)
    cut = [START + pd.Timedelta(days=draw(st.integers(5, 60))) for _ in ids]
    as_of = pd.Series(cut, index=pd.Index(ids, name="creator_id")).astype("datetime64[ns]")
    return posts, creators, history, as_of


PROPS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(
    world=worlds(), later=st.lists(st.tuples(st.integers(0, 3), st.integers(24, 2000)), max_size=8)
)
def test_rows_after_as_of_change_nothing(world, later):
    posts, creators, history, as_of = world
    ids = list(creators["creator_id"])
    pick = [ids[i % len(ids)] for i, _ in later]
    before = engagement_features(posts, creators, history, as_of)
    if not pick:
        return
    future_posts = posts_frame([(c, 0.0, 10**6, 10**5, 1.0, True) for c in pick])
    future_posts["posted_at"] = [
        as_of[c] + pd.Timedelta(hours=h) for c, (_, h) in zip(pick, later, strict=True)
    ]
    future_posts["post_id"] = [f"late{i}" for i in range(len(pick))]
    future_hist = history_frame({c: ([0], [1e9]) for c in pick})
    future_hist["date"] = [as_of[c] + pd.Timedelta(days=1) for c in future_hist["creator_id"]]
    more_posts = pd.concat([p for p in (posts, future_posts) if p is not None])
    more_hist = pd.concat([h for h in (history, future_hist) if h is not None])
    after = engagement_features(more_posts, creators, more_hist, as_of)
    assert_frame_equal(before, after, check_exact=True)


@PROPS
@given(world=worlds(), cuts=st.lists(st.integers(1, 3), max_size=3), seed=st.integers(0, 99))
def test_any_chunking_gives_identical_features(world, cuts, seed):
    posts, creators, history, as_of = world
    full = engagement_features(posts, creators, history, as_of)
    if posts is not None:
        posts = posts.sample(frac=1.0, random_state=seed)
    bounds = sorted({min(c, len(creators)) for c in cuts} | {0, len(creators)})
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        chunk = creators.iloc[lo:hi]
        mine = chunk["creator_id"]
        parts.append(
            engagement_features(
                None if posts is None else posts[posts["creator_id"].isin(mine)],
                chunk,
                None if history is None else history[history["creator_id"].isin(mine)],
                as_of,
            )
        )
    assert_frame_equal(pd.concat(parts), full, check_exact=True)


# Columns that are ratios of likes, comments and followers (or of times) only.
SCALE_FREE = [
    "eng_n_posts",
    "eng_er_median",
    "eng_comments_per_like",
    "eng_likes_cv",
    "eng_like_spike_ratio",
    "eng_spike_follower_growth_rel",
    "eng_er_jump_ratio",
    "eng_likes_jump_ratio",
    "eng_sponsored_er_ratio",
    "eng_posts_per_week",
    "eng_gap_cv",
]


@PROPS
@given(world=worlds())
def test_scaling_followers_likes_and_comments_leaves_ratios_unchanged(world):
    posts, creators, history, as_of = world
    k = 4.0  # a power of two scales floats exactly
    scaled = engagement_features(
        None
        if posts is None
        else posts.assign(likes=posts["likes"] * k, comments=posts["comments"] * k),
        creators.assign(followers=creators["followers"] * k),
        None if history is None else history.assign(followers=history["followers"] * k),
        as_of,
    )
    base = engagement_features(posts, creators, history, as_of)
    assert_frame_equal(base[SCALE_FREE], scaled[SCALE_FREE], check_exact=False, rtol=1e-12)


# --------------------------------------------------------------------------------------------
# the curve
# --------------------------------------------------------------------------------------------


def test_prior_reproduces_published_ranges():
    curve = EngagementCurve.prior()
    ig = curve.expected([1_000, 5_000, 50_000, 500_000, 2_000_000, 10**8], ["instagram"] * 6)
    np.testing.assert_allclose(ig[[1, 4]], [0.035, 0.004], rtol=1e-12)
    assert np.all(np.diff(ig) <= 0)  # falls with size ...
    assert ig[0] == ig[1] and ig[-1] == ig[-2]  # ... and is held flat outside 5k-2M
    assert 0.01 < ig[2] < 0.035  # 50k: between the nano and mega figures
    np.testing.assert_allclose(
        curve.expected([10_000, 10**6], ["tiktok", "youtube"]), [0.0131, 0.0054], rtol=1e-12
    )
    # x, other and unknown platforms fall back to the pooled (Instagram) curve.
    np.testing.assert_allclose(
        curve.expected([50_000] * 3, ["x", None, "InstaGram"]), [ig[2]] * 3, rtol=1e-12
    )
    pct = curve.percentile(
        [ig[2], 2.1 * ig[2], ig[2] / 2.1, np.nan], [50_000] * 4, ["instagram"] * 4
    )
    assert pct[0] == pytest.approx(50.0)
    assert 85 < pct[1] < 95 and 5 < pct[2] < 15 and np.isnan(pct[3])
    assert np.isnan(curve.expected([np.nan, 0.0], ["instagram"] * 2)).all()


def _training(seed: int = 0, n: int = 3000):
    rng = np.random.default_rng(seed)
    followers = 10 ** rng.uniform(3, 6.5, n)
    platform = rng.choice(["instagram", "tiktok", "x"], n, p=[0.6, 0.38, 0.02])
    truth = np.where(platform == "tiktok", 0.02, 0.05 * (followers / 1000) ** -0.3)
    rate = truth * 10 ** rng.normal(0, 0.2, n)
    return followers, platform, rate, truth


def test_fit_recovers_the_curve_and_falls_back_for_rare_platforms():
    followers, platform, rate, truth = _training()
    curve = EngagementCurve().fit(followers, platform, rate)
    assert set(curve.curves_) == {"pooled", "instagram", "tiktok"}  # x has too few samples
    probe = np.array([3_000.0, 30_000.0, 300_000.0])
    np.testing.assert_allclose(
        curve.expected(probe, ["instagram"] * 3), 0.05 * (probe / 1000) ** -0.3, rtol=0.1
    )
    np.testing.assert_allclose(curve.expected(probe, ["tiktok"] * 3), 0.02, rtol=0.1)
    np.testing.assert_array_equal(
        curve.expected(probe, ["x"] * 3), curve.expected(probe, ["no such platform"] * 3)
    )
    pct = curve.percentile(rate, followers, platform)
    assert 45 < np.median(pct) < 55 and pct.min() >= 0 and pct.max() <= 100


def test_curve_round_trips_exactly_through_json():
    followers, platform, rate, _ = _training(seed=1)
    for curve in (
        EngagementCurve.prior(),
        EngagementCurve(degree=1).fit(followers, platform, rate),
    ):
        back = EngagementCurve.from_dict(json.loads(json.dumps(curve.to_dict())))
        assert back.to_dict() == curve.to_dict()
        probe_f, probe_p = followers[:200], platform[:200]
        np.testing.assert_array_equal(
            back.expected(probe_f, probe_p), curve.expected(probe_f, probe_p)
        )
        np.testing.assert_array_equal(
            back.percentile(rate[:200], probe_f, probe_p),
            curve.percentile(rate[:200], probe_f, probe_p),
        )


def test_a_refitted_curve_evaluates_its_new_state():
    # The arrays made from the fitted state for evaluation follow a new fit of the same object.
    probe_f, probe_p = [3_000.0, 300_000.0, 30_000.0], ["instagram", "tiktok", "youtube"]
    first, second = _training(seed=3), _training(seed=4)
    curve = EngagementCurve(degree=1).fit(*first[:3])
    before = curve.expected(probe_f, probe_p)
    curve.fit(*second[:3])
    fresh = EngagementCurve(degree=1).fit(*second[:3])
    assert not np.array_equal(curve.expected(probe_f, probe_p), before)
    np.testing.assert_array_equal(
        curve.expected(probe_f, probe_p), fresh.expected(probe_f, probe_p)
    )
    rates = [0.01, 0.02, 0.03]
    np.testing.assert_array_equal(
        curve.percentile(rates, probe_f, probe_p), fresh.percentile(rates, probe_f, probe_p)
    )


def test_unfitted_curve_and_bad_input_raise():
    with pytest.raises(NotFittedError):
        EngagementCurve().expected([1000], ["instagram"])
    with pytest.raises(ValueError):
        EngagementCurve().fit([0, np.nan], ["instagram"] * 2, [0.01, 0.02])
    with pytest.raises(ValueError):
        EngagementCurve.from_dict({"format": "something else"})


def test_builder_uses_a_fitted_curve():
    followers, platform, rate, _ = _training(seed=2)
    curve = EngagementCurve().fit(followers, platform, rate)
    creators = creators_frame(["a"], [30_000])
    posts = posts_frame([("a", d, 300, 30) for d in range(5)])
    out = engagement_features(posts, creators, None, as_of_for(["a"], "2024-01-10"), curve)
    assert out.loc["a", "eng_er_expected"] == pytest.approx(
        curve.expected([30_000], ["instagram"])[0]
    )


def test_platform_names_are_lower_case_with_the_contract_default_for_unknown():
    from features.engagement import _platforms

    got = _platforms(["TikTok", None, np.nan, pd.NA, "youtube"], 5)
    assert got.dtype == object
    assert got.tolist() == ["tiktok", "instagram", "instagram", "instagram", "youtube"]
    assert _platforms(None, 2).tolist() == ["instagram", "instagram"]
    assert _platforms("YouTube", 1).tolist() == ["youtube"]


@PROPS
@given(world=worlds())
def test_a_prepared_history_is_used_only_when_made_for_these_creators(world):
    from features.growth import prepare_history

    posts, creators, history, as_of = world
    alone = engagement_features(posts, creators, history, as_of)
    mine = prepare_history(history, creators, as_of)
    assert_frame_equal(
        engagement_features(posts, creators, history, as_of, prepared=mine), alone, check_exact=True
    )
    # Made for the creators in another order: not these creators, so made anew.
    other = prepare_history(history, creators.iloc[::-1], as_of)
    got = engagement_features(posts, creators, history, as_of, prepared=other)
    assert_frame_equal(got, alone, check_exact=True)


def test_medians_over_post_subsets_agree_for_many_creators_and_one():
    # Many creators take the subset medians over the subset's rows only, one creator over every
    # post with NaN outside the subset: the features must be the same bits either way.
    from features.engagement import _SUBSET_ROWS_MIN_CREATORS

    rng = np.random.default_rng(11)
    ids = [f"c{i:03d}" for i in range(_SUBSET_ROWS_MIN_CREATORS + 16)]
    series, rows = {}, []
    for i, cid in enumerate(ids):
        days = np.arange(120)
        jump_day = int(rng.integers(30, 90))
        base = 5_000.0 + 1_000.0 * i
        series[cid] = (list(days), list(np.where(days < jump_day, base, base * 1.6) + days))
        for d in np.sort(rng.choice(120, size=int(rng.integers(0, 40)), replace=False)):
            sponsored = [None, True, False][int(rng.integers(0, 3))]
            views = float(rng.integers(1_000, 9_000)) if rng.random() < 0.5 else np.nan
            likes = float(rng.integers(50, 400)) * (1.0 if d < jump_day else 0.7)
            rows.append((cid, d + 0.25, likes, float(rng.integers(0, 30)), views, sponsored))
    posts, history = posts_frame(rows), history_frame(series)
    creators = creators_frame(ids, [series[c][1][-1] for c in ids])
    as_of = as_of_for(ids, START + pd.Timedelta("119D"))
    together = engagement_features(posts, creators, history, as_of)
    alone = pd.concat(
        [
            engagement_features(
                posts[posts["creator_id"] == c],
                creators[creators["creator_id"] == c],
                history[history["creator_id"] == c],
                as_of.loc[[c]],
            )
            for c in ids
        ]
    )
    assert together["eng_er_jump_ratio"].notna().sum() > 10
    assert together["eng_sponsored_er_ratio"].notna().sum() > 10
    assert together["eng_n_posts"].isna().any()  # some creators without posts
    assert together.to_numpy().tobytes() == alone.to_numpy().tobytes()
