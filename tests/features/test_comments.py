"""Tests for the comment-quality builder."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from features import comments as comments_module
from features.comments import FEATURES, _factorize_with, classify_texts, comment_features

T = pd.Timestamp
NAT = pd.NaT
AS_OF = T("2024-05-10")


def _creators(ids=("C", "A", "B")) -> pd.DataFrame:
    return pd.DataFrame({"creator_id": list(ids), "followers": [1e3] * len(ids)})


def _as_of(ids=("C", "A", "B")) -> pd.Series:
    return pd.Series(AS_OF, index=pd.Index(list(ids), name="creator_id"))


def _posts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "creator_id": ["A", "A", "A", "B"],
            "post_id": ["p1", "p2", "p3", "q1"],
            "posted_at": [
                T("2024-05-01 10:00"),
                T("2024-05-02 10:00"),
                T("2024-05-03 10:00"),
                T("2024-05-01 00:00"),
            ],
            "likes": [10.0, 20.0, 30.0, 5.0],
            "comments": [2.0, 2.0, 2.0, 7.0],
        }
    )


def _comments() -> pd.DataFrame:
    rows = [
        # creator A: 3 posts, commenter u1 on all three
        ("A", "p1", "Nice pic!", "u1", T("2024-05-01 10:30")),  # first hour
        ("A", "p1", "nice pic!", "u2", T("2024-05-01 12:00")),  # same text, later
        ("A", "p2", "🔥🔥", "u1", T("2024-05-02 10:05")),  # first hour
        ("A", "p2", "Where was this taken?", "u3", T("2024-05-02 09:00")),  # before the post
        ("A", "p3", "@bob", "u1", NAT),
        ("A", "p3", "Love the light in this one", "u4", T("2024-05-03 10:59:59")),
        # creator B: 1 post, no comment times
        ("B", "q1", "follow back pls", "v1", NAT),
        ("B", "q1", "Qué bonito!!", "v1", NAT),
        ("B", "q1", "Sehr schön 👏", "v2", NAT),
        ("B", "q1", "Очень красиво!", "v3", NAT),
        ("B", "q1", "...", "v4", NAT),
        ("B", "q1", "I made this recipe yesterday", "v5", NAT),
        ("B", "q1", "ما شاء الله", "v6", NAT),
        # not a creator of this batch
        ("Z", "z1", "wow", "w1", NAT),
    ]
    return pd.DataFrame(
        rows, columns=["creator_id", "post_id", "text", "commenter_id", "created_at"]
    )


def test_comment_features_by_hand():
    out = comment_features(_comments(), _posts(), _creators(), _as_of())
    assert list(out.index) == ["C", "A", "B"] and out.index.name == "creator_id"
    assert list(out.columns) == [f.name for f in FEATURES]
    assert (out.dtypes == "float64").all()
    assert out.loc["C"].isna().all()  # no comments sampled: unknown, not zero

    a = out.loc["A"]
    assert a["cmt_n"] == 6 and a["cmt_per_post"] == 2
    # generic: the two "nice pic!"; emoji-only: 🔥🔥; mention-only: @bob
    assert a["cmt_low_effort_share"] == pytest.approx(4 / 6)
    assert a["cmt_generic_share"] == pytest.approx(2 / 6)
    assert a["cmt_emoji_only_share"] == pytest.approx(1 / 6)
    assert a["cmt_mention_only_share"] == pytest.approx(1 / 6)
    assert a["cmt_spam_share"] == 0
    assert a["cmt_duplicate_share"] == pytest.approx(2 / 6)  # case is ignored
    assert a["cmt_top5_commenter_share"] == 1.0  # 4 commenters
    assert a["cmt_repeat_commenter_share"] == pytest.approx(1 / 4)  # u1 on p1, p2, p3
    # lengths 9, 9, 2, 21, 4, 26
    assert a["cmt_len_mean"] == pytest.approx(71 / 6)
    assert a["cmt_len_median"] == 9
    # timed and not before the post: 10:30 after 10:00 (yes), +2h (no), +5min (yes),
    # +59:59 (yes); the comment before its post and the untimed one are unknown
    assert a["cmt_first_hour_share"] == pytest.approx(3 / 4)

    b = out.loc["B"]
    assert b["cmt_n"] == 7 and b["cmt_per_post"] == 7
    # spam: follow back; generic: Spanish, German, Russian, Arabic; punctuation: "..."
    assert b["cmt_low_effort_share"] == pytest.approx(6 / 7)
    assert b["cmt_generic_share"] == pytest.approx(4 / 7)
    assert b["cmt_spam_share"] == pytest.approx(1 / 7)
    assert b["cmt_emoji_only_share"] == 0 and b["cmt_duplicate_share"] == 0
    assert b["cmt_top5_commenter_share"] == pytest.approx(6 / 7)  # v1 twice + 4 singles
    assert np.isnan(b["cmt_repeat_commenter_share"])  # one post: nobody can be on three
    # lengths 15, 12, 12, 14, 3, 28, 11
    assert b["cmt_len_mean"] == pytest.approx(95 / 7)
    assert b["cmt_len_median"] == 12
    assert np.isnan(b["cmt_first_hour_share"])  # no comment times


def _future_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    later_post = pd.DataFrame(
        {
            "creator_id": ["A"],
            "post_id": ["p9"],
            "posted_at": [T("2024-05-11 00:00")],
            "likes": [1.0],
            "comments": [1.0],
        }
    )
    later_comments = pd.DataFrame(
        [
            ("A", "p1", "wow", "u9", T("2024-05-11 00:00")),  # the day after as_of
            ("B", "q1", "wow", "v1", T("2024-06-01 08:00")),
            ("A", "p9", "wow", "u1", NAT),  # untimed, on a post after as_of
            ("C", "r1", "first!", "x1", T("2024-05-12 00:00")),
        ],
        columns=["creator_id", "post_id", "text", "commenter_id", "created_at"],
    )
    return later_post, later_comments


def test_rows_after_as_of_change_nothing():
    before = comment_features(_comments(), _posts(), _creators(), _as_of())
    later_post, later_comments = _future_rows()
    after = comment_features(
        pd.concat([_comments(), later_comments], ignore_index=True),
        pd.concat([_posts(), later_post], ignore_index=True),
        _creators(),
        _as_of(),
    )
    assert_frame_equal(before, after)
    # ...while a comment on the as_of day itself counts.
    same_day = later_comments.assign(created_at=T("2024-05-10 23:59"))[:1]
    counted = comment_features(pd.concat([_comments(), same_day]), _posts(), _creators(), _as_of())
    assert counted.loc["A", "cmt_n"] == 7


def test_missing_as_of_means_no_cut():
    later_post, later_comments = _future_rows()
    comments = pd.concat([_comments(), later_comments], ignore_index=True)
    posts = pd.concat([_posts(), later_post], ignore_index=True)
    out = comment_features(comments, posts, _creators(), _as_of().drop("B"))
    assert out.loc["B", "cmt_n"] == 8 and out.loc["A", "cmt_n"] == 6


def test_missing_table_and_columns_give_nan_not_zero():
    full = comment_features(_comments(), _posts(), _creators(), _as_of())
    none = comment_features(None, _posts(), _creators(), _as_of())
    assert none.isna().all().all() and list(none.index) == ["C", "A", "B"]

    no_who = comment_features(
        _comments().drop(columns="commenter_id"), _posts(), _creators(), _as_of()
    )
    who = ["cmt_top5_commenter_share", "cmt_repeat_commenter_share"]
    assert no_who[who].isna().all().all()
    assert_frame_equal(no_who.drop(columns=who), full.drop(columns=who))

    for comments, posts in [
        (_comments().drop(columns="created_at"), _posts()),
        (_comments(), None),
    ]:
        untimed = comment_features(comments, posts, _creators(), _as_of())
        assert untimed["cmt_first_hour_share"].isna().all()
        assert untimed.loc["A", "cmt_n"] == 6

    no_text = comment_features(_comments().drop(columns="text"), _posts(), _creators(), _as_of())
    text_cols = [
        c
        for c in full.columns
        if c.startswith(("cmt_len", "cmt_dup"))
        or c.endswith(("effort_share", "generic_share", "only_share", "spam_share"))
    ]
    assert len(text_cols) == 8
    assert no_text[text_cols].isna().all().all()
    assert no_text.loc["A", "cmt_n"] == 6

    # A None text is unknown for the text shares but still a sampled comment.
    holes = _comments()
    holes.loc[holes["text"] == "@bob", "text"] = None
    partial = comment_features(holes, _posts(), _creators(), _as_of())
    assert partial.loc["A", "cmt_n"] == 6
    assert partial.loc["A", "cmt_mention_only_share"] == 0
    assert partial.loc["A", "cmt_generic_share"] == pytest.approx(2 / 5)


def _synthetic(rng, n_creators: int) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    ids = [f"c{i:03d}" for i in range(n_creators)]
    post_c = np.repeat(ids, 4)
    post_id = np.tile(["a", "b", "c", "d"], n_creators)
    posted = T("2024-04-01") + pd.to_timedelta(rng.integers(0, 60 * 24, post_c.size), "min") * 30
    posts = pd.DataFrame({"creator_id": post_c, "post_id": post_id, "posted_at": posted})
    m = 40 * n_creators
    pick = rng.integers(0, post_c.size, m)
    texts = np.array(
        [
            "wow",
            "Nice pic",
            "🔥",
            "@amy",
            "where is this?",
            "great light here",
            "follow back",
            "...",
            None,
        ],
        dtype=object,
    )
    comments = pd.DataFrame(
        {
            "creator_id": post_c[pick],
            "post_id": post_id[pick],
            "text": texts[rng.integers(0, texts.size, m)],
            "commenter_id": np.where(
                rng.random(m) < 0.1, None, rng.integers(0, 12, m).astype(str).astype(object)
            ),
            "created_at": posted[pick] + pd.to_timedelta(rng.exponential(90, m), "min"),
        }
    )
    return comments, posts, ids


def test_chunks_of_creators_give_the_same_rows():
    comments, posts, ids = _synthetic(np.random.default_rng(3), 30)
    ids = ids + ["silent"]
    whole = comment_features(comments, posts, _creators(ids), _as_of(ids))
    parts = []
    for chunk in (ids[:7], ids[7:19], ids[19:]):
        parts.append(
            comment_features(
                comments[comments["creator_id"].isin(chunk)],
                posts[posts["creator_id"].isin(chunk)],
                _creators(chunk),
                _as_of(chunk),
            )
        )
    assert_frame_equal(whole, pd.concat(parts))
    assert whole.drop(index="silent").notna().all().all()
    assert whole.loc["silent"].isna().all()


def test_row_order_does_not_matter():
    comments, posts, ids = _synthetic(np.random.default_rng(4), 12)
    shuffled = comments.sample(frac=1.0, random_state=1)
    assert_frame_equal(
        comment_features(comments, posts, _creators(ids), _as_of(ids)),
        comment_features(shuffled, posts.iloc[::-1], _creators(ids), _as_of(ids)),
    )


# fmt: off
GENERIC = [
    "Nice pic!!", "WOOOW 😍", "great", "Love it ❤️", "Amazing!!!", "you are so beautiful",
    "que linda foto 😍", "Qué bonito!!", "Muito lindaaa", "me encanta",  # es, pt
    "Trop beau ❤️", "J'adore !", "Sehr schön 👏", "Wunderschön!",  # fr, de
    "Bellissima foto", "çok güzel", "keren banget kak",  # it, tr, id
    "Очень красиво!", "Класс 🔥", "ما شاء الله", "बहुत सुंदर", "bahut badhiya",  # ru, ar, hi
    "@anna wow",  # a generic word with a tag is still generic
]
NOT_LOW_EFFORT = [
    "Where did you buy that jacket?", "I went there last summer, the food was great",
    "this is so true", "Love this so much, saving the recipe", "10/10 would eat again",
    "Wie viel kostet das?", "¿Dónde está este lugar?", "Каким объективом снимали?",
    "C'est où exactement ?",
]
# fmt: on


@pytest.mark.parametrize("text", GENERIC)
def test_generic_praise_in_several_languages(text):
    c = classify_texts(pd.Series([text]))
    assert c.loc[0, "generic"] == 1 and c.loc[0, "low_effort"] == 1


@pytest.mark.parametrize("text", NOT_LOW_EFFORT)
def test_real_remarks_are_not_low_effort(text):
    c = classify_texts(pd.Series([text]))
    assert c.loc[0, "low_effort"] == 0


@pytest.mark.parametrize(
    "text, kind",
    [
        ("🔥🔥🔥", "emoji_only"),
        ("❤️", "emoji_only"),
        ("👍🏽", "emoji_only"),
        ("🇧🇷🇧🇷!!", "emoji_only"),
        ("👨‍👩‍👧", "emoji_only"),
        ("★★★★★", "emoji_only"),
        ("@anna_b @bob.c", "mention_only"),
        ("@ana 😂", "mention_only"),
        ("...", "punct_only"),
        ("!!!", "punct_only"),
        ("  ", "punct_only"),
        ("follow back pls", "spam"),
        ("Check your DM!", "spam"),
        ("f4f?", "spam"),
        ("Sígueme y te sigo", "spam"),
        ("Folge mir bitte", "spam"),
        ("Send pic to @promo_page", "spam"),
        ("Подпишись на меня", "spam"),
    ],
)
def test_emoji_mention_punctuation_and_spam(text, kind):
    c = classify_texts(pd.Series([text])).iloc[0]
    assert c[kind] == 1 and c["low_effort"] == 1
    others = {"emoji_only", "mention_only", "punct_only"} - {kind}
    assert all(c[o] == 0 for o in others)


def test_none_text_is_unknown():
    c = classify_texts(pd.Series(["wow", None], index=[3, 9]))
    assert list(c.index) == [3, 9]
    assert c.loc[9].drop("norm").isna().all() and c.loc[9, "norm"] is None
    assert c.loc[3, "norm"] == "wow"


@pytest.mark.parametrize(
    "values",
    [
        ["p1", "p1", "p2", "p2", "p2", None, None, "p9", "p1"],  # runs: heads only are hashed
        ["p2", "p1", "p2", "p1"],  # no runs worth using: every row is hashed
        [],
    ],
)
def test_post_ids_coded_by_runs_as_one_factorisation(values):
    # The codes and uniques of pd.factorize over the posts' ids followed by the comments' ids.
    first = np.array(["p9", "p2", None], dtype=object)
    values = np.array(values, dtype=object)
    codes, uniques = pd.factorize(np.concatenate([first, values]), use_na_sentinel=True)
    got_first, got_uniques, got_rest = _factorize_with(first, values)
    assert got_first.tolist() == codes[: len(first)].tolist()
    assert got_rest.tolist() == codes[len(first) :].tolist()
    assert list(got_uniques) == list(uniques)
    rest_only = _factorize_with(None, values)[2]
    assert rest_only.tolist() == pd.factorize(values, use_na_sentinel=True)[0].tolist()


def test_commenter_pairs_by_hand_and_both_ways_agree():
    # Creator 0: commenter 1 on posts 5, 5, 6 and commenter 0 on post 5; creator 2: commenter
    # 1 on post 7. Packed keys and the pair-by-pair fallback (codes too wide to pack force it)
    # give the same pairs, in (creator, commenter) order.
    cc = np.array([0, 0, 2, 0, 0])
    cw = np.array([1, 1, 1, 0, 1])
    cp = np.array([5, 6, 7, 5, 5])
    per_c, k, posts_of = comments_module._commenter_pairs(cc, cw, cp)
    assert per_c.tolist() == [0, 0, 2]
    assert k.tolist() == [1, 3, 1]
    assert posts_of.tolist() == [1, 2, 1]
    rng = np.random.default_rng(5)
    cc = np.sort(rng.integers(0, 30, 400))
    cw, cp = rng.integers(0, 40, 400), rng.integers(0, 9, 400)
    wide = 2**50
    fast = comments_module._commenter_pairs(cc, cw, cp)
    slow = comments_module._commenter_pairs(cc + wide, cw, cp)
    assert (slow[0] - wide).tolist() == fast[0].tolist()
    assert slow[1].tolist() == fast[1].tolist() and slow[2].tolist() == fast[2].tolist()


def test_a_missing_post_id_is_one_post_of_its_own():
    # Comments whose post id is missing count as one more post of their creator.
    comments = pd.DataFrame(
        {
            "creator_id": ["A"] * 4,
            "post_id": ["p1", None, None, "p1"],
            "text": ["nice", "great", "wow", "ok"],
            "commenter_id": ["u1", "u1", "u2", "u1"],
        }
    )
    out = comment_features(comments, None, _creators(("A",)), _as_of(("A",)))
    assert out.loc["A", "cmt_per_post"] == 2.0  # 4 comments on p1 and on the unknown post


@pytest.mark.parametrize("shared", [True, False])
def test_texts_factorised_by_object_as_by_value(shared):
    # Repeated texts as one object (as loaded tables hold them) or as equal distinct objects,
    # with None and NaN: the codes and uniques of pd.factorize.
    rng = np.random.default_rng(3)
    words = ["wow", "nice pic", "where is this?", None, np.nan]
    # More rows than _FEW_TEXTS, so the objects are told apart by address.
    picks = rng.integers(0, len(words), 2 * comments_module._FEW_TEXTS)
    cells = [
        words[i] if shared or words[i] is None else "".join(list(str(words[i]))) for i in picks
    ]
    values = np.array(cells, dtype=object)
    values[::7] = np.nan if shared else None
    codes, uniques = comments_module._factorize_texts(values)
    expected_codes, expected_uniques = pd.factorize(values)
    assert codes.tolist() == expected_codes.tolist()
    assert list(uniques) == list(expected_uniques)


@pytest.mark.parametrize("pattern", comments_module.SPAM_PATTERNS)
@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=st.data())
def test_every_spam_match_holds_a_needle(pattern, data):
    # Few texts are searched for spam only where a needle occurs: every match must hold one.
    text = data.draw(st.from_regex(pattern))
    if comments_module._SPAM.search(text):
        assert comments_module._holding_needle([" ".join(text.split())])[0], text


def test_few_and_many_texts_are_classified_alike():
    # Up to _FEW_TEXTS texts go through Python's regexes, more through Arrow's kernels.
    texts = [
        "Wooow 😍😍", "🔥🔥", "@anna", "@anna 🔥!", "que linda foto!", "Where?", "...", "",
        "follow me back", "FOLLOW\u2003ME", "check my bio", "dm me", "DM\u00a0us now",
        "promotion on my page", "collab?", "sígueme", "folge mir", "подпишись", "f4f",
        "follower", "texting", "a real remark about the light", "nice_pic", "wow\u3000nice",
        None, "ok 👍🏽", "© 2024", "@x.y", "good job!!!", "Nice   pic",
    ]  # fmt: skip
    many = texts * (comments_module._FEW_TEXTS // len(texts) + 1)
    assert len(many) > comments_module._FEW_TEXTS
    few = classify_texts(pd.Series(texts, dtype=object))
    assert few.loc[8, "spam"] == 1.0 and few.loc[19, "spam"] == 0.0
    assert few.loc[1, "emoji_only"] == 1.0 and few.loc[2, "mention_only"] == 1.0
    alike = classify_texts(pd.Series(many, dtype=object)).iloc[: len(texts)]
    assert_frame_equal(alike, few)


def test_every_whitespace_character_is_not_words():
    # Words are worked out token by token only because whitespace is never part of a word.
    spaces = [chr(i) for i in range(0x110000) if chr(i).isspace()]
    assert len(spaces) > 20
    for ch in spaces:
        assert re.fullmatch(comments_module._NOT_WORDS, ch), hex(ord(ch))


# Letters that repeat, mention and underscore pieces, emoji, combining marks and several kinds of
# whitespace: everything that decides where words start, end and squeeze.
_WORD_CHARS = st.sampled_from(
    list("aabcoow_.@!?'-é")
    + ["\u0301", "\u093e", "\u0645", "\u0627", "😍", "🔥", "\ufe0f", "\u200d", "👍🏽"]
    + [" ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\x1c", "\x85"]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(texts=st.lists(st.lists(_WORD_CHARS, max_size=14).map("".join), max_size=12))
def test_words_by_token_equal_words_by_text(texts):
    norm = [" ".join(t.split()) for t in texts]
    # what the pandas string methods give, text by text
    expected = comments_module._words(pd.Series(texts, dtype=object)).tolist() if texts else []
    assert comments_module._words_by_token(norm) == expected


def test_words_by_token_by_hand():
    norm = ["wooow nice!! pic 😍", "@anna.b  hi", "", "...", "so_cool @x"]
    norm = [" ".join(t.split()) for t in norm]
    assert comments_module._words_by_token(norm) == ["wow nice pic", "hi", "", "", "so col"]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 5)), max_size=40),
    size=st.integers(5, 7),
)
def test_duplicated_per_creator_counts_each_duplicated_row(pairs, size):
    codes = np.array([c for c, _ in pairs], dtype="int64")
    values = np.array([v for _, v in pairs], dtype="int64")
    expected = np.zeros(size)
    for c, v in pairs:  # a row counts when its (creator, value) pair occurs more than once
        expected[c] += 1.0 if pairs.count((c, v)) > 1 else 0.0
    got = comments_module._duplicated_per_creator(codes, values, size)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)


# Cells a comment table's id and text columns can hold: repeated str, None, NaN and pd.NA.
_CELLS = st.sampled_from(["a", "b", "wow", "wow ", "é", "", None, np.nan, pd.NA])


@settings(max_examples=200, deadline=None, derandomize=True)
@given(cells=st.lists(_CELLS, max_size=40), many=st.booleans())
def test_factorize_is_pandas_factorize(cells, many):
    # Few str cells are coded with a dict, the rest by pandas: the same codes and uniques.
    if many:  # past the dict's limit
        cells = cells * (comments_module._DICT_CELLS // max(len(cells), 1) + 1)
    values = np.array(cells, dtype=object)
    codes, uniques = comments_module._factorize(values)
    expected_codes, expected_uniques = pd.factorize(values)
    assert codes.dtype == np.int64 and codes.tolist() == expected_codes.tolist()
    assert uniques.dtype == object and list(uniques) == list(expected_uniques)


def test_factorize_by_hand():
    codes, uniques = comments_module._factorize(np.array(["u2", None, "u1", "u2"], dtype=object))
    assert codes.tolist() == [0, -1, 1, 0] and uniques.tolist() == ["u2", "u1"]
    codes, uniques = comments_module._factorize(np.array([], dtype=object))
    assert codes.tolist() == [] and len(uniques) == 0


def test_holding_needle_by_hand():
    # Needles at the start and end of the joined texts, across no boundary, in blank texts.
    norm = ["follow", "", "a dm", "d m", "nice", "check", "textile", "fol low"]
    got = comments_module._holding_needle(norm)
    assert got.tolist() == [True, False, True, False, False, True, True, False]
    assert comments_module._holding_needle([]).tolist() == []
    assert not any(ch.isspace() for n in comments_module._SPAM_NEEDLES for ch in n)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    rows=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40)), max_size=50),
    wide=st.booleans(),
)
def test_median_by_is_the_median_of_each_creator(rows, wide):
    # Lengths per creator code; ``wide`` values too large to pack with the code (multiples of
    # 256 above 2**60, so that float64 holds them exactly).
    size = 6
    offset, step = (2**60, 256) if wide else (0, 1)
    codes = np.array([c for c, _ in rows], dtype="int64")
    values = np.array([offset + v * step for _, v in rows], dtype="float64")
    counts = np.bincount(codes, minlength=size)
    got = comments_module._median_by(codes, values, counts)
    expected = [np.median(values[codes == c]) if counts[c] else np.nan for c in range(size)]
    np.testing.assert_array_equal(got, np.array(expected))
