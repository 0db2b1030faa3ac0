"""Tests for the follower-growth features and the history helpers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from features.growth import FEATURES, followers_at, growth_features, largest_jump

START = pd.Timestamp("2024-01-01")
NAMES = [f.name for f in FEATURES]


def daily_history(series: dict[str, list[float]], following: dict | None = None) -> pd.DataFrame:
    """One row per day from START for each creator's list of follower counts."""
    frames = []
    for cid, values in series.items():
        n = len(values)
        foll = (following or {}).get(cid, [np.nan] * n)
        frames.append(
            pd.DataFrame(
                {
                    "creator_id": cid,
                    "date": pd.date_range(START, periods=n),
                    "followers": np.asarray(values, dtype="float64"),
                    "following": np.asarray(foll, dtype="float64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def creators_of(ids, followers=None) -> pd.DataFrame:
    followers = followers if followers is not None else [1000.0] * len(ids)
    return pd.DataFrame({"creator_id": list(ids), "followers": np.asarray(followers, float)})


def as_of_for(ids, day) -> pd.Series:
    return pd.Series(pd.Timestamp(day), index=pd.Index(list(ids), name="creator_id"))


def organic(n: int = 120, level: float = 50_000.0, seed: int = 0) -> np.ndarray:
    """Organic growth: about +60 a day with day-to-day noise, in whole followers."""
    rng = np.random.default_rng(seed)
    return np.round(level + np.cumsum(rng.normal(60.0, 30.0, n)))


# --------------------------------------------------------------------------------------------
# hand-checked fixture
# --------------------------------------------------------------------------------------------


def test_three_creators_by_hand():
    # a: a +10,000 step on day 2; b: no rows; c: a rise hidden in a 21-day gap.
    a = daily_history({"a": [2000, 2000, 12000, 12010, 12020]}, {"a": [300, 310, 290, 300, 300]})
    c = pd.DataFrame(
        {
            "creator_id": "c",
            "date": START + pd.to_timedelta([0, 21, 22], "D"),
            "followers": [1000.0, 11000.0, 11010.0],
            "following": np.nan,
        }
    )
    history = pd.concat([a, c], ignore_index=True)
    ids = ["a", "b", "c"]
    out = growth_features(history, creators_of(ids), as_of_for(ids, START + pd.Timedelta("22D")))

    assert list(out.index) == ids
    assert list(out.columns) == NAMES
    assert (out.dtypes == "float64").all()
    ra, rc = out.loc["a"], out.loc["c"]
    assert ra["growth_n_points"] == 5 and ra["growth_span_days"] == 4
    assert ra["growth_last_obs_days_ago"] == 18
    assert ra["growth_max_jump_1d_rel"] == 5.0  # 10,000 / 2,000
    assert ra["growth_max_jump_abs"] == 10_010  # the 2-day window from day 1 to day 3
    assert ra["growth_max_jump_days_ago"] == 20  # day 2, as_of is day 22
    # Median daily change is 10, so the excess over normal growth is 9,990 on the day.
    assert ra["growth_max_jump_round_dist"] == pytest.approx(10 / 9990)
    assert ra["growth_step_count"] == 1
    assert np.isnan(ra["growth_step_size_cv"])  # needs two steps
    assert np.isnan(ra["growth_drip_days"])  # five days: no full 7-day window of gains
    assert ra["growth_purge_share"] == 0.0
    # Following 300 310 290 300 300: moves +10, -20, +10 -> two reversals in two pairs.
    assert ra["growth_following_flip_share"] == 1.0
    assert ra["growth_following_range_rel"] == pytest.approx(20 / 300)
    assert ra["growth_following_ratio"] == pytest.approx(300 / 12020)
    assert out.loc["b"].isna().all()
    # c: the +10,000 spread over 21 days is not a 1-day or 2-day jump; only day 21 -> 22 is.
    assert rc["growth_max_jump_1d_rel"] == pytest.approx(10 / 11000)
    assert rc["growth_max_jump_2d_rel"] != rc["growth_max_jump_2d_rel"]  # NaN: no 2-day window
    assert rc["growth_max_gap_days"] == 21
    assert rc["growth_interp_share"] == pytest.approx(20 / 23)
    assert rc["growth_following_ratio"] != rc["growth_following_ratio"]


def test_missing_history_gives_nan_not_zero():
    ids = ["a", "b"]
    creators = creators_of(ids)
    for history in (None, daily_history({"a": [1.0]}).iloc[:0]):
        out = growth_features(history, creators, as_of_for(ids, "2024-02-01"))
        assert list(out.columns) == NAMES and list(out.index) == ids
        assert out.isna().all().all()


def test_too_little_history_is_unknown_not_zero():
    # One observation (two rows on one day, averaged): no daily change to judge.
    history = pd.DataFrame(
        {
            "creator_id": ["a", "a"],
            "date": [START, START],
            "followers": [100.0, 200.0],
            "following": [10.0, np.nan],
        }
    )
    out = growth_features(history, creators_of(["a"]), as_of_for(["a"], "2024-01-05")).loc["a"]
    assert out["growth_n_points"] == 1 and out["growth_last_obs_days_ago"] == 4
    assert np.isnan(out["growth_step_count"]) and np.isnan(out["growth_step_total_rel"])
    assert np.isnan(out["growth_max_jump_1d_rel"]) and np.isnan(out["growth_drip_days"])
    assert out["growth_following_ratio"] == pytest.approx(10 / 150)


def test_unknown_as_of_uses_all_rows_and_the_last_observation():
    history = daily_history({"a": [100, 100, 200, 200]})
    as_of = pd.Series([pd.NaT], index=pd.Index(["a"], name="creator_id"), dtype="datetime64[ns]")
    out = growth_features(history, creators_of(["a"]), as_of)
    assert out.loc["a", "growth_last_obs_days_ago"] == 0
    assert out.loc["a", "growth_max_jump_days_ago"] == 1


# --------------------------------------------------------------------------------------------
# fraud signatures
# --------------------------------------------------------------------------------------------


def test_bought_burst_raises_jump_features_and_roundness():
    base = organic()
    bought = base.copy()
    bought[80:] += 10_000
    history = daily_history({"organic": base, "bought": bought})
    ids = ["organic", "bought"]
    out = growth_features(history, creators_of(ids), as_of_for(ids, START + pd.Timedelta("119D")))
    o, b = out.loc["organic"], out.loc["bought"]
    assert b["growth_max_jump_1d_rel"] > 5 * o["growth_max_jump_1d_rel"]
    assert b["growth_max_jump_z"] > 50 and o["growth_max_jump_z"] < 6
    assert b["growth_max_jump_days_ago"] == 39
    assert b["growth_max_jump_abs"] == pytest.approx(10_000, rel=0.03)
    assert b["growth_max_jump_round_dist"] < 0.01
    assert not o["growth_max_jump_round_dist"] < 0.01
    assert b["growth_step_count"] == 1 and o["growth_step_count"] == 0
    assert b["growth_step_total_rel"] == pytest.approx(10_000 / bought[-1], rel=0.02)


def test_staircase_of_equal_steps_has_a_low_step_size_cv():
    base = organic(150)
    stairs, uneven = base.copy(), base.copy()
    for day, equal, other in ((40, 5000, 2000), (80, 5000, 9000), (120, 5000, 4000)):
        stairs[day:] += equal
        uneven[day:] += other
    history = daily_history({"stairs": stairs, "uneven": uneven})
    ids = ["stairs", "uneven"]
    out = growth_features(history, creators_of(ids), as_of_for(ids, START + pd.Timedelta("149D")))
    assert (out["growth_step_count"] == 3).all()
    assert out.loc["stairs", "growth_step_size_cv"] < 0.02
    assert out.loc["uneven", "growth_step_size_cv"] > 0.4
    assert out.loc["stairs", "growth_step_total_rel"] == pytest.approx(
        15_000 / stairs[-1], rel=0.02
    )


def test_purge_after_burst_shows_in_purge_share():
    base = organic()
    burst = base.copy()
    burst[80:] += 10_000
    purged = burst.copy()
    purged[85:95] -= np.linspace(600, 6000, 10)  # lose 6,000 over ten days, then stay
    purged[95:] -= 6000
    history = daily_history({"kept": burst, "purged": purged})
    ids = ["kept", "purged"]
    out = growth_features(history, creators_of(ids), as_of_for(ids, START + pd.Timedelta("119D")))
    assert out.loc["kept", "growth_purge_share"] < 0.05
    assert out.loc["purged", "growth_purge_share"] == pytest.approx(0.6, abs=0.06)


def test_drip_feed_raises_the_drip_signature():
    base = organic(seed=1)
    drip = base.copy()
    drip[60:90] += 300.0 * np.arange(1, 31)
    drip[90:] += 9000
    history = daily_history({"organic": base, "drip": drip})
    ids = ["organic", "drip"]
    out = growth_features(history, creators_of(ids), as_of_for(ids, START + pd.Timedelta("119D")))
    o, d = out.loc["organic"], out.loc["drip"]
    assert d["growth_drip_days"] >= 28 and o["growth_drip_days"] <= 10
    assert d["growth_drip_gain_rel"] > 0.15
    assert d["growth_drip_cv_ratio"] < o["growth_drip_cv_ratio"]
    # A drip is no 1-day jump: its largest day is about 300 + 60 on a level near 55,000.
    assert d["growth_max_jump_1d_rel"] < 0.01


def test_interpolated_gaps_are_not_a_drip():
    # Weekly observations interpolate into perfectly constant daily gains: not real evidence.
    history = pd.DataFrame(
        {
            "creator_id": "w",
            "date": pd.date_range(START, periods=20, freq="7D"),
            "followers": 1000.0 + 700.0 * np.arange(20),
        }
    )
    out = growth_features(history, creators_of(["w"]), as_of_for(["w"], "2024-06-01"))
    assert np.isnan(out.loc["w", "growth_drip_days"])
    assert np.isnan(out.loc["w", "growth_max_jump_1d_rel"])
    assert out.loc["w", "growth_max_jump_7d_rel"] == pytest.approx(0.7)


def test_following_seesaw():
    n = 40
    seesaw = np.where(np.arange(n) % 4 < 2, 500.0, 2000.0)
    steady = 500.0 + np.arange(n)
    history = daily_history(
        {"f4f": organic(n), "calm": organic(n)}, {"f4f": seesaw, "calm": steady}
    )
    ids = ["f4f", "calm"]
    out = growth_features(history, creators_of(ids), as_of_for(ids, START + pd.Timedelta("39D")))
    assert out.loc["f4f", "growth_following_flip_share"] == 1.0
    assert out.loc["calm", "growth_following_flip_share"] == 0.0
    assert out.loc["f4f", "growth_following_range_rel"] > 1.0
    assert out.loc["calm", "growth_following_range_rel"] < 0.1


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def test_followers_at_interpolates_and_limits_extrapolation():
    history = pd.DataFrame(
        {
            "creator_id": ["a", "a", "a"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-01"]),
            "followers": [100.0, 200.0, 999.0],
        }
    )
    times = pd.to_datetime(
        [
            "2024-01-06",
            "2024-01-06 12:00",
            "2023-12-20",
            "2023-11-01",
            "2024-01-11",
            "2024-01-20",
            "2024-01-06",
        ],
        format="ISO8601",
    )
    ids = ["a", "a", "a", "a", "a", "a", "zz"]
    as_of = pd.Series(pd.Timestamp("2024-01-15"), index=pd.Index(["a"], name="creator_id"))
    got = followers_at(history, ids, times, as_of=as_of)
    # 1 Feb is after as_of, so after 11 Jan the last count is held (within 30 days).
    np.testing.assert_allclose(got, [150.0, 155.0, 100.0, np.nan, 200.0, 200.0, np.nan])
    assert np.isnan(followers_at(None, ["a"], times[:1])).all()


def test_largest_jump_reports_the_day_of_the_jump():
    history = daily_history({"a": [100, 100, 100, 400, 400, 400], "b": [5, 5]})
    jumps = largest_jump(history, ["a", "b", "c"])
    assert jumps.loc["a", "date"] == START + pd.Timedelta("3D")
    assert jumps.loc["a", "size"] == 300 and jumps.loc["a", "rel"] == 3.0
    assert pd.isna(jumps.loc["b", "date"]) and np.isnan(jumps.loc["c", "size"])


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------


@st.composite
def histories(draw, max_creators: int = 4):
    """Irregular histories: random observed days in a 50-day range, random walks of followers."""
    n = draw(st.integers(1, max_creators))
    rows = []
    for i in range(n):
        days = sorted(draw(st.sets(st.integers(0, 49), min_size=0, max_size=40)))
        level = draw(st.integers(0, 100_000))
        steps = draw(st.lists(st.integers(-500, 5000), min_size=len(days), max_size=len(days)))
        foll = draw(st.lists(st.integers(0, 3000), min_size=len(days), max_size=len(days)))
        for d, s, f in zip(days, np.cumsum(steps), foll, strict=True):
            rows.append((f"c{i}", START + pd.Timedelta(days=d), float(max(level + s, 0)), float(f)))
    frame = pd.DataFrame(rows, columns=["creator_id", "date", "followers", "following"])
    frame = frame.astype(
        {
            "creator_id": object,
            "date": "datetime64[ns]",
            "followers": "float64",
            "following": "float64",
        }
    )
    ids = [f"c{i}" for i in range(n)]
    cut = {cid: START + pd.Timedelta(days=draw(st.integers(10, 49))) for cid in ids}
    as_of = pd.Series(cut).rename_axis("creator_id").astype("datetime64[ns]")
    return frame, creators_of(ids), as_of


PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(
    data=histories(),
    extra=st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 30), st.integers(0, 10**6)), max_size=10
    ),
)
def test_rows_after_as_of_change_nothing(data, extra):
    history, creators, as_of = data
    ids = list(creators["creator_id"])
    future = pd.DataFrame(
        {
            "creator_id": [ids[i % len(ids)] for i, _, _ in extra],
            "date": [as_of[ids[i % len(ids)]] + pd.Timedelta(days=d) for i, d, _ in extra],
            "followers": [float(f) for _, _, f in extra],
            "following": 1.0,
        }
    ).astype(history.dtypes.to_dict())
    before = growth_features(history, creators, as_of)
    after = growth_features(pd.concat([history, future], ignore_index=True), creators, as_of)
    assert_frame_equal(before, after, check_exact=True)


@PROPS
@given(data=histories(), cuts=st.lists(st.integers(1, 3), max_size=3), seed=st.integers(0, 99))
def test_any_chunking_gives_identical_features(data, cuts, seed):
    history, creators, as_of = data
    full = growth_features(history, creators, as_of)
    # Shuffle history rows too: the builder must not depend on input row order.
    history = history.sample(frac=1.0, random_state=seed)
    bounds = sorted({min(c, len(creators)) for c in cuts} | {0, len(creators)})
    parts = []
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
        chunk = creators.iloc[lo:hi]
        rows = history[history["creator_id"].isin(chunk["creator_id"])]
        parts.append(growth_features(rows, chunk, as_of))
    assert_frame_equal(pd.concat(parts), full, check_exact=True)


SCALE_FREE = [n for n in NAMES if n not in ("growth_max_jump_abs", "growth_max_jump_round_dist")]


@PROPS
@given(data=histories())
def test_scaling_followers_leaves_relative_features_unchanged(data):
    history, creators, as_of = data
    history = history[history["followers"] >= 1]
    scaled = history.assign(followers=history["followers"] * 4, following=history["following"] * 4)
    a = growth_features(history, creators, as_of)[SCALE_FREE]
    b = growth_features(scaled, creators, as_of)[SCALE_FREE]
    assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


@PROPS
@given(data=histories())
def test_no_jump_is_claimed_across_a_gap(data):
    history, creators, as_of = data
    # Every fourth day only: a gap of one missing day is tolerated, three are not.
    sparse = history[(history["date"] - START).dt.days % 4 == 0]
    out = growth_features(sparse, creators, as_of)
    assert out["growth_max_jump_1d_rel"].isna().all()
    assert out["growth_max_jump_2d_rel"].isna().all()


# --------------------------------------------------------------------------------------------
# fast paths for a few creators: each must answer exactly as the general path
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "index",
    [
        ["a", "b", "c"],  # aligned: no reindex
        ["c", "a", "b"],  # other order
        ["a", "c"],  # a creator missing: NaT
        ["a", "b", "c", "d"],  # an extra creator
    ],
)
def test_as_of_values_match_a_reindex(index):
    from features.growth import _as_of_values

    ids = pd.Index(["a", "b", "c"], name="creator_id")
    days = pd.to_datetime(["2024-01-03", "2024-02-01", "2024-03-05", "2024-04-01"])
    as_of = pd.Series(days[: len(index)], index=pd.Index(index, name="creator_id"))
    np.testing.assert_array_equal(
        _as_of_values(as_of, ids), as_of.reindex(ids).to_numpy(dtype="datetime64[ns]")
    )


def test_medians_in_one_call_equal_separate_medians():
    from features._series import Segments
    from features.growth import _medians

    rng = np.random.default_rng(7)
    parts = []
    for n_segments, longest in ((4, 30), (1, 9), (20, 80), (0, 1)):
        codes = np.repeat(np.arange(n_segments), rng.integers(1, longest + 1, n_segments))
        values = rng.normal(size=len(codes))
        values[rng.random(len(codes)) < 0.3] = np.nan  # NaN rows and some all-NaN segments
        parts.append((Segments.of(codes), values))
    got = _medians(*parts)
    for (seg, values), med in zip(parts, got, strict=True):
        np.testing.assert_array_equal(med, seg.median(values))


def _irregular_history(seed: int, n_creators: int = 12) -> pd.DataFrame:
    """Histories mixing daily runs, gaps of a few days to weeks and repeated days."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_creators):
        n = int(rng.integers(1, 60))
        if i % 4 == 0:  # a daily scrape
            steps = np.ones(n - 1, dtype="int64")
        else:
            steps = rng.choice([0, 1, 1, 1, 2, 3, 9, 25], size=n - 1)
        day = np.concatenate([[0], np.cumsum(steps)])
        followers = np.round(1000.0 + np.cumsum(rng.normal(20.0, 15.0, n)) * (i + 1) / 3.0, 1)
        followers[rng.random(n) < 0.1] += 5000.0  # some bursts
        frames.append(
            pd.DataFrame(
                {
                    "creator_id": f"c{i:02d}",
                    "date": START + pd.to_timedelta(day, unit="D"),
                    "followers": followers,
                    "following": rng.integers(100, 110, n).astype("float64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _offset_lag(values, k, offset):
    """``values[t - k]``, NaN where the row's position in its segment (``offset``) is below k."""
    out = np.empty(len(values))
    out[:k] = np.nan
    if k < len(values):
        out[k:] = values[: len(values) - k]
    out[offset < k] = np.nan
    return out


def _grid_row_by_row(obs):
    """The daily grid the plain way: every row interpolated between its two observations."""
    from features._series import Segments

    s = obs.seg
    d0, d1 = obs.day[s.starts], obs.day[s.ends]
    lengths = d1 - d0 + 1
    gstarts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype("int64")
    grid_seg = Segments(gstarts, lengths, s.codes)
    offset = grid_seg.offset()
    day = grid_seg.spread(d0) + offset
    at = np.full(len(day), -1, dtype="int64")
    at[s.spread(gstarts) + (obs.day - s.spread(d0))] = np.arange(len(obs.day))
    left = np.maximum.accumulate(at)
    right = left + (at < 0)
    dl, dr = obs.day[left], obs.day[right]
    fl, fr = obs.followers[left], obs.followers[right]
    followers = fl + (fr - fl) * ((day - dl) / np.maximum(dr - dl, 1))
    return grid_seg, day, offset, followers, dl, dr, followers - _offset_lag(followers, 1, offset)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.astype(b.dtype).tobytes() == b.tobytes()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_daily_grid_matches_row_by_row_interpolation(seed):
    from features.growth import _daily_grid, prepare_history

    history = _irregular_history(seed)
    creators = creators_of(history["creator_id"].unique())
    obs = prepare_history(history, creators, None).obs
    grid = _daily_grid(obs)
    seg, day, _, followers, dl, dr, daily = _grid_row_by_row(obs)
    np.testing.assert_array_equal(grid.seg.starts, seg.starts)
    np.testing.assert_array_equal(grid.seg.lengths, seg.lengths)
    assert _same_bits(grid.followers, followers)
    assert _same_bits(grid.daily, daily)
    assert _same_bits(grid.prev_obs, dl)
    assert _same_bits(grid.next_obs, dr)
    assert _same_bits(grid.day_at(np.arange(len(day))), day)
    np.testing.assert_array_equal(grid.followers[grid.obs_row], obs.followers)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_drip_cv_matches_windows_over_every_grid_row(seed):
    from features.growth import DRIP_WINDOW, _daily_grid, _drip_cv, prepare_history

    history = _irregular_history(seed, n_creators=16)
    # A long daily run with steady gains, so some windows are known, and some flat ones.
    history.loc[history["creator_id"] == "c00", "followers"] = np.arange(
        (history["creator_id"] == "c00").sum()
    ) * 10.0 + np.where(np.arange((history["creator_id"] == "c00").sum()) % 3 == 0, 4.0, 0.0)
    creators = creators_of(history["creator_id"].unique())
    obs = prepare_history(history, creators, None).obs
    grid = _daily_grid(obs)
    # Reference: the CV over shifted views of every row, real daily changes only.
    _, day, offset, _, dl, dr, daily = _grid_row_by_row(obs)
    gain = np.where((dr == day) & (_offset_lag(dl, 1, offset) == day - 1), daily, np.nan)
    w, n = DRIP_WINDOW, len(gain)
    want = np.full(n, np.nan)
    views = [gain[w - 1 - j : n - j] for j in range(w)]
    mean = sum(views[1:], views[0].copy()) / w
    var = np.zeros(n - w + 1)
    for v in views:
        var += (v - mean) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        want[w - 1 :] = np.where(mean > 0, np.sqrt(var / w) / mean, np.nan)
    drip = _drip_cv(grid, obs)
    got = np.full(n, np.nan)
    got[drip.rows] = drip.cv
    assert np.isfinite(want).sum() > 0
    assert _same_bits(got, want)
    # Each known window is filed under the grid segment holding its row.
    owner = np.searchsorted(grid.seg.starts, drip.rows, side="right") - 1
    np.testing.assert_array_equal(drip.seg.spread(drip.seg.codes), owner)


def test_lag_blanks_each_segment_head_like_the_offset_lag():
    from features._series import Segments, lag

    codes = np.repeat(np.arange(6), [1, 3, 9, 2, 12, 1])
    seg = Segments.of(codes)
    values = np.arange(len(codes), dtype="float64") * 1.5
    for k in (1, 2, 7):
        assert _same_bits(lag(values, k, seg), _offset_lag(values, k, seg.offset()))
    one = Segments.of(np.zeros(5, dtype="int64"))
    assert _same_bits(lag(values[:5], 7, one), _offset_lag(values[:5], 7, one.offset()))


def test_followers_at_is_exact_at_day_ends_for_any_creator_position():
    # Points a nanosecond before midnight and at midnight: the observation at or before each
    # is found the same way whether the creator comes first or after thousands of others.
    from features._series import fractional_days

    history = pd.DataFrame(
        {
            "creator_id": "a",
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-04"]),
            "followers": [100.0, 200.0, 300.0],
        }
    )
    eps = pd.Timedelta(1, unit="ns")
    times = pd.DatetimeIndex(
        [
            pd.Timestamp("2024-01-02") - eps,
            pd.Timestamp("2024-01-02"),
            pd.Timestamp("2024-01-04") - eps,
            pd.Timestamp("2024-01-04"),
        ]
    )
    t = fractional_days(times)
    d1, d2, d4 = (float(x) for x in fractional_days(history["date"]))
    want = np.array(
        [
            100.0 + 100.0 * ((t[0] - d1) / (d2 - d1)),
            200.0,
            200.0 + 100.0 * ((t[2] - d2) / (d4 - d2)),
            300.0,
        ]
    )
    alone = followers_at(history, np.array(["a"] * 4, dtype=object), times)
    others = np.array([f"x{i:05d}" for i in range(5000)], dtype=object)
    crowd = pd.concat(
        [pd.DataFrame({"creator_id": others, "date": START, "followers": 1.0}), history],
        ignore_index=True,
    )
    late = followers_at(
        crowd,
        np.concatenate([others, np.array(["a"] * 4, dtype=object)]),
        times[[0] * len(others)].append(times),
    )[len(others) :]
    assert _same_bits(alone, want)
    assert _same_bits(late, want)
