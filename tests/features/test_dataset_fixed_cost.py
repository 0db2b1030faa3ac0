"""Tests for the loader's shortcuts on small requests: each gives what the general path gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from features import dataset
from features.dataset import columns_frame, load

# Characters a plain ISO cell is made of, and some that break it (a Unicode digit, "#", which
# the byte check uses as its digit mark, a zone letter, a space).
_DIGITS = "0123456789"
_NOISE = "0123456789-T:.Z #!d\u0663\u00e9"


@st.composite
def _iso_cells(draw: st.DrawFn) -> list[str]:
    """Cells of one length the pattern admits, years around the nanosecond range, some noise."""
    length = draw(st.sampled_from(sorted(dataset._ISO_LENGTHS) + [11, 20, 30]))
    count = draw(st.integers(1, 40))
    cells = []
    for _ in range(count):
        year = draw(st.one_of(st.integers(1678, 2261), st.sampled_from([1677, 2262, 999, 9999])))
        body = "".join(
            draw(st.sampled_from(_DIGITS)) if c == "#" else c for c in dataset._ISO_SHAPE[4:length]
        )
        cell = f"{year:04d}{body}"[:length]
        if draw(st.integers(0, 9)) == 0:  # one character changed
            at = draw(st.integers(0, len(cell) - 1))
            cell = cell[:at] + draw(st.sampled_from(_NOISE)) + cell[at + 1 :]
        cells.append(cell)
    return cells


@settings(max_examples=200, deadline=None)
@given(cells=_iso_cells())
def test_byte_check_of_iso_cells_agrees_with_the_regex(cells):
    joined = "\n".join(cells)
    fixed = dataset._fixed_iso(joined, len(cells))
    regex = dataset._PLAIN_ISO.fullmatch(joined) is not None
    if fixed:
        assert regex
    if regex and len(cells) >= dataset._FIXED_ISO_FROM and len(set(map(len, cells))) == 1:
        assert fixed  # the byte check is not just refusing everything


def test_byte_check_refuses_cells_outside_the_pattern():
    good = ["2024-05-07T12:34:56.000"] * 20
    assert dataset._fixed_iso("\n".join(good), 20)
    for bad in (
        "1677-05-07T12:34:56.000",
        "2262-05-07T12:34:56.000",
        "2024-05-07 12:34:56.000",
        "2024-05-07T12:34:56#000",
        "2024-\u06635-07T12:34:56.000",
        "2024-05-07T12:34:5#.000",
    ):
        cells = good[:-1] + [bad]
        assert not dataset._fixed_iso("\n".join(cells), 20), bad
    assert not dataset._fixed_iso("\n".join(good[:-1] + ["2024-05-07T12:34:56.00"]), 20)


def test_many_iso_cells_load_like_the_general_parse():
    # 30 rows: the byte check decides; the same cells with one zoned cell take the general path.
    n = 30
    days = pd.date_range("2021-03-01", periods=n, freq="D")
    plain = np.array([d.strftime("%Y-%m-%dT%H:%M:%S.000") for d in days], dtype=object)
    zoned = plain.copy()
    zoned[0] = zoned[0] + "Z"
    creators = pd.DataFrame({"creator_id": ["a"], "followers": [10]})
    history = {
        name: pd.DataFrame({"creator_id": ["a"] * n, "date": cells, "followers": np.arange(n)})
        for name, cells in (("plain", plain), ("zoned", zoned))
    }
    got = {
        name: load({"creators": creators, "follower_history": h}).follower_history
        for name, h in history.items()
    }
    assert_frame_equal(got["plain"], got["zoned"])
    assert (got["plain"]["date"].to_numpy() == days.to_numpy()).all()


def test_frames_of_column_arrays_equal_the_constructor_s():
    columns = {
        "creator_id": np.array(["a", None, "c"], dtype=object),
        "followers": np.array([1.0, np.nan, 3.0]),
        "created_at": np.array(["2020-01-01", "NaT", "2021-06-30"], dtype="datetime64[ns]"),
        "is_verified": pd.array([True, None, False], dtype="boolean"),
    }
    got = columns_frame(columns, 3)
    expected = pd.DataFrame(columns, copy=False)
    assert_frame_equal(got, expected)
    assert got["created_at"].dtype == np.dtype("datetime64[ns]")
    # The frame holds the given arrays, not copies.
    assert np.shares_memory(got["created_at"].to_numpy(), columns["created_at"])


@pytest.mark.parametrize("n", [3, 300, 5_000])
def test_key_uniqueness_by_set_and_by_pandas_agree(n):
    posts = pd.DataFrame(
        {
            "creator_id": ["a"] * n,
            "post_id": [f"p{i}" for i in range(n)],
            "posted_at": ["2024-01-01T00:00:00"] * n,
            "likes": [1] * n,
            "comments": [0] * n,
        }
    )
    creators = pd.DataFrame({"creator_id": ["a"], "followers": [10]})
    assert len(load({"creators": creators, "posts": posts}).errors) == 0
    posts.loc[n - 1, "post_id"] = "p0"
    data = load({"creators": creators, "posts": posts})
    assert data.errors["row"].tolist() == [1, n]
    assert data.errors["problem"].str.startswith("duplicate key creator_id 'a', post_id 'p0'").all()


def _layout(frame: pd.DataFrame) -> list[tuple[str, list[int], object]]:
    """Each block of a frame: its class, the columns it holds and its dtype."""
    return [(type(b).__name__, b.mgr_locs.as_array.tolist(), b.dtype) for b in frame._mgr.blocks]


def test_loaded_frames_hold_the_blocks_pandas_makes_of_their_arrays():
    from pandas.core.internals.construction import arrays_to_mgr

    columns = {
        "text": np.array(["a", None], dtype=object),
        "count": np.array([1.0, np.nan]),
        "flag": np.array([True, False]),
        "small": np.array([1, 2], dtype=np.int8),
        "day": np.array(["2020-01-01", "NaT"], dtype="datetime64[ns]"),
        "known": pd.array([True, None], dtype="boolean"),
        "ms": np.array(["2020-01-01", "NaT"], dtype="datetime64[ms]"),  # pandas' own path
    }
    for names in (list(columns)[:-1], list(columns)):
        given = {name: columns[name] for name in names}
        got = dataset._frame(given, 2, checked=True)
        arrays = [dataset._wrapped(v) for v in given.values()]
        mgr = arrays_to_mgr(
            arrays,
            pd.Index(names),
            pd.RangeIndex(2),
            verify_integrity=False,
            typ="block",
            consolidate=False,
        )
        expected = pd.DataFrame._from_mgr(mgr, axes=mgr.axes)
        assert_frame_equal(got, expected)
        assert _layout(got) == _layout(expected)


def test_raw_columns_of_one_block_per_column_equal_pandas_accessor():
    columns = {
        "text": np.array(["a", None], dtype=object),
        "count": np.array([1.0, np.nan]),
        "day": np.array(["2020-01-01", "NaT"], dtype="datetime64[ns]"),
        "known": pd.array([True, None], dtype="boolean"),
    }
    for frame in (columns_frame(columns, 2), pd.DataFrame(columns)):  # split, consolidated
        got = dataset._raw_columns(frame)
        expected = [frame._get_column_array(i) for i in range(frame.shape[1])]
        assert [type(v) for v in got] == [type(v) for v in expected]
        for a, b in zip(got, expected, strict=True):
            assert pd.Series(a).equals(pd.Series(b))
