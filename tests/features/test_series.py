"""Tests for the private segment helpers shared by the builders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from features import _series
from features._series import (
    Segments,
    creator_codes,
    feature_frame,
    grouped_lexsort,
    run_lengths,
    run_starts,
)

IDS = pd.Index(["a", "b", "c"], name="creator_id")


def test_creator_codes_by_hand():
    # Grouped rows, an unknown id (-1), an id that comes back after another, and a NaN id.
    values = pd.Series(["a", "a", "x", "x", "c", "a", "a", np.nan, "b"], dtype=object)
    assert creator_codes(IDS, values).tolist() == [0, 0, -1, -1, 2, 0, 0, -1, 1]


def test_creator_codes_with_cells_that_do_not_compare_as_bools():
    # pd.NA == pd.NA is NA, not a bool: the codes fall back to one look-up per row.
    values = pd.Series(["b", pd.NA, pd.NA, "b"], dtype=object)
    assert creator_codes(IDS, values).tolist() == [1, -1, -1, 1]


@given(st.lists(st.sampled_from(["a", "b", "c", "d", None]), max_size=40), st.booleans())
def test_creator_codes_match_a_hash_look_up_per_row(values, grouped):
    # Grouped or shuffled rows: the codes are always those of Index.get_indexer.
    arr = np.array(sorted(values, key=str) if grouped else values, dtype=object)
    codes = creator_codes(IDS, pd.Series(arr, dtype=object))
    assert codes.dtype == np.int64
    assert codes.tolist() == IDS.get_indexer(arr).tolist()


@pytest.mark.parametrize(
    "values",
    [
        ["a", "a", "b", "b", "b", "c"],  # runs, all known
        ["b", "x", "x", "a"],  # an unknown id
        ["a", None, None, "c", np.nan],  # missing ids
        ["c"],  # one row
        [],
        [f"c{i % 40}" for i in range(200)],  # too many (run, creator) pairs to compare
    ],
)
def test_creator_codes_shortcut_matches_the_index_lookup(values):
    ids = pd.Index(["a", "b", "c", *(f"c{i}" for i in range(40))], name="creator_id")
    column = pd.Series(values, dtype=object)
    got = creator_codes(ids, column)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ids.get_indexer(column.to_numpy()))


def test_creator_codes_shortcut_refuses_duplicate_ids_like_the_lookup():
    with pytest.raises(Exception, match="unique"):
        creator_codes(pd.Index(["a", "a"]), pd.Series(["a", "a", "b"], dtype=object))


def test_feature_frame_orders_names_and_fills_the_missing_with_nan():
    ids = pd.Index(["a", "b"], name="creator_id")
    frame = feature_frame({"y": np.array([1, 2]), "x": 0.5, "extra": [9, 9]}, ["x", "y", "z"], ids)
    assert frame.columns.tolist() == ["x", "y", "z"]
    assert frame.index.equals(ids) and frame.index.name == "creator_id"
    assert (frame.dtypes == np.float64).all()
    assert frame["x"].tolist() == [0.5, 0.5]
    assert frame["y"].tolist() == [1.0, 2.0]
    assert frame["z"].isna().all()


segment_values = st.lists(
    st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=12),
    min_size=1,
    max_size=40,
)


@given(segment_values)
def test_segment_median_matches_groupby_median_with_one_block_or_many(segments):
    # A NaN-padded block per distinct length (large inputs) or one block for all (small ones):
    # both give pandas' group-by median, bit for bit, NaN for a segment without a value.
    codes = np.repeat(np.arange(len(segments)), [len(s) for s in segments])
    values = np.array([np.nan if v is None else v for s in segments for v in s], dtype=float)
    seg = Segments.of(codes)
    expected = pd.Series(values).groupby(codes).median().to_numpy()
    np.testing.assert_array_equal(seg.median(values), expected)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_series, "_ONE_BLOCK_CELLS", 0)
        np.testing.assert_array_equal(seg.median(values), expected)


@given(segment_values.map(lambda segments: segments[:1]))
def test_one_segment_median_is_the_group_by_median(segments):
    # One creator's call sorts its values without laying out a block: same median, bit for bit.
    values = np.array([np.nan if v is None else v for v in segments[0]], dtype=float)
    seg = Segments.of(np.zeros(len(values), dtype=np.int64))
    expected = pd.Series(values).groupby(np.zeros(len(values))).median().to_numpy()
    np.testing.assert_array_equal(seg.median(values), expected)


def test_grouped_lexsort_by_hand():
    # Group 0 ascending (kept), group 1 descending (reversed), group 2 with a tie broken by the
    # third key (sorted on its own), group 3 a single row.
    code = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3])
    time = np.array([1.0, 2.0, 3.0, 9.0, 5.0, 4.0, 7.0, 7.0, 6.0, 0.0])
    tie = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0, 0.0, 0.0])
    order = grouped_lexsort((tie, time, code))
    assert order.tolist() == [0, 1, 2, 5, 4, 3, 8, 7, 6, 9]


@given(
    st.lists(
        st.tuples(
            st.integers(0, 4),
            st.one_of(st.integers(0, 6).map(float), st.just(np.nan)),
            st.integers(0, 2).map(float),
        ),
        max_size=40,
    ),
    st.sampled_from(["as given", "grouped", "grouped ascending", "grouped descending"]),
)
def test_grouped_lexsort_is_lexsort(rows, layout):
    # Any layout (groups in order or not, each ascending, descending or mixed, NaN, ties):
    # the same permutation as np.lexsort, row for row.
    if layout != "as given":
        rows = sorted(rows, key=lambda r: r[0])
    if layout != "as given" and layout != "grouped":
        sign = 1.0 if layout == "grouped ascending" else -1.0
        rows = sorted(rows, key=lambda r: (r[0], sign * r[1] if r[1] == r[1] else 0.0))
    code = np.array([r[0] for r in rows], dtype=np.int64)
    time = np.array([r[1] for r in rows], dtype=float)
    third = np.array([r[2] for r in rows], dtype=float)
    for keys in ((time, code), (third, time, code), (-time, code)):
        assert grouped_lexsort(keys).tolist() == np.lexsort(keys).tolist()


def test_run_starts_and_lengths():
    values = np.array(["a", "a", "b", "b", "b", "a"], dtype=object)
    starts = run_starts(values)
    assert starts.tolist() == [0, 2, 5]
    assert run_lengths(starts, len(values)).tolist() == [2, 3, 1]
    # No runs worth using: more runs than half the rows, or not an object array.
    assert run_starts(np.array(["a", "b", "a"], dtype=object)) is None
    assert run_starts(np.array([1, 1, 1])) is None
    assert run_starts(np.array(["a", pd.NA, pd.NA], dtype=object)) is None
