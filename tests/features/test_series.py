"""Tests for the private segment helpers shared by the builders."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from features._series import creator_codes

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
