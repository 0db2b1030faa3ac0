"""Evidence rows: hand-checkable jumps, drops, posts, followers, commenters; simulated events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from features.evidence import (
    EVIDENCE_COLUMNS,
    evidence_count_arrays,
    evidence_counts,
    evidence_rows,
    fake_followers,
    follower_events,
    post_evidence,
    repeated_commenters,
)

DAYS = pd.date_range("2026-01-01", "2026-03-31")


def _curve(creator: str) -> pd.DataFrame:
    """+10 a day; +2,000 on 2026-02-01 (day 31); -100 a day on days 45-54 (a 1,000 drop)."""
    inc = np.full(len(DAYS), 10.0)
    inc[0] = 0.0
    inc[31] += 2_000.0
    inc[45:55] = -100.0
    return pd.DataFrame(
        {"creator_id": creator, "date": DAYS, "followers": 10_000.0 + np.cumsum(inc)}
    )


@pytest.fixture()
def history() -> pd.DataFrame:
    gap = _curve("c")
    gap = gap[(gap["date"] < "2026-01-27") | (gap["date"] > "2026-02-06")]  # 11-day gap
    return pd.concat([_curve("a"), _curve("b"), gap], ignore_index=True)


@pytest.fixture()
def posts() -> pd.DataFrame:
    # "a" has a post with 10x its median likes three days before the jump; "b" does not.
    times = pd.to_datetime(["2026-01-10 18:00", "2026-01-20 18:00", "2026-01-29 18:00"])
    return pd.DataFrame(
        {
            "creator_id": ["a"] * 3 + ["b"] * 3,
            "post_id": ["a1", "a2", "a3", "b1", "b2", "b3"],
            "posted_at": list(times) * 2,
            "likes": [100.0, 100, 1_000, 100, 100, 100],
            "comments": [3.0, 3, 30, 3, 3, 3],
        }
    )


def test_jump_and_later_drop_are_dated_and_sized(history, posts):
    out = follower_events(history, ["a", "b"], None, posts)
    assert list(out.columns) == list(EVIDENCE_COLUMNS)
    jumps = out[out["kind"] == "follower_jump"].set_index("creator_id")
    assert list(jumps.index) == ["a", "b"]
    assert (jumps["date"] == pd.Timestamp("2026-02-01")).all()
    assert (jumps["end_date"] == pd.Timestamp("2026-02-01")).all()
    assert jumps["size"].tolist() == [2_010.0, 2_010.0]  # the step plus that day's growth
    assert jumps.loc["a", "rel"] == pytest.approx(2_010 / 10_300)
    # A post that stood out explains "a"'s jump; nothing explains "b"'s.
    assert jumps.loc["a", "post_id"] == "a3"
    assert jumps.loc["b", "post_id"] is None
    assert "no post stood out" in jumps.loc["b", "detail"]
    drops = out[out["kind"] == "follower_drop"].set_index("creator_id")
    assert drops.loc["a", "date"] == pd.Timestamp("2026-02-14")  # the peak
    assert drops.loc["a", "end_date"] == pd.Timestamp("2026-02-24")  # the lowest point
    assert drops.loc["a", "size"] == -1_000.0
    assert "50% of the 2,010 gained in the jump of 2026-02-01" in drops.loc["a", "detail"]


def test_a_rise_hidden_in_a_gap_is_not_dated(history):
    out = follower_events(history, ["c"])
    assert (out["kind"] == "follower_jump").sum() == 0


def test_rows_after_the_snapshot_are_ignored(history, posts):
    as_of = pd.Series(pd.Timestamp("2026-01-25"), index=["a", "b"])
    assert follower_events(history, ["a", "b"], as_of, posts).empty
    full = follower_events(history, ["a"], None, posts)
    later = pd.concat(
        [
            history,
            pd.DataFrame(
                {"creator_id": ["a"], "date": [pd.Timestamp("2026-06-01")], "followers": [50_000.0]}
            ),
        ],
        ignore_index=True,
    )
    as_of = pd.Series(pd.Timestamp("2026-03-31"), index=["a"])
    assert_frame_equal(follower_events(later, ["a"], as_of, posts), full)


def test_posts_with_likes_but_no_comments():
    posts = pd.DataFrame(
        {
            "creator_id": "a",
            "post_id": ["p1", "p2", "p3"],
            "posted_at": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03"]),
            "likes": [1_000.0, 1_000, 50],
            "comments": [2.0, 30, 0],
        }
    )
    # p1: 0.2 per 100 likes, 4 Poisson SDs under the floor of 20; p2 healthy; p3 too small.
    out = post_evidence(posts, None, ["a"])
    assert out["kind"].tolist() == ["bought_likes_post"]
    assert out["post_id"].tolist() == ["p1"]
    assert out["count"].tolist() == [0.2]


@pytest.fixture()
def pod_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    times = pd.to_datetime(
        ["2026-01-01 12:00", "2026-01-03 12:00", "2026-01-05 12:00", "2026-01-07 12:00"]
    )
    posts = pd.DataFrame(
        {
            "creator_id": "d",
            "post_id": ["q1", "q2", "q3", "q4"],
            "posted_at": times,
            "likes": 200.0,
            "comments": 6.0,
        }
    )
    rows = []
    for post, at in zip(["q1", "q2", "q3"], times[:3], strict=True):
        for i, who in enumerate(["u1", "u2", "u3"]):
            rows.append((post, "nice pic 🔥", who, at + pd.Timedelta(minutes=5 + i)))
    for post, at in zip(["q1", "q2", "q3", "q4"], times, strict=True):
        rows.append(
            (
                post,
                "Which trail is this? Looks like the one near Bergen",
                "f1",
                at + pd.Timedelta(hours=5),
            )
        )
    comments = pd.DataFrame(rows, columns=["post_id", "text", "commenter_id", "created_at"])
    comments.insert(0, "creator_id", "d")
    return posts, comments


def test_pod_posts_and_repeated_commenters(pod_tables):
    posts, comments = pod_tables
    out = post_evidence(posts, comments, ["d"])
    pods = out[out["kind"] == "pod_post"]
    assert pods["post_id"].tolist() == ["q1", "q2", "q3"]
    assert pods["count"].tolist() == [3.0, 3.0, 3.0]  # pod-like comments
    assert pods["size"].tolist() == [4.0, 4.0, 4.0]  # sampled comments on the post
    rep = repeated_commenters(comments, posts, ["d"])
    assert rep["commenter_id"].tolist() == ["f1", "u1", "u2", "u3"]  # most posts first
    assert rep["count"].tolist() == [4.0, 3.0, 3.0, 3.0]
    assert rep["rel"].tolist() == [0.0, 1.0, 1.0, 1.0]  # low-effort share
    assert rep["probability"].tolist() == [0.0, 1.0, 1.0, 1.0]  # first-hour share


class _StubAccountModel:
    """Fake when the account never posted: enough to check ordering, threshold and traits."""

    feature_names = ["acc_zero_posts", "acc_has_pic"]
    threshold = 0.5
    tpr, fpr = 0.9, 0.1

    def predict_fake(self, X: pd.DataFrame) -> np.ndarray:
        zero = X["acc_zero_posts"].fillna(0).to_numpy()
        pic = X["acc_has_pic"].fillna(1).to_numpy()
        return 0.2 + 0.6 * zero + 0.1 * (1 - pic)


def test_fake_followers_are_ranked_with_their_traits():
    audience = pd.DataFrame(
        {
            "creator_id": "a",
            "follower_id": ["f3", "f2", "f1", "f1"],  # f1 listed twice counts once
            "media_count": [0.0, 5, 0, 0],
            "has_profile_pic": pd.array([True, True, False, False], dtype="boolean"),
            "following": [100.0, 100, 3_000, 3_000],
            "followers": [50.0, 50, 10, 10],
        }
    )
    out = fake_followers(audience, ["a"], _StubAccountModel(), top=5)
    assert out["follower_id"].tolist() == ["f1", "f3"]  # f2 is under the threshold
    assert out["probability"].tolist() == pytest.approx([0.9, 0.8])
    assert (
        out["detail"]
        .iloc[0]
        .endswith(
            "no profile picture; never posted; follows more than 1,500 accounts; "
            "follows 10x more accounts than follow it"
        )
    )
    assert fake_followers(audience, ["a"], _StubAccountModel(), top=1)["follower_id"].tolist() == [
        "f1"
    ]


def test_evidence_counts_treat_missing_as_none():
    X = pd.DataFrame(
        {
            "growth_span_days": [179.0, np.nan],
            "growth_n_points": [150.0, np.nan],
            "eng_n_posts": [30.0, 2.0],
            "cmt_n": [np.nan, 10.0],
        },
        index=pd.Index(["a", "b"], name="creator_id"),
    )
    out = evidence_counts(X)
    assert out.loc["a"].tolist() == [179.0, 150.0, 30.0, 0.0, 0.0]
    assert out.loc["b"].tolist() == [0.0, 0.0, 2.0, 10.0, 0.0]
    # The arrays the scorer reads are the frame's columns, row for row.
    arrays = evidence_count_arrays(X)
    assert list(arrays) == list(out.columns)
    for name, values in arrays.items():
        assert values.dtype == np.float64
        np.testing.assert_array_equal(values, out[name].to_numpy())


@pytest.fixture(scope="module")
def sim():
    from features import resolve_as_of
    from features.dataset import load
    from training.simulate import simulate

    world = simulate(300, seed=8)
    data = load(world.tables)
    rows = evidence_rows(data, as_of=resolve_as_of(data))
    return world, data, rows


def test_evidence_points_at_the_injected_purchases_and_pods(sim):
    world, data, rows = sim
    events = world.labels["fraud_events"]
    history = data.follower_history
    seen = set(zip(history["creator_id"], history["date"], strict=True))
    bursts = events[events["kind"] == "burst"]
    # Steps the history observed day by day around them must each be a dated jump.
    observed = [
        (c, d)
        for c, d in zip(bursts["creator_id"], bursts["start_date"], strict=True)
        if (c, d) in seen and (c, d - pd.Timedelta(days=1)) in seen
    ]
    assert len(observed) >= 5
    jumps = rows[rows["kind"] == "follower_jump"]
    for c, d in observed:
        mine = jumps[jumps["creator_id"] == c]
        assert ((mine["date"] <= d) & (mine["end_date"] >= d)).any(), (c, d)
    pod_posts = set(events.loc[events["kind"] == "pod", "post_id"])
    found = rows.loc[rows["kind"] == "pod_post", "post_id"]
    assert len(found) >= 10
    assert found.isin(pod_posts).mean() >= 0.9
    commented = pod_posts & set(data.comments["post_id"])
    assert len(commented & set(found)) / len(commented) >= 0.5
    liked = set(events.loc[events["kind"] == "likes", "post_id"])
    flagged = rows.loc[rows["kind"] == "bought_likes_post", "post_id"]
    assert len(flagged) >= 10 and flagged.isin(liked).mean() >= 0.9


def test_evidence_is_deterministic_and_partition_safe(sim):
    _, data, rows = sim
    from features import resolve_as_of

    ids = data.creators["creator_id"].to_numpy(dtype=object)
    as_of = resolve_as_of(data)
    again = evidence_rows(data, as_of=as_of)
    assert_frame_equal(again, rows)
    first, second = ids[:150], ids[150:]
    parts = pd.concat(
        [evidence_rows(data, first, as_of=as_of), evidence_rows(data, second, as_of=as_of)],
        ignore_index=True,
    )
    assert_frame_equal(parts, rows)
