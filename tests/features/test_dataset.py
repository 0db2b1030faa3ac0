"""Tests for the contract loader: coercion, validation, row errors and whole-file errors."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from features.dataset import TEXT_LIMIT, ContractError, CreatorData, load, load_labels, read_table
from features.schema import INPUT_TABLES, TABLES

FORMATS = ("parquet", "csv", "csv.gz", "jsonl", "jsonl.gz")

LOADED_DTYPE = {
    "str": "object",
    "int": "float64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns]",
}


def good_tables() -> dict[str, pd.DataFrame]:
    """Three creators (a, b, c) with rows in every input table, using every contract type.

    Typed like a user's pandas frames: counts with gaps are floats, bools with gaps are objects,
    timestamps are zoned.
    """
    creators = pd.DataFrame(
        {
            "creator_id": ["a", "b", "c"],
            "platform": ["instagram", "TikTok", None],
            "handle": ["ann", None, "cy"],
            "followers": [1200, 56000, 900],
            "following": [300.0, np.nan, 50.0],
            "posts_count": [40, 12, 7],
            "bio": ["Travel & food", None, "Runner"],
            "is_verified": [True, None, False],
            "country": ["us", "DE", None],
            "created_at": pd.to_datetime(["2019-05-01", "2020-01-31", None]),
            "snapshot_at": pd.to_datetime(["2024-06-30", "2024-06-30", "2024-06-29"]),
        }
    )
    history = pd.DataFrame(
        {
            "creator_id": ["a", "a", "b", "c"],
            "date": pd.to_datetime(["2024-06-01", "2024-06-15", "2024-06-01", "2024-06-10"]),
            "followers": [1100, 1200, 55000, 880],
            "following": [290.0, np.nan, 10.0, 50.0],
        }
    )
    posts = pd.DataFrame(
        {
            "creator_id": ["a", "a", "b", "c"],
            "post_id": ["p1", "p2", "p1", "p9"],
            "posted_at": pd.to_datetime(
                [
                    "2024-06-01T10:00:00Z",
                    "2024-06-02T23:30:00Z",
                    "2024-06-03T08:15:00Z",
                    "2024-06-04T00:00:00Z",
                ]
            ),
            "likes": [50, 61, 900, 12],
            "comments": [3, 0, 40, 1],
            "views": [np.nan, 2000.0, np.nan, 150.0],
            "caption": ["Beach day #sun @bob", "Ünïcödé ✨ 日本", None, "run"],
            "is_sponsored": [False, True, None, False],
            "media_type": ["image", "reel", None, "video"],
        }
    )
    comments = pd.DataFrame(
        {
            "creator_id": ["a", "b"],
            "post_id": ["p1", "p1"],
            "text": ["nice pic", "wow"],
            "commenter_id": ["u1", None],
            "created_at": pd.to_datetime(["2024-06-01T11:00:00Z", None], utc=True),
        }
    )
    audience = pd.DataFrame(
        {
            "creator_id": ["a", "a", "c"],
            "follower_id": ["f1", "f2", "f3"],
            "username": ["jo_1990", "x8x8x8", None],
            "username_length": [7.0, 6.0, np.nan],
            "username_digit_count": [4.0, 3.0, np.nan],
            "full_name": ["Jo", None, "Cy"],
            "has_profile_pic": [True, False, None],
            "is_private": [False, False, True],
            "biography_length": [10.0, 0.0, np.nan],
            "has_external_url": [False, None, False],
            "media_count": [5.0, 0.0, 3.0],
            "followers": [100.0, 2.0, np.nan],
            "following": [150.0, 7400.0, 80.0],
        }
    )
    brands = pd.DataFrame(
        {
            "brand_id": ["br1", "br2"],
            "name": ["Sunny", None],
            "brief": ["Sunscreen for travellers", "Trail shoes"],
            "target_countries": ["US;DE", None],
            "min_followers": [1000.0, np.nan],
            "max_followers": [100000.0, np.nan],
            "excluded_topics": [None, "gambling"],
        }
    )
    return {
        "creators": creators,
        "follower_history": history,
        "posts": posts,
        "comments": comments,
        "audience_sample": audience,
        "brands": brands,
    }


def write(folder: Path, tables: dict[str, pd.DataFrame], fmt: str) -> Path:
    """Write each table to ``folder/<table>.<fmt>`` the way a user's export would look."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "parquet":
            frame.to_parquet(path, index=False)
        elif fmt.startswith("csv"):
            frame.to_csv(path, index=False)
        else:
            frame.to_json(path, orient="records", lines=True, date_format="iso")
    return folder


def assert_same_data(left: CreatorData, right: CreatorData) -> None:
    for table in INPUT_TABLES:
        a, b = getattr(left, table), getattr(right, table)
        assert (a is None) == (b is None), table
        if a is not None:
            assert_frame_equal(a, b, obj=table)
    assert left.creator_ids == right.creator_ids
    assert left.unscorable == right.unscorable
    assert_frame_equal(left.errors, right.errors, obj="errors")


@pytest.fixture(scope="module")
def reference() -> CreatorData:
    """The good tables loaded once (tests only read it)."""
    return load(good_tables())


def rows_of(data: CreatorData, table: str, ids: list[str]) -> pd.DataFrame:
    frame = getattr(data, table)
    return frame[frame["creator_id"].isin(ids)].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Good data


def test_every_contract_column_has_its_loaded_dtype():
    data = load(good_tables())
    for table in INPUT_TABLES:
        frame = getattr(data, table)
        assert list(frame.columns) == [c.name for c in TABLES[table]]
        for col in TABLES[table]:
            assert str(frame[col.name].dtype) == LOADED_DTYPE[col.type], (table, col.name)
        assert isinstance(frame.index, pd.RangeIndex)
    assert data.errors.empty and data.unscorable == {}
    assert len(data) == 3 and data.creator_ids == ["a", "b", "c"]


def test_values_are_coerced_to_the_contract():
    data = load(good_tables())
    c = data.creators
    assert c["platform"].tolist() == ["instagram", "tiktok", "instagram"]  # lower, default
    assert c["country"].tolist() == ["US", "DE", None]
    assert c["followers"].tolist() == [1200.0, 56000.0, 900.0]
    assert c["following"].iloc[1] != c["following"].iloc[1]  # unknown stays NaN, not 0
    assert c["is_verified"].tolist() == [True, pd.NA, False]
    assert c["created_at"].iloc[2] is pd.NaT
    p = data.posts
    assert p["posted_at"].iloc[1] == pd.Timestamp("2024-06-02 23:30:00")
    assert p["caption"].tolist() == ["Beach day #sun @bob", "Ünïcödé ✨ 日本", None, "run"]
    assert data.comments["created_at"].isna().tolist() == [False, True]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_identical_data(tmp_path, fmt):
    tables = good_tables()
    tables["posts"].loc[3, "likes"] = -5  # one row error, so errors must agree as well
    expected = load(tables)
    assert expected.unscorable.keys() == {"c"}
    got = load(write(tmp_path / fmt, tables, fmt))
    assert_same_data(got, expected)


def test_read_table_reads_raw_text_from_csv(tmp_path):
    (tmp_path / "posts.csv").write_text("creator_id,likes,caption\n007,12.0,\nx,,NA\n")
    raw = read_table(tmp_path / "posts.csv")
    assert raw["creator_id"].tolist() == ["007", "x"]  # leading zeros kept
    assert raw["likes"].tolist()[0] == "12.0" and pd.isna(raw["likes"].iloc[1])
    assert pd.isna(raw["caption"].iloc[0]) and raw["caption"].iloc[1] == "NA"


def test_dataframe_input_is_not_modified():
    tables = good_tables()
    before = {k: v.copy() for k, v in tables.items()}
    load(tables)
    for name, frame in tables.items():
        assert_frame_equal(frame, before[name])


def test_raw_text_and_typed_values_load_the_same():
    typed = good_tables()
    text = {}
    for name, frame in typed.items():
        text[name] = (
            frame.astype(object)
            .where(frame.notna(), None)
            .map(lambda v: v if v is None else str(v))
        )
    assert_same_data(load(text), load(typed))


def test_absent_optional_tables_are_none_and_missing_columns_are_unknown():
    creators = pd.DataFrame({"creator_id": ["a", "b"], "followers": ["10", "20"]})
    data = load({"creators": creators})
    for table in INPUT_TABLES[1:]:
        assert getattr(data, table) is None
    c = data.creators
    assert list(c.columns) == [col.name for col in TABLES["creators"]]
    assert c["platform"].tolist() == ["instagram", "instagram"]
    assert c["handle"].tolist() == [None, None]
    assert c["following"].isna().all() and c["following"].dtype == "float64"
    assert c["is_verified"].isna().all() and c["is_verified"].dtype == "boolean"
    assert c["snapshot_at"].isna().all() and c["snapshot_at"].dtype == "datetime64[ns]"


def test_unknown_columns_are_kept_as_they_came(tmp_path):
    tables = good_tables()
    tables["creators"]["agency"] = ["x", "y", "z"]
    tables["posts"]["hashtags_n"] = [1, 2, 3, 4]
    data = load(tables)
    assert data.creators["agency"].tolist() == ["x", "y", "z"]
    assert data.creators.columns[-1] == "agency"
    assert data.posts["hashtags_n"].tolist() == [1, 2, 3, 4]
    from_csv = load(write(tmp_path, tables, "csv"))
    assert from_csv.posts["hashtags_n"].tolist() == ["1", "2", "3", "4"]  # as read: text


def test_files_not_named_after_an_input_table_are_ignored(tmp_path):
    write(tmp_path, {"creators": good_tables()["creators"]}, "csv")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "fraud_labels.xlsx").write_bytes(b"not read by load")
    (tmp_path / "creators_old.csv").write_text("garbage")
    assert load(tmp_path).creator_ids == ["a", "b", "c"]


# --------------------------------------------------------------------------------------------
# Type coercion details


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("1", True),
        ("yes", True),
        ("Yes", True),
        ("yEs", True),
        ("false", False),
        ("FaLsE", False),
        ("0", False),
        ("no", False),
        ("NO", False),
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        (None, pd.NA),
        ("", pd.NA),
    ],
)
def test_boolean_spellings(cell, expected):
    creators = pd.DataFrame({"creator_id": ["a"], "followers": [1], "is_verified": [cell]})
    data = load({"creators": creators})
    assert data.errors.empty
    got = data.creators["is_verified"].iloc[0]
    assert got is pd.NA if expected is pd.NA else got == expected


@pytest.mark.parametrize("cell", ["maybe", "2", "t", "y"])
def test_other_boolean_spellings_are_row_errors(cell):
    creators = pd.DataFrame(
        {"creator_id": ["a", "b"], "followers": [1, 2], "is_verified": [cell, "no"]}
    )
    data = load({"creators": creators})
    assert data.creator_ids == ["a", "b"]
    assert data.creators["creator_id"].tolist() == ["b"]
    assert data.errors[["table", "row", "column"]].values.tolist() == [
        ["creators", 1, "is_verified"]
    ]


def test_zoned_and_naive_timestamps_give_the_same_instant():
    cells = [
        "2024-06-01T10:00:00Z",
        "2024-06-01T12:00:00+02:00",
        "2024-06-01 10:00:00",  # naive = UTC, even after a zoned cell in the same column
        "2024-06-01T05:00:00-0500",
        "2024-06-01T10:00:00",
    ]
    posts = pd.DataFrame(
        {
            "creator_id": "a",
            "post_id": [f"p{i}" for i in range(len(cells))],
            "posted_at": cells,
            "likes": 1,
            "comments": 0,
        }
    )
    creators = pd.DataFrame({"creator_id": ["a"], "followers": [5]})
    data = load({"creators": creators, "posts": posts})
    assert data.errors.empty
    assert (data.posts["posted_at"] == pd.Timestamp("2024-06-01 10:00:00")).all()
    zoned = posts.assign(posted_at=pd.to_datetime(cells[:2] * 2 + cells[:1], utc=True))
    naive = posts.assign(posted_at=pd.to_datetime([cells[2]] * 5))
    for frame in (zoned, naive):
        got = load({"creators": creators, "posts": frame}).posts["posted_at"]
        assert (got == pd.Timestamp("2024-06-01 10:00:00")).all()


def test_dates_accept_a_full_timestamp_floored_to_its_day():
    creators = pd.DataFrame(
        {
            "creator_id": ["a", "b", "c"],
            "followers": [1, 2, 3],
            "created_at": ["2020-02-29", "2020-02-29T17:45:00", "2020-02-29T23:30:00-05:00"],
        }
    )
    data = load({"creators": creators})
    assert data.errors.empty
    # A zoned timestamp is converted to UTC first, like every timestamp of the contract.
    expected = pd.to_datetime(["2020-02-29", "2020-02-29", "2020-03-01"])
    assert data.creators["created_at"].tolist() == expected.tolist()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stamps=st.lists(
        st.datetimes(min_value=dt.datetime(1678, 1, 1), max_value=dt.datetime(2261, 12, 31)),
        min_size=1,
        max_size=6,
    ),
    spelling=st.sampled_from(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S.%f"]),
    many=st.booleans(),
)
def test_plain_iso_text_reads_as_the_same_instants_as_typed_values(stamps, spelling, many):
    # Small columns of plain naive ISO text take a quick parse, long ones the general one.
    if many:
        from features.dataset import _PLAIN_ISO_MAX

        stamps = stamps * (_PLAIN_ISO_MAX // len(stamps) + 1)
    texts = [t.strftime(spelling) for t in stamps]
    n = len(texts)
    posts = pd.DataFrame(
        {"creator_id": "a", "post_id": [f"p{i}" for i in range(n)], "likes": 1, "comments": 0}
    )
    creators = pd.DataFrame({"creator_id": ["a"], "followers": [5], "created_at": texts[:1]})
    as_text = load({"creators": creators, "posts": posts.assign(posted_at=texts)})
    typed = pd.to_datetime(texts, format="ISO8601")
    as_values = load(
        {
            "creators": creators.assign(created_at=typed[:1]),
            "posts": posts.assign(posted_at=typed),
        }
    )
    assert as_text.errors.empty
    assert_frame_equal(as_text.posts, as_values.posts)
    assert_frame_equal(as_text.creators, as_values.creators)
    assert as_text.creators["created_at"].iloc[0] == typed[0].floor("D")


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("1600-01-01", "not an ISO 8601 date '1600-01-01'"),  # outside the nanosecond range
        ("2023-02-29", "not an ISO 8601 date '2023-02-29'"),
        ("2024-01-01T24:00:00", "not an ISO 8601 date '2024-01-01T24:00:00'"),
    ],
)
def test_impossible_plain_dates_are_row_errors(cell, problem):
    creators = pd.DataFrame({"creator_id": ["a", "b"], "followers": [1, 2]})
    creators["created_at"] = [cell, "2024-01-01"]
    data = load({"creators": creators})
    assert data.errors[["row", "column", "problem"]].values.tolist() == [[1, "created_at", problem]]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.one_of(st.none(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False)),
            st.sampled_from([None, "instagram", "TikTok", "myspace", "x"]),
            st.sampled_from([None, "us", "DE", "USA", "d1", "ÄB"]),
            st.sampled_from([None, "", "bio", "x" * (TEXT_LIMIT + 1)]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_quick_schema_check_never_passes_what_pandera_rejects(rows):
    from features import dataset

    cols = ["creator_id", "followers", "platform", "country", "bio"]
    raw = pd.DataFrame(rows, columns=cols).astype(object)
    frame, _ = dataset._validate_table("creators", raw, "table creators")
    try:
        with warnings.catch_warnings():  # pandera's own concatenation of its failure cases
            warnings.filterwarnings("ignore", "The behavior of DataFrame concat", FutureWarning)
            dataset.table_schema("creators").validate(frame, lazy=True)
        valid = True
    except pa.errors.SchemaErrors:
        valid = False
    quick = dataset._passes("creators", frame)
    assert not quick or valid
    if frame["creator_id"].notna().all():  # only missing key parts are judged more strictly
        assert quick == valid


@pytest.mark.parametrize(
    ("cell", "expected"), [("12", 12.0), ("12.0", 12.0), (12, 12.0), ("0", 0.0)]
)
def test_whole_numbers_are_accepted(cell, expected):
    creators = pd.DataFrame({"creator_id": ["a"], "followers": [cell]})
    data = load({"creators": creators})
    assert data.errors.empty and data.creators["followers"].tolist() == [expected]


def test_missing_spellings_in_typed_columns_mean_unknown_but_text_is_verbatim():
    creators = pd.DataFrame(
        {
            "creator_id": ["a", "b"],
            "followers": ["1", "2"],
            "following": ["NaN", "null"],
            "is_verified": ["N/A", "None"],
            "country": ["NA", "na"],  # Namibia, not "missing"
            "handle": ["null", "NA"],
        }
    )
    data = load({"creators": creators})
    assert data.errors.empty
    c = data.creators
    assert c["following"].isna().all() and c["is_verified"].isna().all()
    assert c["country"].tolist() == ["NA", "NA"] and c["handle"].tolist() == ["null", "NA"]


def test_parquet_native_dates_and_categories(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "creator_id": pa.array(["a", "b"]).dictionary_encode(),
            "followers": pa.array([10, None], pa.int32()),
            "platform": pa.array(["x", "x"]).dictionary_encode(),
            "created_at": pa.array([dt.date(2020, 1, 2), None], pa.date32()),
            "snapshot_at": pa.array([dt.datetime(2024, 1, 2, 15), None], pa.timestamp("us")),
        }
    )
    pq.write_table(table, tmp_path / "creators.parquet")
    data = load(tmp_path)
    assert data.creator_ids == ["a", "b"]
    assert data.errors[["row", "column"]].values.tolist() == [[2, "followers"]]
    c = data.creators
    assert c["platform"].tolist() == ["x"] and c["platform"].dtype == object
    assert c["created_at"].tolist() == [pd.Timestamp("2020-01-02")]
    assert c["snapshot_at"].tolist() == [pd.Timestamp("2024-01-02")]


def test_parquet_dates_arrive_as_datetimes_and_out_of_range_ones_are_row_errors(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from features.dataset import read_table

    days = [dt.date(2024, 1, 1), dt.date(1600, 5, 1), None, dt.date(2300, 1, 1)]
    history = pa.table(
        {
            "creator_id": ["a", "b", "b", "b"],
            "date": pa.array(days, pa.date32()),
            "followers": [10, 11, 12, 13],
        }
    )
    pq.write_table(history, tmp_path / "follower_history.parquet")
    creators = pa.table({"creator_id": ["a", "b"], "followers": [10, 11]})
    pq.write_table(creators, tmp_path / "creators.parquet")
    # Dates are not one Python object per cell on the way in.
    assert read_table(tmp_path / "follower_history.parquet")["date"].dtype.kind == "M"
    data = load(tmp_path)
    # Years outside pandas' nanosecond range (1677-2262) cannot be held: row errors that name
    # the table, row and column, while the other creator's rows load with their exact day.
    errors = data.errors.set_index("row")
    assert errors["table"].eq("follower_history").all() and errors["column"].eq("date").all()
    assert "1600-05-01" in errors.loc[2, "problem"] and "2300-01-01" in errors.loc[4, "problem"]
    assert errors.loc[3, "problem"] == "missing value in a required column"
    assert data.follower_history["date"].tolist() == [pd.Timestamp("2024-01-01")]


def test_a_column_given_twice_is_a_contract_error():
    creators = pd.DataFrame([["a", 1, 2]], columns=["creator_id", "followers", "followers"])
    with pytest.raises(ContractError, match="table creators: column followers given more"):
        load({"creators": creators})


def test_ids_given_as_numbers_become_text(tmp_path):
    (tmp_path / "creators.jsonl").write_text(
        '{"creator_id": 12, "followers": 5}\n{"creator_id": "x7", "followers": 6}\n'
    )
    data = load(tmp_path)
    assert data.creator_ids == ["12", "x7"]
    assert data.creators["creator_id"].tolist() == ["12", "x7"]


def test_nested_json_values_are_row_errors(tmp_path):
    (tmp_path / "creators.jsonl").write_text(
        '{"creator_id": "a", "followers": [5]}\n'
        '{"creator_id": "b", "followers": 6, "is_verified": {"v": true}}\n'
        '{"creator_id": "c", "followers": 7, "is_verified": "yes"}\n'
    )
    data = load(tmp_path)
    assert data.errors[["row", "column", "creator_id"]].values.tolist() == [
        [1, "followers", "a"],
        [2, "is_verified", "b"],
    ]
    assert data.errors["problem"].str.startswith("a list or object").all()
    assert data.creators["creator_id"].tolist() == ["c"]


def test_html_in_text_is_kept_verbatim():
    html = '<script>alert("x")</script> <b>bold</b> &amp; <a href="http://e.com">l</a>'
    tables = good_tables()
    tables["posts"].loc[0, "caption"] = html
    tables["creators"].loc[1, "bio"] = html
    data = load(tables)
    assert data.errors.empty
    assert data.posts["caption"].iloc[0] == html
    assert data.creators["bio"].iloc[1] == html


def test_text_at_the_limit_is_fine():
    tables = good_tables()
    tables["posts"].loc[0, "caption"] = "x" * TEXT_LIMIT
    data = load(tables)
    assert data.errors.empty and len(data.posts["caption"].iloc[0]) == TEXT_LIMIT


# --------------------------------------------------------------------------------------------
# Row errors: the bad creator is reported and removed, the good ones load intact


BAD_CELLS = [
    # table, row index, column, cell, problem
    ("creators", 1, "followers", "-5", "negative value -5"),
    ("creators", 1, "followers", "12.5", "not a whole number 12.5"),
    ("creators", 1, "followers", "abc", "not a whole number 'abc'"),
    ("creators", 1, "followers", None, "missing value in a required column"),
    ("creators", 1, "created_at", "31/12/2023", "not an ISO 8601 date '31/12/2023'"),
    ("creators", 1, "snapshot_at", "2023-02-30", "not an ISO 8601 date '2023-02-30'"),
    ("creators", 1, "platform", "myspace", "unknown platform 'myspace'"),
    ("creators", 1, "country", "USA", "country 'USA' is not a two-letter ISO 3166-1 code"),
    ("creators", 1, "is_verified", "maybe", "not a boolean"),
    ("follower_history", 2, "followers", "-1", "negative value -1"),
    ("follower_history", 2, "date", "yesterday", "not an ISO 8601 date 'yesterday'"),
    ("follower_history", 2, "date", None, "missing value in a required column"),
    ("posts", 2, "likes", "-5", "negative value -5"),
    ("posts", 2, "comments", np.nan, "missing value in a required column"),
    ("posts", 2, "posted_at", "June 3rd", "not an ISO 8601 timestamp 'June 3rd'"),
    ("posts", 2, "views", "1e400", "not a whole number '1e400'"),
    ("posts", 2, "caption", "x" * 1_048_576, "text of 1,048,576 characters exceeds 20,000"),
    ("comments", 1, "text", None, "missing value in a required column"),
    ("comments", 1, "created_at", "soon", "not an ISO 8601 timestamp 'soon'"),
    ("audience_sample", 0, "media_count", "-3", "negative value -3"),
    ("audience_sample", 0, "is_private", "perhaps", "not a boolean"),
    # JSON's Infinity reaches the loader as a float: a bad cell, not a warning.
    ("creators", 1, "followers", float("inf"), "not a whole number inf"),
]


# Through a CSV file as well (all cells text), for one case of each kind of problem.
THROUGH_CSV = {0, 1, 2, 4, 6, 7, 8, 11, 14, 16, 17, 20}


@pytest.mark.parametrize(
    ("fmt", "table", "index", "column", "cell", "problem"),
    [("frame", *case) for case in BAD_CELLS]
    + [("csv", *case) for i, case in enumerate(BAD_CELLS) if i in THROUGH_CSV],
)
def test_a_bad_cell_makes_only_its_creator_unscorable(
    tmp_path, reference, table, index, column, cell, problem, fmt
):
    tables = good_tables()
    frame = tables[table]
    frame[column] = frame[column].astype(object)
    frame.loc[index, column] = cell
    bad_id = frame.loc[index, "creator_id"]
    good_ids = [i for i in ["a", "b", "c"] if i != bad_id]
    data = load(tables if fmt == "frame" else write(tmp_path, tables, fmt))

    err = data.errors
    assert err[["table", "row", "column", "creator_id"]].values.tolist() == [
        [table, index + 1, column, bad_id]
    ]
    assert err["problem"].iloc[0].startswith(problem)
    assert data.unscorable == {
        bad_id: f"{table} row {index + 1}, column {column}: {err['problem'].iloc[0]}"
    }
    assert data.error_for(bad_id) == data.unscorable[bad_id] and data.error_for(good_ids[0]) == ""
    assert data.creator_ids == ["a", "b", "c"]

    for name in INPUT_TABLES[:-1]:
        got = getattr(data, name)
        assert bad_id not in set(got["creator_id"]), name
        assert_frame_equal(rows_of(data, name, good_ids), rows_of(reference, name, good_ids))
    assert_frame_equal(data.brands, reference.brands)


def test_duplicate_creator_ids_make_every_copy_an_error():
    tables = good_tables()
    creators = pd.concat([tables["creators"], tables["creators"].iloc[[0]]], ignore_index=True)
    tables["creators"] = creators
    data = load(tables)
    assert data.errors[["table", "row", "column", "creator_id"]].values.tolist() == [
        ["creators", 1, "creator_id", "a"],
        ["creators", 4, "creator_id", "a"],
    ]
    assert data.errors["problem"].tolist() == [
        "duplicate creator_id 'a' (also in row 4)",
        "duplicate creator_id 'a' (also in row 1)",
    ]
    assert data.creator_ids == ["a", "b", "c", "a"]
    assert data.creators["creator_id"].tolist() == ["b", "c"]
    assert "a" not in set(data.posts["creator_id"]) and "a" in data.unscorable


def test_duplicate_post_key_is_an_error_but_same_post_id_elsewhere_is_fine():
    tables = good_tables()
    posts = tables["posts"]
    tables["posts"] = pd.concat([posts, posts.iloc[[1]]], ignore_index=True)
    data = load(tables)
    # p1 exists for a and b: unique per creator, so fine; a's p2 twice is not.
    assert data.errors[["table", "row", "column", "creator_id"]].values.tolist() == [
        ["posts", 2, "post_id", "a"],
        ["posts", 5, "post_id", "a"],
    ]
    assert "creator_id 'a', post_id 'p2'" in data.errors["problem"].iloc[0]
    assert set(data.unscorable) == {"a"}
    assert data.creators["creator_id"].tolist() == ["b", "c"]


def test_bad_brand_rows_are_dropped_without_blaming_a_creator():
    tables = good_tables()
    brands = tables["brands"]
    tables["brands"] = pd.concat([brands, brands.iloc[[0]]], ignore_index=True)
    tables["brands"].loc[1, "brief"] = None
    data = load(tables)
    assert data.errors[["table", "row", "column"]].values.tolist() == [
        ["brands", 1, "brand_id"],
        ["brands", 2, "brief"],
        ["brands", 3, "brand_id"],
    ]
    assert data.errors["creator_id"].isna().all()
    assert data.unscorable == {} and len(data) == 3
    assert len(data.brands) == 0


def test_child_rows_of_unknown_creators_are_reported_and_dropped(reference):
    tables = good_tables()
    posts = tables["posts"]
    tables["posts"] = pd.concat(
        [posts, posts.iloc[[0]].assign(creator_id="ghost", post_id="g1")], ignore_index=True
    )
    data = load(tables)
    assert data.errors.values.tolist() == [
        ["posts", 5, "creator_id", "ghost", "unknown creator 'ghost' (not in creators)"]
    ]
    assert data.unscorable == {}
    assert_frame_equal(data.posts, reference.posts)


def test_missing_creator_id_is_kept_as_empty_in_creator_ids():
    tables = good_tables()
    tables["creators"].loc[1, "creator_id"] = None
    data = load(tables)
    assert data.creator_ids == ["a", "", "c"]
    assert data.errors[["table", "row", "column", "creator_id"]].values.tolist()[0] == [
        "creators",
        2,
        "creator_id",
        "",
    ]
    assert "" in data.unscorable
    # b's child rows now belong to no creator: reported as unknown, nobody else blamed.
    assert set(data.unscorable) == {""}
    assert data.creators["creator_id"].tolist() == ["a", "c"]
    assert "b" not in set(data.posts["creator_id"])


def test_creator_ids_keep_input_order_including_bad_rows():
    creators = pd.DataFrame(
        {"creator_id": ["z", "y", None, "x", "w"], "followers": ["1", "-2", "3", "oops", "5"]}
    )
    data = load({"creators": creators})
    assert data.creator_ids == ["z", "y", "", "x", "w"]
    assert data.creators["creator_id"].tolist() == ["z", "w"]
    assert set(data.unscorable) == {"y", "", "x"}


def test_many_problems_are_summarised_in_one_message():
    tables = good_tables()
    posts = tables["posts"].astype({"likes": object, "comments": object})
    posts.loc[[0, 1], "likes"] = "-1"
    posts.loc[[0, 1], "comments"] = "x"
    tables["posts"] = posts
    data = load(tables)
    message = data.unscorable["a"]
    assert message == (
        "posts row 1, column likes: negative value -1; "
        "posts row 1, column comments: not a whole number 'x'; "
        "posts row 2, column likes: negative value -1 (+1 more)"
    )
    assert len(data.errors) == 4


# --------------------------------------------------------------------------------------------
# Whole-file problems


def test_missing_folder(tmp_path):
    with pytest.raises(ContractError, match="does not exist"):
        load(tmp_path / "nope")


def test_missing_creators_table(tmp_path):
    write(tmp_path, {"posts": good_tables()["posts"]}, "csv")
    with pytest.raises(ContractError, match="required table creators missing"):
        load(tmp_path)
    with pytest.raises(ContractError, match="required table creators missing"):
        load({"posts": good_tables()["posts"]})


def test_missing_required_column_names_it_and_lists_the_columns_found(tmp_path):
    tables = good_tables()
    tables["posts"] = tables["posts"].drop(columns="likes")
    write(tmp_path, tables, "parquet")
    with pytest.raises(ContractError) as info:
        load(tmp_path)
    message = str(info.value)
    assert "posts.parquet" in message and "likes" in message
    assert "columns found: creator_id, post_id, posted_at, comments" in message


def test_zero_byte_file(tmp_path):
    write(tmp_path, {"creators": good_tables()["creators"]}, "csv")
    (tmp_path / "posts.jsonl").write_bytes(b"")
    with pytest.raises(ContractError, match=r"posts\.jsonl is empty \(0 bytes\)"):
        load(tmp_path)


def test_unknown_extension_says_which_work(tmp_path):
    write(tmp_path, {"creators": good_tables()["creators"]}, "csv")
    (tmp_path / "creators.csv").rename(tmp_path / "creators.xlsx")
    with pytest.raises(ContractError) as info:
        load(tmp_path)
    assert "creators.xlsx" in str(info.value) and "creators.parquet" in str(info.value)


def test_two_files_for_one_table(tmp_path):
    write(tmp_path, {"creators": good_tables()["creators"]}, "csv")
    write(tmp_path, {"creators": good_tables()["creators"]}, "parquet")
    with pytest.raises(ContractError, match="creators.csv, creators.parquet; keep exactly one"):
        load(tmp_path)


@pytest.mark.parametrize("fmt", FORMATS)
def test_corrupt_file(tmp_path, fmt):
    write(tmp_path, {"creators": good_tables()["creators"]}, fmt)
    path = tmp_path / f"creators.{fmt}"
    path.write_bytes(b"\x00\xff PK garbage \x01{" * 10)
    with pytest.raises(ContractError, match=f"creators.{fmt}"):
        load(tmp_path)


def test_header_only_csv_loads_no_creators(tmp_path):
    (tmp_path / "creators.csv").write_text("creator_id,followers\n")
    data = load(tmp_path)
    assert len(data) == 0 and data.creator_ids == [] and data.errors.empty


# --------------------------------------------------------------------------------------------
# Labels


def test_labels_load_with_bad_rows_dropped_and_reported(tmp_path):
    fraud = pd.DataFrame(
        {"creator_id": ["a", "b", "c"], "bought_followers": ["yes", "0", "perhaps"]}
    )
    fit = pd.DataFrame(
        {"brand_id": ["br1", "br1"], "creator_id": ["a", "b"], "outcome": ["3", "4"]}
    )
    write(tmp_path, {"fraud_labels": fraud, "fit_labels": fit}, "csv")
    write(tmp_path, {"creators": good_tables()["creators"]}, "csv")
    tables, errors = load_labels(tmp_path)
    assert set(tables) == {"fraud_labels", "fit_labels"}
    assert tables["fraud_labels"]["bought_followers"].tolist() == [True, False]
    assert tables["fit_labels"]["outcome"].tolist() == [3.0]
    assert errors[["table", "row", "column", "creator_id"]].values.tolist() == [
        ["fraud_labels", 3, "bought_followers", "c"],
        ["fit_labels", 2, "outcome", "b"],
    ]
    assert "above the maximum 3" in errors["problem"].iloc[1]


def test_no_label_tables_gives_empty_results():
    tables, errors = load_labels({"creators": good_tables()["creators"]})
    assert tables == {} and errors.empty
    assert list(errors.columns) == ["table", "row", "column", "creator_id", "problem"]


# --------------------------------------------------------------------------------------------
# Frames as the batch scorer reads them from Parquet (Arrow types converted by pyarrow):
# int64 counts, bool flags, date32 as datetime.date objects, timestamp[ns], text without gaps.


def arrow_frames() -> dict[str, pd.DataFrame]:
    """Two creators in Arrow-typed tables, converted to pandas as ``ChunkPlan.read`` does."""
    import pyarrow as pa_

    day = pa_.date32()
    tables = {
        "creators": pa_.table(
            {
                "creator_id": ["a", "b"],
                "platform": ["instagram", "TikTok"],
                "followers": pa_.array([1200, 56000], pa_.int64()),
                "is_verified": [True, False],
                "country": ["us", "DE"],
                "created_at": pa_.array([dt.date(2019, 5, 1), None], day),
            }
        ),
        "follower_history": pa_.table(
            {
                "creator_id": ["a", "a", "b"],
                "date": pa_.array([dt.date(2024, 6, d) for d in (1, 15, 1)], day),
                "followers": pa_.array([1100, 1200, 55000], pa_.int64()),
            }
        ),
        "posts": pa_.table(
            {
                "creator_id": ["a", "a", "b"],
                "post_id": ["p1", "p2", "p1"],
                "posted_at": pa_.array(
                    [dt.datetime(2024, 6, 1, 10), dt.datetime(2024, 6, 2, 23, 30)] * 1
                    + [dt.datetime(2024, 6, 3, 8, 15)],
                    pa_.timestamp("ns"),
                ),
                "likes": pa_.array([50, 61, 900], pa_.int64()),
                "comments": pa_.array([3, 0, 40], pa_.int64()),
                "views": pa_.array([None, 2000, 150], pa_.int64()),
                "caption": ["Beach day #sun", "Ünïcödé ✨ 日本", ""],
                "is_sponsored": [False, True, False],
            }
        ),
        "comments": pa_.table(
            {
                "creator_id": ["a", "b"],
                "post_id": ["p1", "p1"],
                "text": ["nice pic", "wow"],
                "created_at": pa_.array([dt.date(2024, 6, 1), dt.date(2024, 6, 3)], day),
            }
        ),
    }
    return {name: table.to_pandas() for name, table in tables.items()}


def as_text(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The same cells as text, as a CSV export would give them."""
    return {
        name: frame.astype(object)
        .where(frame.notna(), None)
        .map(lambda v: v if v is None else str(v))
        for name, frame in frames.items()
    }


def test_arrow_typed_frames_load_like_their_text():
    frames = arrow_frames()
    assert frames["follower_history"]["date"].dtype == object  # date32 arrives as date objects
    assert frames["posts"]["posted_at"].dtype == "datetime64[ns]"
    assert frames["posts"]["views"].dtype == "float64"  # int64 with a gap
    data = load(frames)
    assert_same_data(data, load(as_text(frames)))
    assert data.errors.empty and data.creator_ids == ["a", "b"]
    assert data.follower_history["date"].tolist()[:2] == [
        pd.Timestamp("2024-06-01"),
        pd.Timestamp("2024-06-15"),
    ]
    assert data.posts["posted_at"].tolist()[1] == pd.Timestamp("2024-06-02 23:30")
    assert data.creators["created_at"].isna().tolist() == [False, True]
    assert data.comments["created_at"].tolist() == [
        pd.Timestamp("2024-06-01"),
        pd.Timestamp("2024-06-03"),
    ]
    assert data.posts["caption"].tolist() == ["Beach day #sun", "Ünïcödé ✨ 日本", None]
    assert data.creators["platform"].tolist() == ["instagram", "tiktok"]
    assert data.creators["country"].tolist() == ["US", "DE"]


def test_arrow_typed_input_is_not_modified():
    frames = arrow_frames()
    before = {name: frame.copy(deep=True) for name, frame in frames.items()}
    load(frames)
    for name, frame in frames.items():
        assert_frame_equal(frame, before[name])


ARROW_BAD_CELLS = [
    # table, row index, column, cell, problem
    ("follower_history", 1, "followers", -1, "negative value -1"),
    ("creators", 1, "platform", "myspace", "unknown platform 'myspace'"),
    ("posts", 1, "post_id", "", "missing value in a required column"),
    ("posts", 1, "caption", "x" * (TEXT_LIMIT + 1), "text of 20,001 characters exceeds 20,000"),
    ("comments", 0, "text", "x" * (TEXT_LIMIT + 1), "text of 20,001 characters exceeds 20,000"),
    ("posts", 0, "posted_at", pd.NaT, "missing value in a required column"),
    ("posts", 1, "post_id", "p1", "duplicate key creator_id 'a', post_id 'p1' (also in row 1)"),
]


@pytest.mark.parametrize(("table", "index", "column", "cell", "problem"), ARROW_BAD_CELLS)
def test_bad_cells_in_arrow_typed_frames(table, index, column, cell, problem):
    frames = arrow_frames()
    frames[table].loc[index, column] = cell
    assert frames[table][column].dtype == arrow_frames()[table][column].dtype  # still typed
    data = load(frames)
    creator = frames[table]["creator_id"].iloc[index]
    row = data.errors[data.errors["table"] == table]
    assert row[["row", "column", "creator_id"]].values.tolist()[-1] == [index + 1, column, creator]
    assert row["problem"].iloc[-1].startswith(problem)
    assert list(data.unscorable) == [creator]
    assert creator not in set(data.creators["creator_id"])


def test_unknown_creators_among_runs_of_child_rows():
    frames = arrow_frames()
    history = pd.DataFrame(
        {
            "creator_id": ["a", "ghost", "ghost", "a", None, "b", "b", "nobody"],
            "date": [dt.date(2024, 6, d) for d in range(1, 9)],
            "followers": np.arange(8, dtype="int64") * 10,
        }
    )
    frames["follower_history"] = history
    data = load(frames)
    got = data.errors[["row", "column", "creator_id", "problem"]].values.tolist()
    assert got == [
        [2, "creator_id", "ghost", "unknown creator 'ghost' (not in creators)"],
        [3, "creator_id", "ghost", "unknown creator 'ghost' (not in creators)"],
        [5, "creator_id", None, "missing value in a required column"],
        [8, "creator_id", "nobody", "unknown creator 'nobody' (not in creators)"],
    ]
    assert data.unscorable == {}  # rows of no known creator blame nobody
    assert data.follower_history["creator_id"].tolist() == ["a", "a", "b", "b"]
    assert data.follower_history["followers"].tolist() == [0.0, 30.0, 50.0, 60.0]


@pytest.mark.parametrize("longest", [TEXT_LIMIT, TEXT_LIMIT + 1])
def test_quick_text_length_check_with_and_without_the_c_loop(monkeypatch, longest):
    from features import dataset

    frame, _ = dataset._validate_table(
        "posts", arrow_frames()["posts"].assign(caption=["é" * longest, None, "ok"]), "posts"
    )
    fast = dataset._passes("posts", frame)
    monkeypatch.setattr(dataset, "_max_len_string_array", None)
    assert dataset._passes("posts", frame) == fast == (longest <= TEXT_LIMIT)


# ----------------------------------------------------------------- arrays instead of Series
# Coercion hands the loaded arrays to the quick schema check directly; these pin that shortcut
# to the frame it stands for, and the copies the loader promises.


def _loaded_arrays(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {
        c: frame[c].array
        if isinstance(frame[c].dtype, pd.api.extensions.ExtensionDtype)
        else frame[c].to_numpy()
        for c in frame.columns
    }


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.one_of(st.none(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False)),
            st.sampled_from([None, "instagram", "TikTok", "myspace"]),
            st.sampled_from([None, "us", "DE", "d1"]),
            st.sampled_from([None, True, False, "maybe"]),
            st.sampled_from([None, "2024-06-01", "2024-13-01", "2024-06-01T10:00:00Z"]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_quick_check_on_the_arrays_equals_the_check_on_the_frame(rows):
    from features import dataset

    cols = ["creator_id", "followers", "platform", "country", "is_verified", "created_at"]
    raw = pd.DataFrame(rows, columns=cols).astype(object)
    frame, _ = dataset._validate_table("creators", raw, "table creators")
    arrays = _loaded_arrays(frame)
    assert dataset._passes("creators", frame, columns=arrays) == dataset._passes("creators", frame)


def test_quick_check_on_the_arrays_still_reads_the_frame_dtypes():
    from features import dataset

    frame, _ = dataset._validate_table("creators", good_tables()["creators"], "creators")
    arrays = _loaded_arrays(frame)
    assert dataset._passes("creators", frame, columns=arrays)
    # Arrays as loaded but a frame holding another dtype (as pandas' string inference would
    # give): the frame is what is returned, so the check fails and pandera decides.
    other = frame.assign(handle=frame["handle"].astype("string"))
    assert not dataset._passes("creators", other, columns=arrays)
    assert not dataset._passes("creators", other)


def test_numpy_typed_columns_load_like_their_text_spellings():
    import pyarrow

    tables = good_tables()
    creators = tables["creators"].assign(
        followers=np.array([1200, 56000, 900], dtype="int64"),
        following=np.array([300.0, np.nan, 50.0]),
        is_verified=np.array([True, False, True]),
    )
    texts = creators.assign(
        followers=["1200", "56000", "900"],
        following=["300", None, "50.0"],
        is_verified=["true", "no", "1"],
    )
    typed = load({"creators": creators})
    spelled = load({"creators": texts})
    assert_frame_equal(typed.creators, spelled.creators)
    assert typed.creators["followers"].dtype == "float64"
    assert typed.creators["is_verified"].dtype == "boolean"
    assert typed.creators["is_verified"].tolist() == [True, False, True]
    # Extension dtypes with gaps take pandas' own route to the same values.
    ext = creators.assign(
        following=pd.array([300, None, 50], dtype="Int64"),
        is_verified=pd.array([True, False, True], dtype="boolean"),
    )
    assert_frame_equal(load({"creators": ext}).creators, spelled.creators)
    arrow = creators.assign(
        is_verified=pd.array([True, False, True], dtype=pd.ArrowDtype(pyarrow.bool_()))
    )
    assert_frame_equal(load({"creators": arrow}).creators, spelled.creators)


def test_loaded_counts_and_bools_are_copies_of_the_input():
    tables = good_tables()
    creators = tables["creators"].assign(
        followers=np.array([1200.0, 56000.0, 900.0]),
        posts_count=np.array([40, 12, 7]),
        is_verified=np.array([True, False, True]),
    )
    data = load({"creators": creators})
    data.creators.loc[0, "followers"] = -1.0
    data.creators.loc[0, "posts_count"] = -1.0
    data.creators.loc[0, "is_verified"] = False
    assert creators["followers"].tolist() == [1200.0, 56000.0, 900.0]
    assert creators["posts_count"].tolist() == [40, 12, 7]
    assert creators["is_verified"].tolist() == [True, False, True]


def test_changing_one_result_leaves_the_next_load_alone():
    tables = good_tables()
    first = load(tables)
    assert first.errors.empty
    first.errors.loc[0] = ["creators", 1, "followers", "a", "edited by the caller"]
    again = load(tables)
    assert again.errors.empty and list(again.errors.columns) == list(first.errors.columns)
    assert again.errors["row"].dtype == "int64"
    assert again.unscorable == {}


@pytest.mark.parametrize("n", [20, 400])
def test_iso_text_dates_load_like_datetimes_with_or_without_the_plain_parse(n):
    days = pd.date_range("2024-01-01", periods=n, freq="D")
    creators = pd.DataFrame({"creator_id": ["a"], "followers": [10]})
    typed = pd.DataFrame({"creator_id": "a", "date": days, "followers": np.arange(n)})
    text = typed.assign(date=days.strftime("%Y-%m-%d").to_numpy(dtype=object))
    want = load({"creators": creators, "follower_history": typed})
    got = load({"creators": creators, "follower_history": text})
    assert_frame_equal(got.follower_history, want.follower_history)
    bad = text.copy()
    bad.loc[n - 3, "date"] = "2024-02-30"
    found = load({"creators": creators, "follower_history": bad}).errors
    assert found[["row", "column"]].values.tolist() == [[n - 2, "date"]]
    assert found["problem"].iloc[0] == "not an ISO 8601 date '2024-02-30'"


def test_concat_of_batches_is_the_batches_one_after_the_other():
    tables = good_tables()
    tables["posts"].loc[0, "likes"] = -1  # creator a unscorable in the first batch
    tables = {k: t for k, t in tables.items() if "creator_id" in t}
    first = load({k: t[t["creator_id"].isin(["a", "b"])] for k, t in tables.items()})
    second = load({k: t[t["creator_id"] == "c"] for k, t in tables.items() if k != "comments"})
    both = CreatorData.concat([first, second])
    assert both.creator_ids == ["a", "b", "c"]
    assert both.unscorable.keys() == {"a"} and both.error_for("a") == first.error_for("a")
    assert len(both.errors) == 1
    for name in ("creators", "follower_history", "posts", "audience_sample"):
        want = pd.concat([getattr(first, name), getattr(second, name)], ignore_index=True)
        assert_frame_equal(getattr(both, name), want)
    # A table one batch lacks holds the other's rows; one every batch lacks stays absent.
    assert_frame_equal(both.comments, first.comments.reset_index(drop=True))
    assert CreatorData.concat([second, second]).comments is None
    assert both.brands is None


def _plain_iso_cell(v: object) -> bool:
    """The quick parse's rule for one cell, written out cell by cell."""
    if v is None:
        return True
    if not isinstance(v, str):
        return False
    shape = re.fullmatch(
        r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?", v, re.ASCII
    )
    return shape is not None and 1678 <= int(v[:4]) <= 2261


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(
        st.sampled_from(
            [
                None,
                "2020-01-01",
                "2020-02-03T04:05",
                "2020-02-03T04:05:06.123456789",
                "1677-12-31",
                "1678-01-01",
                "2261-12-31T23:59",
                "2262-01-01",
                "0999-01-01",
                "2020-01-01\n2020-01-02",
                "2020-01-01\n",
                "2020-01-01 10:00",
                "2020-01-01T10",
                "2020-01-01Z",
                "",
                "x",
                3.5,
            ]
        ),
        max_size=6,
    )
)
def test_joined_quick_iso_check_matches_the_check_cell_by_cell(cells):
    # The quick parse matches all cells in one regex call over their newline-joined text.
    from features.dataset import _plain_iso

    arr = np.array(cells, dtype=object)
    got = _plain_iso(arr)
    if all(_plain_iso_cell(v) for v in cells):
        try:
            expected = np.array(arr, dtype="datetime64[ns]")
        except ValueError:  # an impossible date: left to the general path
            expected = None
    else:
        expected = None
    if expected is None:
        assert got is None
    else:
        np.testing.assert_array_equal(got, expected)


def test_two_dates_in_one_cell_are_a_row_error_not_two_cells():
    creators = pd.DataFrame(
        {
            "creator_id": ["a", "b"],
            "followers": [1, 2],
            "created_at": ["2020-01-01\n2020-01-02", "2020-01-03"],
        }
    )
    data = load({"creators": creators})
    assert data.errors["problem"].tolist() == ["not an ISO 8601 date '2020-01-01\\n2020-01-02'"]
    assert data.creators["created_at"].tolist() == [pd.Timestamp("2020-01-03")]


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.sampled_from(["a", "b", "c", None]), max_size=12),
    known=st.lists(st.sampled_from(["a", "b", "x"]), unique=True, max_size=3),
)
def test_id_lookup_by_runs_and_set_matches_pandas_isin(values, known):
    from features.dataset import _few, _isin_runs

    cells = np.array(values, dtype=object)
    expected = pd.Index(cells, dtype=object).isin(known)
    index = pd.Index(known, dtype=object)
    np.testing.assert_array_equal(_isin_runs(cells, index, _few(known)), expected)
    np.testing.assert_array_equal(_isin_runs(cells, index), expected)


# --------------------------------------------------------------------------------------------
# Arrow tables to pandas: text columns split by how repetitive they are, same frame as pyarrow's.


def _assert_same_frame(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert_frame_equal(got, expected, check_exact=True)
    assert list(got.dtypes) == list(expected.dtypes)  # extension and datetime units too
    assert isinstance(got.index, pd.RangeIndex) and got.index.equals(expected.index)


def mixed_arrow_table(n: int, seed: int = 7):
    """An Arrow table of ``n`` rows with every contract type, gaps, and both kinds of text."""
    import pyarrow as pa_

    rng = np.random.default_rng(seed)
    gaps = rng.random(n) < 0.1
    distinct = [f"follower-{i}-{rng.integers(10**9)}" for i in range(n)]
    for i in range(0, n - 1, 20):  # a few repeats: mostly, not wholly, distinct
        distinct[i + 1] = distinct[i]
    return pa_.table(
        {
            "creator_id": [f"c{i // 80}" for i in range(n)],  # runs of a creator's rows
            "follower_id": distinct,
            "media_type": pa_.array(rng.choice(["image", "video", None], n).tolist()),
            "followers": pa_.array(rng.integers(0, 10**6, n).tolist(), pa_.int64()),
            "views": pa_.array(np.where(gaps, None, rng.integers(0, 99, n)).tolist(), pa_.int64()),
            "share": pa_.array(rng.random(n)),
            "is_private": pa_.array(rng.random(n) < 0.5),
            "has_url": pa_.array(np.where(gaps, None, rng.random(n) < 0.5).tolist(), pa_.bool_()),
            "date": pa_.array(
                [
                    None if g else dt.date(2024, 1, 1) + dt.timedelta(int(d))
                    for g, d in zip(gaps, rng.integers(0, 900, n), strict=True)
                ],
                pa_.date32(),
            ),
            "posted_at": pa_.array(
                (np.datetime64("2024-01-01", "ns") + rng.integers(0, 10**15, n)).tolist(),
                pa_.timestamp("ns"),
            ),
            "kind": pa_.array(rng.choice(["a", "b"], n).tolist()).dictionary_encode(),
        }
    )


@pytest.mark.parametrize("n", [0, 5, 5_000])
def test_arrow_frame_equals_pyarrows_conversion(n):
    from features.dataset import arrow_frame

    table = mixed_arrow_table(n)
    expected = table.to_pandas(date_as_object=False)
    got = arrow_frame(table)
    _assert_same_frame(got, expected)
    _assert_same_frame(arrow_frame(table.combine_chunks().to_batches()[0]) if n else got, expected)
    if n == 5_000:
        # The repetitive column shares one str per value; the mostly distinct one was converted
        # without that look-up, so its repeated cells are separate (equal) objects.
        ids, followers = got["creator_id"].to_numpy(), got["follower_id"].to_numpy()
        assert ids[0] is ids[1]
        assert followers[0] == followers[1] and followers[0] is not followers[1]


def test_arrow_frame_keeps_pandas_metadata_as_pyarrow_reads_it():
    import pyarrow as pa_

    from features.dataset import arrow_frame

    n = 5_000
    base = mixed_arrow_table(n).to_pandas(date_as_object=False)
    extended = base.assign(
        views=base["views"].astype("Int64"), has_url=base["has_url"].astype("boolean")
    )
    # Extension dtypes are rebuilt from the pandas metadata, by either part of the table.
    tables = [pa_.Table.from_pandas(extended, preserve_index=False)]
    # A stored index and labels that are not text come back as pyarrow gives them.
    tables.append(pa_.Table.from_pandas(extended.set_index("creator_id")))
    tables.append(pa_.Table.from_pandas(extended.set_axis(range(extended.shape[1]), axis=1)))
    shifted = extended.copy()
    shifted.index = pd.RangeIndex(10, 10 + n)
    tables.append(pa_.Table.from_pandas(shifted))
    for table in tables:
        expected = table.to_pandas(date_as_object=False)
        got = arrow_frame(table)
        assert_frame_equal(got, expected, check_exact=True)
        assert list(got.dtypes) == list(expected.dtypes)
        assert got.index.equals(expected.index) and got.columns.identical(expected.columns)


def test_arrow_frame_keeps_zoned_times_and_dates_beyond_nanoseconds():
    import pyarrow as pa_

    from features.dataset import arrow_frame

    n = 5_000
    table = (
        mixed_arrow_table(n)
        .append_column(
            "seen_at",
            pa_.array([dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)] * n, pa_.timestamp("us", "UTC")),
        )
        .append_column(
            "far",
            pa_.array(
                [dt.date(2300, 1, 1), None, dt.date(1600, 5, 1)] * (n // 3) + [None] * (n % 3),
                pa_.date32(),
            ),
        )
    )
    expected = table.to_pandas(date_as_object=False)
    got = arrow_frame(table)
    _assert_same_frame(got, expected)
    assert str(got["seen_at"].dtype) == "datetime64[us, UTC]"
    assert got["far"].iloc[0] == pd.Timestamp("2300-01-01")


def test_text_columns_are_judged_by_runs_of_neighbours_and_cells_far_apart():
    import pyarrow as pa_

    from features.dataset import _mostly_distinct

    n = 10_000
    assert _mostly_distinct(pa_.chunked_array([[f"x{i}" for i in range(n)]]))
    # Each value in a run of 80 neighbours (a creator's rows): repetitive, though a sample of
    # single cells far apart would see every one distinct.
    assert not _mostly_distinct(pa_.array([f"c{i // 80}" for i in range(n)]))
    # Few values spread over the whole column.
    assert not _mostly_distinct(pa_.array([f"t{i % 300}" for i in range(n)]))
    # Chunks and gaps.
    cells = [None if i % 3 == 0 else f"x{i}" for i in range(n)]
    assert not _mostly_distinct(pa_.chunked_array([cells[:4000], cells[4000:]]))
    assert _mostly_distinct(pa_.chunked_array([cells[1::3][:2000], cells[2::3]]))


@pytest.mark.parametrize("gap", [None, np.nan, 7])
def test_long_text_columns_with_gaps_load_like_short_ones(gap):
    rng = np.random.default_rng(3)
    n = 1_200  # long enough for the quick look at None gaps; its pieces are not
    cells = np.array([f"bio {i}" for i in range(n)], dtype=object)
    cells[rng.random(n) < 0.2] = None
    cells[rng.random(n) < 0.05] = ""
    cells[5] = gap
    creators = pd.DataFrame(
        {"creator_id": [f"c{i}" for i in range(n)], "followers": 1, "bio": cells}
    )
    whole = load({"creators": creators})
    pieces = CreatorData.concat(
        [load({"creators": creators.iloc[i : i + 100]}) for i in range(0, n, 100)]
    )
    assert_frame_equal(whole.creators, pieces.creators)
    assert whole.errors.empty and pieces.errors.empty
    bio = whole.creators["bio"].to_numpy()
    expected = [None if v is None or v == "" or v is np.nan else v for v in cells]
    expected[5] = "7" if gap == 7 else None
    assert bio.tolist() == expected


@pytest.mark.parametrize("unit", ["ms", "s", "D"])
def test_typed_dates_of_other_units_load_as_their_days(unit):
    # Midnights, times of day, NaT and days beyond the nanosecond range, long and short.
    ticks = np.array(
        [0, 1, -1, 86_399, 10**6, -(10**6), 3 * 10**8, np.iinfo(np.int64).min], dtype=np.int64
    )
    scaled = np.where(ticks == ticks[-1], ticks, ticks * 86_400) if unit == "D" else ticks
    days = scaled.view(f"datetime64[{unit}]")  # the last cell NaT
    for cells in (days, np.tile(days[:-1], 80)):
        n = len(cells)
        history = pd.DataFrame({"creator_id": ["a"] * n, "date": cells, "followers": np.arange(n)})
        data = load(
            {
                "creators": pd.DataFrame({"creator_id": ["a"], "followers": [1]}),
                "follower_history": history,
            }
        )
        inside = (cells >= np.datetime64("1678-01-01")) & (cells < np.datetime64("2262-01-01"))
        expected = cells[inside].astype("datetime64[D]").astype("datetime64[ns]")
        got = data.follower_history["date"].to_numpy() if len(data.follower_history) else None
        if data.unscorable:  # a bad date makes the only creator unscorable
            assert not inside.all()
            assert set(data.errors["row"]) == set(np.flatnonzero(~inside) + 1)
        else:
            np.testing.assert_array_equal(got, expected)


def test_pandera_on_suspect_rows_finds_what_it_finds_on_the_whole_table(monkeypatch):
    import features.dataset as ds

    rng = np.random.default_rng(11)
    n = 1_500
    ids = np.array([f"c{i}" for i in range(n)], dtype=object)
    followers = rng.integers(0, 10**6, n).astype(float)
    followers[[3, 40]] = [-7, 2.5]
    followers[41] = -1.5  # two rules fail on one cell: the first problem is kept
    ids[[50, 51, 52]] = "c7"  # a creator id held four times
    ids[60] = None
    creators = pd.DataFrame(
        {
            "creator_id": ids,
            "followers": followers,
            "platform": np.where(np.arange(n) == 70, "myspace", "instagram"),
            "country": np.where(np.arange(n) == 80, "usa", "US"),
            "bio": ["x" * (TEXT_LIMIT + 1) if i == 90 else f"bio {i}" for i in range(n)],
        }
    )
    m = 3_000
    posts = pd.DataFrame(
        {
            "creator_id": [f"c{i // 2}" for i in range(m)],
            "post_id": [f"p{i}" for i in range(m)],
            "posted_at": pd.Timestamp("2024-06-01"),
            "likes": rng.integers(0, 500, m).astype(float),
            "comments": 1.0,
        }
    )
    posts.loc[[200, 201], "post_id"] = "p200"  # one creator's post twice
    posts.loc[[400, 401], "post_id"] = None  # missing, not duplicate
    posts.loc[[600, 2600], "post_id"] = "p600"  # same post id, other creators: fine
    posts.loc[900, "likes"] = np.nan

    tables = {"creators": creators, "posts": posts}
    got = load(tables)
    monkeypatch.setattr(ds, "_WHOLE_SCHEMA_MAX", 10**9)
    whole = load(tables)
    assert_frame_equal(got.errors, whole.errors)
    assert got.unscorable == whole.unscorable and got.creator_ids == whole.creator_ids
    assert_frame_equal(got.creators, whole.creators)
    assert_frame_equal(got.posts, whole.posts)
    found = set(zip(got.errors["table"], got.errors["row"], got.errors["column"], strict=True))
    assert {
        ("creators", 4, "followers"),
        ("creators", 41, "followers"),
        ("creators", 42, "followers"),
        ("creators", 8, "creator_id"),
        ("creators", 61, "creator_id"),
        ("creators", 71, "platform"),
        ("creators", 81, "country"),
        ("creators", 91, "bio"),
        ("posts", 201, "post_id"),
        ("posts", 202, "post_id"),
        ("posts", 401, "post_id"),
        ("posts", 901, "likes"),
    } <= found
    assert ("posts", 601, "post_id") not in found
    assert len(got.creators) < n and got.posts["creator_id"].isin(got.unscorable).sum() == 0


# Arrow tables: the loader reads what Arrow knows of text columns (missing cells, "" cells, byte
# lengths) instead of scanning the cells, and must load exactly what the cells say.


def _text_table(cells: list[str | None], large: bool, pieces: int) -> pa_arrow.ChunkedArray:
    """``cells`` as an Arrow text column cut into ``pieces`` chunks that are slices (offsets)."""
    kind = pa_arrow.large_string() if large else pa_arrow.string()
    whole = pa_arrow.array(["pad", *cells, "pad"], kind)
    bounds = np.linspace(1, len(cells) + 1, pieces + 1).astype(int)
    return pa_arrow.chunked_array(
        [whole.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:], strict=True)], kind
    )


def _arrow_creators(bios, handles, ids, large=False, pieces=1) -> pa_arrow.Table:
    n = len(bios)
    return pa_arrow.table(
        {
            "creator_id": _text_table(ids, large, pieces),
            "handle": _text_table(handles, large, pieces),
            "followers": pa_arrow.array(np.arange(n) + 10),
            "bio": _text_table(bios, large, pieces),
            "created_at": pa_arrow.array([dt.date(2020, 1, 1)] * n, pa_arrow.date32()),
        }
    )


def assert_arrow_loads_like_its_frame(tables: dict[str, pa_arrow.Table]) -> CreatorData:
    from features.dataset import arrow_frame

    got = load(tables)
    assert_same_data(got, load({name: arrow_frame(t) for name, t in tables.items()}))
    return got


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("pieces", [1, 3])
def test_arrow_tables_load_exactly_like_their_frames(large, pieces):
    wide = "é" * TEXT_LIMIT  # 20,000 characters in 40,000 bytes: within the limit
    bios = [
        wide,
        "",
        None,
        "x" * (TEXT_LIMIT + 1),
        "runner",
        "ünïcode",
        "",
        "bio",
    ] * 160  # over _WHOLE_SCHEMA_MAX
    handles = [None] * len(bios)  # a text column with nothing in it
    ids = [f"c{i}" for i in range(len(bios))]
    ids[5], ids[9] = "", None  # missing ids: row errors
    ids[7] = "c3"  # a repeated id
    creators = _arrow_creators(bios, handles, ids, large, pieces)
    posts = pa_arrow.table(
        {
            "creator_id": pa_arrow.array(["c0", "c1", "c1", "zz"]),
            "post_id": pa_arrow.array(["p0", "p1", "", "p2"]),
            "posted_at": pa_arrow.array(
                [dt.datetime(2024, 1, d) for d in (1, 2, 3, 4)], pa_arrow.timestamp("us")
            ),
            "likes": pa_arrow.array([1, 2, 3, 4]),
            "comments": pa_arrow.array([0, 1, 0, 1]),
            "caption": pa_arrow.array([None, "", "a" * (TEXT_LIMIT + 1), "fine"]),
        }
    )
    got = assert_arrow_loads_like_its_frame({"creators": creators, "posts": posts})
    problems = set(zip(got.errors["table"], got.errors["row"], got.errors["column"], strict=True))
    assert ("creators", 4, "bio") in problems and ("creators", 1, "bio") not in problems
    assert ("creators", 6, "creator_id") in problems and ("posts", 2, "post_id") not in problems
    assert ("posts", 3, "post_id") in problems and ("posts", 3, "caption") in problems
    assert got.creators["bio"].iloc[0] == wide and got.creators["handle"].isna().all()
    assert got.creators["bio"].iloc[1] is None  # "" is missing


def test_arrow_tables_without_rows_or_with_only_missing_text_load_like_frames():
    empty = _arrow_creators([], [], [])
    assert len(assert_arrow_loads_like_its_frame({"creators": empty}).creators) == 0
    gaps = _arrow_creators([None, None], [None, None], ["a", "b"])
    assert assert_arrow_loads_like_its_frame({"creators": gaps}).creators["bio"].isna().all()
    # Text where a number belongs: the facts give the kind, the parse stays the same.
    odd = _arrow_creators(["x", "y"], ["h", "i"], ["a", "b"]).set_column(
        2, "followers", pa_arrow.array(["12", "many"])
    )
    got = assert_arrow_loads_like_its_frame({"creators": odd})
    assert got.errors[["row", "column"]].values.tolist() == [[2, "followers"]]


def test_a_table_that_is_neither_frame_nor_arrow_is_refused():
    with pytest.raises(ContractError, match="creators must be a pandas DataFrame or a pyarrow"):
        load({"creators": [{"creator_id": "a"}]})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["", "x" * (TEXT_LIMIT + 1)]), st.text(max_size=8)),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
    st.integers(1, 3),
)
def test_any_arrow_text_loads_like_its_frame(bios, large, pieces):
    ids = [f"c{i}" for i in range(len(bios))]
    pieces = min(pieces, len(bios))
    assert_arrow_loads_like_its_frame(
        {"creators": _arrow_creators(bios, list(reversed(bios)), ids, large, pieces)}
    )
