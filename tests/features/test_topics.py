"""Tests for the niche topic model and topic features (features/topics.py)."""

from __future__ import annotations

import json
import unicodedata

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from pandas.testing import assert_frame_equal
from sklearn.exceptions import NotFittedError
from sklearn.metrics import normalized_mutual_info_score
from sklearn.utils.estimator_checks import parametrize_with_checks

import features.topics as topics
from features._series import creator_codes
from features.topics import (
    FEATURES,
    MAX_CAPTIONS,
    TopicModel,
    _cutoffs,
    _joined_shares,
    _lower_table,
    _nnls,
    _pieces,
    _prepare,
    _runs,
    _summed_weights,
    _tokens,
    creator_documents,
    topic_features,
)

DAY = pd.Timestamp("2024-06-01")

# Three niches a person can check by eye: fitness (English), cooking (English), Chinese food.
FITNESS = [
    "leg day at the gym #fitness #workout",
    "protein shake after my workout #gym",
    "squats and deadlifts today #fitness",
    "morning cardio then gym #workout",
]
COOKING = [
    "homemade pasta recipe for dinner #food",
    "baking sourdough bread #recipe",
    "easy dinner recipe with pasta #cooking",
    "dessert recipe baking cake #food",
]
CHINESE_FOOD = [
    "今天做了红烧肉 美食 #美食",
    "家常菜 红烧肉 米饭 #美食",
    "美食分享 饺子 红烧肉",
    "周末包饺子 家常菜 美食",
]


def tiny_model(**kw) -> TopicModel:
    return TopicModel(n_topics=3, min_df=2, max_df=0.6, **kw).fit(FITNESS + COOKING + CHINESE_FOOD)


# Synthetic multilingual niche corpus: niche words (en, es, de, zh) mixed with filler words.
NICHES = {
    "fitness": (
        "workout gym squats protein cardio reps",
        "gimnasio proteína sentadillas",
        "fitnessstudio eiweiß kniebeugen",
        "健身 蛋白粉 深蹲",
        "fitness gym",
    ),
    "beauty": (
        "skincare makeup serum lipstick mascara",
        "maquillaje labial rímel",
        "hautpflege lippenstift schminke",
        "护肤 口红 化妆",
        "beauty makeup",
    ),
    "fashion": (
        "outfit streetwear denim sneakers dress",
        "moda vestido zapatillas",
        "mode kleid turnschuhe",
        "穿搭 时尚 球鞋",
        "fashion ootd",
    ),
    "travel": (
        "beach flight passport island roadtrip",
        "viaje playa pasaporte",
        "reise strand reisepass",
        "旅行 海滩 护照",
        "travel wanderlust",
    ),
    "food": (
        "recipe pasta baking dessert dinner",
        "receta cocina postre",
        "rezept kochen nachtisch",
        "美食 食谱 烘焙",
        "food recipe",
    ),
    "gaming": (
        "gameplay stream console esports controller",
        "videojuegos consola partida",
        "zocken konsole spieler",
        "游戏 直播 电竞",
        "gaming gamer",
    ),
    "tech": (
        "smartphone laptop unboxing gadget battery",
        "tecnología móvil portátil",
        "technik handy akku",
        "科技 手机 开箱",
        "tech gadgets",
    ),
    "parenting": (
        "toddler newborn bedtime nursery kids",
        "bebé niños maternidad",
        "baby kinder mama",
        "宝宝 育儿 孩子",
        "momlife parenting",
    ),
    "finance": (
        "investing stocks budget savings dividends",
        "inversión ahorro acciones",
        "investieren sparen aktien",
        "理财 投资 股票",
        "finance investing",
    ),
    "music": (
        "guitar concert vinyl playlist album",
        "música guitarra concierto",
        "musik gitarre konzert",
        "音乐 吉他 专辑",
        "music newmusic",
    ),
    "pets": (
        "puppy kitten dog cat adoption",
        "perro gato cachorro",
        "hund katze welpe",
        "宠物 狗狗 猫咪",
        "pets dogsofinstagram",
    ),
    "outdoor": (
        "camping trail summit kayak tent",
        "acampada senderismo montaña",
        "zelten wandern gipfel",
        "露营 徒步 登山",
        "outdoors hiking",
    ),
}
FILLER = (
    "the and my today so love this new day",
    "el la de hoy muy con para mi",
    "der die und heute sehr mit für",
    "今天 我们 一起 喜欢 分享",
)


def niche_corpus(n_creators: int, n_captions: int, seed: int):
    """creators, posts, as_of and true niche of a synthetic 4-language creator population."""
    rng = np.random.default_rng(seed)
    niche = rng.integers(0, len(NICHES), n_creators)
    lang = rng.choice(4, n_creators, p=[0.55, 0.15, 0.15, 0.15])
    table = list(NICHES.values())
    ids = [f"c{i:04d}" for i in range(n_creators)]
    rows = []
    for i in range(n_creators):
        words = table[niche[i]][lang[i]].split()
        filler = FILLER[lang[i]].split()
        tags = table[niche[i]][4].split()
        for j in range(n_captions):
            body = [
                words[rng.integers(len(words))]
                if rng.random() < 0.35
                else filler[rng.integers(len(filler))]
                for _ in range(15)
            ]
            text = ("" if lang[i] == 3 else " ").join(body)
            text += " #" + tags[rng.integers(len(tags))] + " @friend" + str(rng.integers(99))
            rows.append(
                (ids[i], f"p{j}", DAY - pd.Timedelta(hours=int(rng.integers(1, 5000))), text)
            )
    posts = pd.DataFrame(rows, columns=["creator_id", "post_id", "posted_at", "caption"])
    creators = pd.DataFrame({"creator_id": ids, "bio": [None] * n_creators})
    as_of = pd.Series(DAY, index=pd.Index(ids, name="creator_id"))
    return creators, posts, as_of, niche


def tables(captions: dict[str, list[str]], bios: dict[str, str | None] | None = None):
    """creators / posts / as_of for creators with the given captions, posted before DAY."""
    ids = list(captions)
    bios = bios or {}
    creators = pd.DataFrame({"creator_id": ids, "bio": [bios.get(c) for c in ids]})
    rows = [
        (cid, f"{cid}-{j}", DAY - pd.Timedelta(hours=j + 1), text)
        for cid, texts in captions.items()
        for j, text in enumerate(texts)
    ]
    posts = pd.DataFrame(rows, columns=["creator_id", "post_id", "posted_at", "caption"])
    posts["posted_at"] = posts["posted_at"].astype("datetime64[ns]")
    as_of = pd.Series(DAY, index=pd.Index(ids, name="creator_id"))
    return creators, posts, as_of


# -- hand-checkable corpora ---------------------------------------------------------------


def test_three_niches_get_three_dominant_topics():
    model = tiny_model()
    dominant = np.argmax(model.transform(FITNESS + COOKING + CHINESE_FOOD), axis=1)
    groups = [set(dominant[0:4]), set(dominant[4:8]), set(dominant[8:12])]
    assert all(len(g) == 1 for g in groups)
    assert len(set.union(*groups)) == 3


def test_rows_are_shares_and_empty_text_is_nan():
    shares = tiny_model().transform(["gym workout", "", None, "zzz qqq"])
    assert_allclose(shares[0].sum(), 1.0)
    assert (shares[0] >= 0).all()
    assert np.isnan(shares[1:]).all()


def test_chinese_only_document_gets_a_vector():
    model = tiny_model()
    shares = model.transform(["红烧肉家常菜"])
    assert not np.isnan(shares).any()
    chinese_topic = np.argmax(model.transform(CHINESE_FOOD).sum(axis=0))
    assert np.argmax(shares[0]) == chinese_topic


def test_brief_lands_on_fitness():
    model = tiny_model()
    creators = model.transform(FITNESS + COOKING + CHINESE_FOOD)
    brief = model.transform_brief("protein shakes for gym lovers")
    nearest = np.argsort(-(creators @ brief[0]))[:4]
    assert sorted(nearest.tolist()) == [0, 1, 2, 3]


def test_topic_labels_name_the_niche_terms():
    model = tiny_model()
    fitness_topic = np.argmax(model.transform(FITNESS).sum(axis=0))
    label = model.topic_labels_[fitness_topic].split(" / ")
    assert len(label) == 3
    assert set(label) <= {"gym", "workout", "fitness", "protein", "squats", "cardio", "leg"}


def test_hashtag_words_weigh_more_and_mentions_are_dropped():
    model = tiny_model(hashtag_weight=5.0)
    plain = model.transform(["gym pasta"])[0]
    tagged = model.transform(["#gym pasta"])[0]
    fitness_topic = np.argmax(model.transform(FITNESS).sum(axis=0))
    assert tagged[fitness_topic] > plain[fitness_topic]
    assert np.isnan(model.transform(["@gym @pasta"])).all()


def test_synthetic_niches_are_recovered():
    creators, posts, as_of, niche = niche_corpus(360, 12, seed=1)
    docs = creator_documents(creators, posts, as_of)
    model = TopicModel().fit(docs.to_numpy())
    test_creators, test_posts, test_as_of, test_niche = niche_corpus(240, 12, seed=2)
    feats = topic_features(test_creators, test_posts, test_as_of, model)
    dominant = feats["topic_dominant"].to_numpy().astype(int)
    # Purity: each topic votes for its majority niche.
    purity = sum(np.bincount(test_niche[dominant == k]).max() for k in np.unique(dominant))
    assert purity / len(dominant) > 0.6
    assert normalized_mutual_info_score(test_niche, dominant) > 0.6
    brief = model.transform_brief("protein shakes for gym lovers")[0]
    shares = feats.filter(regex=r"^topic_\d\d$").to_numpy()
    nearest = np.argsort(-(shares @ brief))[:10]
    assert (test_niche[nearest] == list(NICHES).index("fitness")).mean() >= 0.8


# -- estimator contract ---------------------------------------------------------------------

# The generic checks fit on numeric 2-d arrays; a text model rejects those by design.
NUMERIC_INPUT = "fits on a numeric 2-d array; TopicModel takes a 1-d sequence of text"


def _expected_failures(estimator) -> dict[str, str]:
    return {
        name: NUMERIC_INPUT
        for name in (
            "check_fit_score_takes_y",
            "check_estimators_overwrite_params",
            "check_dont_overwrite_parameters",
            "check_estimators_fit_returns_self",
            "check_readonly_memmap_input",
            "check_n_features_in_after_fitting",
            "check_positive_only_tag_during_fit",
        )
    }


@parametrize_with_checks(
    [TopicModel(n_topics=2)], legacy=False, expected_failed_checks=_expected_failures
)
def test_sklearn_api_checks(estimator, check):
    check(estimator)


def test_text_versions_of_the_numeric_checks():
    model = TopicModel(n_topics=3, min_df=2, max_df=0.6)
    params = model.get_params()
    with pytest.raises(NotFittedError):
        model.transform(["gym"])
    assert model.fit(FITNESS + COOKING + CHINESE_FOOD) is model
    assert model.get_params() == params
    with pytest.raises(TypeError):
        model.transform("a single string is not a list of documents")


def test_fit_is_deterministic():
    a, b = tiny_model(), tiny_model()
    assert_array_equal(a.components_, b.components_)
    assert a.terms_ == b.terms_


# -- files ----------------------------------------------------------------------------------


def test_save_load_round_trip_is_exact(tmp_path):
    model = tiny_model()
    checksums = model.save(tmp_path)
    assert set(checksums) == {"topics.json", "topics_idf.npy", "topics_components.npy"}
    loaded = TopicModel.load(tmp_path, checksums)
    docs = FITNESS + COOKING + CHINESE_FOOD + ["protein shakes for gym lovers", "红烧肉"]
    assert_array_equal(loaded.transform(docs), model.transform(docs))
    assert loaded.topic_labels_ == model.topic_labels_
    assert loaded.get_params() == model.get_params()


@pytest.mark.parametrize("name", ["topics_components.npy", "topics_idf.npy", "topics.json"])
def test_tampered_file_is_refused(tmp_path, name):
    checksums = tiny_model().save(tmp_path)
    path = tmp_path / name
    data = bytearray(path.read_bytes())
    data[-2] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"{name}: SHA-256 mismatch"):
        TopicModel.load(tmp_path, checksums)


def test_pickled_array_is_refused_even_without_checksums(tmp_path):
    tiny_model().save(tmp_path)
    np.save(tmp_path / "topics_idf.npy", np.array([object()]), allow_pickle=True)
    with pytest.raises(ValueError, match="topics_idf.npy"):
        TopicModel.load(tmp_path)


def test_wrong_json_is_refused(tmp_path):
    checksums = tiny_model().save(tmp_path)
    meta = json.loads((tmp_path / "topics.json").read_text(encoding="utf-8"))
    meta["terms"] = meta["terms"][:-1]
    (tmp_path / "topics.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="topics_idf.npy: expected"):
        TopicModel.load(tmp_path)
    with pytest.raises(ValueError, match="topics.json: SHA-256 mismatch"):
        TopicModel.load(tmp_path, checksums)


# -- documents and features -----------------------------------------------------------------


def test_documents_keep_bio_and_newest_captions_first():
    creators, posts, as_of = tables(
        {"a": ["newest", "older", "oldest"], "b": []}, bios={"a": "coach", "b": None}
    )
    docs = creator_documents(creators, posts, as_of, max_captions=2)
    assert docs.to_dict() == {"a": "coach\nnewest\nolder", "b": ""}


def test_long_captions_keep_their_start_and_end():
    creators, posts, as_of = tables({"a": ["start " + "x" * 500 + " #gym"]})
    doc = creator_documents(creators, posts, as_of, max_caption_chars=20)["a"]
    assert doc.startswith("start ") and doc.endswith(" #gym") and len(doc) == 21


def test_feature_columns_match_the_catalog():
    creators, posts, as_of = tables({"a": FITNESS, "b": COOKING, "c": []})
    feats = topic_features(creators, posts, as_of, None)
    assert list(feats.columns) == [f.name for f in FEATURES]
    assert (feats.dtypes == np.float64).all()
    assert list(feats.index) == ["a", "b", "c"]
    assert feats.filter(like="topic_").drop(columns="topic_text_chars").isna().all().all()
    assert feats.loc["c", "topic_text_chars"] == 0


def test_features_with_a_model():
    model = tiny_model()
    creators, posts, as_of = tables({"fit": FITNESS, "cook": COOKING, "zh": CHINESE_FOOD, "x": []})
    feats = topic_features(creators, posts, as_of, model)
    assert feats.shape[1] == 3 + 3
    shares = feats[["topic_00", "topic_01", "topic_02"]]
    assert_allclose(shares.iloc[:3].sum(axis=1), 1.0)
    assert feats.loc[["fit", "cook", "zh"], "topic_dominant"].nunique() == 3
    assert feats.loc["x"].drop("topic_text_chars").isna().all()
    concentration = feats["topic_concentration"].iloc[:3]
    assert ((concentration > 0) & (concentration <= 1)).all()
    one_topic = topic_features(*tables({"p": ["gym gym"]}), model)
    assert one_topic.loc["p", "topic_concentration"] == pytest.approx(1.0)


def test_no_creators_gives_an_empty_frame_even_with_posts():
    # Posts of creators not in the table: none is used, and there is no cut-off to look up.
    _, posts, _ = tables({"gone": FITNESS})
    creators = pd.DataFrame({"creator_id": pd.Series([], dtype=object), "bio": []}, dtype=object)
    as_of = pd.Series([], dtype="datetime64[ns]", index=pd.Index([], name="creator_id"))
    for model in (tiny_model(), None):
        feats = topic_features(creators, posts, as_of, model)
        assert feats.shape == (0, (3 if model else topics.N_TOPICS) + 3)
        assert (feats.dtypes == np.float64).all()


POSTS_TEXT = st.sampled_from(FITNESS + COOKING + CHINESE_FOOD + ["", "@someone", "#fitness"])


@settings(max_examples=25, deadline=None)
@given(
    captions=st.lists(st.lists(POSTS_TEXT, max_size=4), min_size=1, max_size=6),
    late=st.lists(POSTS_TEXT, min_size=1, max_size=4),
    split=st.integers(0, 6),
)
def test_future_posts_change_nothing_and_chunks_agree(captions, late, split):
    model = _MODEL
    data = {f"c{i}": texts for i, texts in enumerate(captions)}
    creators, posts, as_of = tables(data)
    before = topic_features(creators, posts, as_of, model)
    future = pd.DataFrame(
        {
            "creator_id": "c0",
            "post_id": [f"late{j}" for j in range(len(late))],
            "posted_at": DAY + pd.Timedelta(days=1, hours=1),
            "caption": late,
        }
    )
    after = topic_features(creators, pd.concat([future, posts], ignore_index=True), as_of, model)
    assert_frame_equal(before, after)
    # Any split of whole creators gives the same rows (rows of a chunk shuffled as well).
    ids = creators["creator_id"].tolist()
    parts = []
    for chunk in (ids[:split], ids[split:]):
        if chunk:
            sub_posts = posts[posts["creator_id"].isin(chunk)].iloc[::-1]
            sub = creators[creators["creator_id"].isin(chunk)]
            parts.append(topic_features(sub, sub_posts, as_of, model))
    assert_frame_equal(pd.concat(parts), before, check_exact=False, rtol=1e-12, atol=1e-14)


_MODEL = tiny_model()


def test_no_pickle_in_saved_files(tmp_path):
    tiny_model().save(tmp_path)
    for path in tmp_path.glob("*.npy"):
        arr = np.load(path, allow_pickle=False)
        assert arr.dtype == np.float64


def test_captions_posted_at_one_time_are_chosen_by_post_id_in_any_row_order():
    # 14 captions at the same instant, more than MAX_CAPTIONS: the post ids decide which 12
    # are used and their order, whatever the row order; a record separator in a text (the
    # character the documents are joined with) becomes a space and splits nothing.
    at = DAY - pd.Timedelta(hours=1)
    rows = [("a", f"p{j:02d}", at, f"cap{j:02d}") for j in range(14)]
    rows.append(("b", "q", at, "solo"))
    posts = pd.DataFrame(rows, columns=["creator_id", "post_id", "posted_at", "caption"])
    creators = pd.DataFrame({"creator_id": ["a", "b"], "bio": [None, "x\x1ey"]})
    as_of = pd.Series(DAY, index=pd.Index(["a", "b"], name="creator_id"))
    docs = creator_documents(creators, posts, as_of)
    assert docs["a"].split("\n") == [f"cap{j:02d}" for j in range(MAX_CAPTIONS)]
    assert docs["b"] == "x y\nsolo"
    for seed in range(3):
        shuffled = posts.sample(frac=1.0, random_state=seed)
        assert creator_documents(creators, shuffled, as_of).equals(docs)


def _reference_nnls(xht: np.ndarray, gram: np.ndarray, sweeps: int) -> np.ndarray:
    """HALS with every sweep run and NumPy steps on the whole block: what _nnls must equal."""
    n, k = xht.shape
    w = np.zeros((n, k), order="F")
    xht = np.asfortranarray(xht)
    diag = np.diag(gram).copy()
    diag[diag <= 0] = 1.0
    for _ in range(sweeps):
        for t in range(k):
            step = (xht[:, t] - w @ gram[:, t]) / diag[t]
            w[:, t] = np.maximum(w[:, t] + step, 0.0)
    return w


def test_nnls_equals_every_sweep_run_to_the_last_bit():
    # Sparse random topics: most rows reach a fixed point or a two-sweep last-bit cycle within
    # 30 sweeps, and a few blocks do as well. Every sweep count (both parities of a cycle) must
    # give the bits of the full run, for one row (the scalar path) and for a block of rows.
    rng = np.random.default_rng(0)
    topics = rng.random((6, 40)) * (rng.random((6, 40)) < 0.4)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    gram = topics @ topics.T
    for _ in range(40):
        x = rng.random((1, 40)) * (rng.random((1, 40)) < 0.3)
        # One row, and a block of it, an all-zero row and it again (a block settles only when
        # all its rows do).
        for xx in (x, np.vstack([x[0], np.zeros(40), x[0]])):
            xht = xx @ topics.T
            for sweeps in (0, 1, 2, 7, 13, 29, 30, 31, 40):
                got, want = _nnls(xht, gram, sweeps), _reference_nnls(xht, gram, sweeps)
                assert got.shape == want.shape
                assert_array_equal(got.view(np.uint64), np.ascontiguousarray(want).view(np.uint64))


def test_one_creator_codes_match_the_lookup():
    ids = pd.Index(["a"], name="creator_id")
    values = pd.Series(["a", None, "b", np.nan, "a", 3], dtype=object)
    assert_array_equal(creator_codes(ids, values), [0, -1, -1, -1, 0, -1])
    with_na = pd.Series(["a", pd.NA, "a"], dtype=object)
    assert_array_equal(creator_codes(ids, with_na), [0, -1, 0])
    two = pd.Index(["b", "a"])
    assert_array_equal(creator_codes(two, values), two.get_indexer(values.to_numpy()))


def test_cutoffs_are_the_next_midnight_as_pandas_computes_it():
    ids = pd.Index(["a", "b", "c", "d"], name="creator_id")
    days = pd.to_datetime(
        ["2024-06-01 13:45", "1969-12-31 23:59:59.5", None, "1901-03-04"], format="ISO8601"
    )
    as_of = pd.Series(days, index=ids)
    want = pd.to_datetime(["2024-06-02", "1970-01-01", None, "1901-03-05"]).to_numpy()
    assert_array_equal(_cutoffs(ids, as_of), want)
    # Another order of the same creators, and a date-only object Series, take pandas' path.
    assert_array_equal(_cutoffs(ids[::-1], as_of), want[::-1])
    as_text = pd.Series(["2024-06-01", "1969-12-31", None, "1901-03-04"], index=ids)
    assert_array_equal(_cutoffs(ids, as_text), want)


def test_new_components_array_is_used_by_transform():
    model = tiny_model()
    docs = FITNESS + COOKING
    before = model.transform(docs)
    model.components_ = model.components_[::-1].copy()
    assert_array_equal(model.transform(docs), before[:, ::-1])


# -- the batch path: documents joined once, lower-cased through a table ----------------------

# Text where joining documents before NFKC and lower-casing could go wrong, were it not exact:
# capital sigma (final or not), a capital whose lower case is two code points, full-width
# forms, combining marks at the edges of a piece, a NUL, mentions inside hashtags, digits.
TRICKY = [
    "ΟΔΟΣ ΣΑΣ #ΟΔΟΣ Σ",
    "İstanbul #İzmir gym",
    "ＦＵＬＬ　ｗｉｄｔｈ ＃ｆｉｔｎｅｓｓ",
    "\u0301accent first",
    "cafe\u0301",
    "x\x00y gym",
    "@handle workout #fitness@someone #gym",
    "2024 99 gym4life",
    "Σ",
]
BATCH_TEXT = st.one_of(
    st.sampled_from(FITNESS + COOKING + CHINESE_FOOD + TRICKY + ["", "#fitness"]),
    st.text(max_size=12),
)


def _batch(captions: list[list[str]], bios: list[str | None]):
    data = {f"c{i}": texts for i, texts in enumerate(captions)}
    return tables(data, {f"c{i}": bio for i, bio in enumerate(bios)})


def _assert_batch_path_is_exact(creators, posts, as_of, model):
    """The joined path gives transform's shares of the documents, to the last bit."""
    ids, code, text, last = _pieces(creators, posts, as_of)
    docs = creator_documents(creators, posts, as_of)
    want = model.transform(docs.to_numpy())
    got = _joined_shares(model, len(ids), code, text, last)
    if got is None:
        # Only a record separator in the text sends a small batch back to the documents.
        assert any("\x1e" in t for t in text)
    else:
        assert got.shape == want.shape
        assert got.tobytes() == want.tobytes()
    feats = topic_features(creators, posts, as_of, model)
    assert feats[[f"topic_{k:02d}" for k in range(model.n_topics)]].to_numpy().tobytes() == (
        want.tobytes()
    )
    assert_array_equal(feats["topic_text_chars"].to_numpy(), docs.str.len().to_numpy(float))


@settings(max_examples=60, deadline=None)
@given(
    captions=st.lists(st.lists(BATCH_TEXT, max_size=4), min_size=2, max_size=6),
    bios=st.lists(st.one_of(st.none(), BATCH_TEXT), min_size=6, max_size=6),
)
def test_batch_path_equals_transform_of_the_documents(captions, bios):
    _assert_batch_path_is_exact(*_batch(captions, bios), _MODEL)


@pytest.mark.parametrize("max_chars", [1, 7, 40])
def test_batch_path_equals_transform_over_many_chunks(max_chars):
    # Small chunks for both paths: documents without text at a chunk's start and end, and
    # chunks with no text at all.
    rng = np.random.default_rng(3)
    pool = FITNESS + COOKING + CHINESE_FOOD + TRICKY + ["", "@x"]
    captions = [list(rng.choice(pool, size=rng.integers(0, 4))) for _ in range(30)]
    bios = [None if rng.random() < 0.5 else str(rng.choice(pool)) for _ in range(30)]
    bounds = topics._chunk_bounds
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(topics, "_chunk_bounds", lambda lens, _=0: bounds(lens, max_chars))
        _assert_batch_path_is_exact(*_batch(captions, bios), _MODEL)


def test_batch_path_with_hashtags_weighed_by_a_fraction():
    # Weights that are not whole numbers are summed by scipy, as transform does.
    model = tiny_model(hashtag_weight=2.3)
    captions = [FITNESS + ["#gym #gym gym"], COOKING, CHINESE_FOOD, []]
    _assert_batch_path_is_exact(*_batch(captions, [None, "#food #food", None, "x"]), model)


def test_lower_table_is_str_lower_of_each_code_point():
    table, special = _lower_table()
    low = [chr(c).lower() for c in range(0x110000)]
    single = [len(t) == 1 for t in low]
    assert all(low[c] == chr(c) for c in range(0x20000, 0x110000))
    expect = [ord(t) if one else c for c, (t, one) in enumerate(zip(low, single, strict=True))]
    assert_array_equal(table, np.array(expect, dtype=np.uint32))
    assert set(special) == {chr(c) for c, one in enumerate(single) if not one} | {"Σ"}
    # The separators between documents: unchanged by both steps.
    for sep in "\x1e\n":
        assert unicodedata.normalize("NFKC", sep) == sep.lower() == sep


def test_summed_weights_is_scipys_matrix():
    rng = np.random.default_rng(0)
    shape = (7, 11)
    row = rng.integers(0, 7, 300)
    col = rng.integers(-1, 11, 300)  # -1: a token outside the vocabulary
    weight = rng.choice([1.0, 3.0, 0.0, 255.0], 300)
    x = _summed_weights(row, col, weight, shape)
    known = col >= 0
    ref = sp.csr_matrix((weight[known], (row[known], col[known])), shape=shape)
    ref.sum_duplicates()
    assert x.shape == ref.shape and x.indices.dtype == ref.indices.dtype
    assert_array_equal(x.indptr, ref.indptr)
    assert_array_equal(x.indices, ref.indices)
    assert x.data.tobytes() == ref.data.tobytes()
    empty = _summed_weights(row, np.full(300, -1), weight, shape)
    assert empty.shape == shape and empty.nnz == 0
    for bad in (2.5, 256.0, -1.0, np.nan, np.inf):
        assert _summed_weights(row, col, np.where(weight == 3.0, bad, weight), shape) is None


def test_runs_lists_each_range_in_order():
    assert _runs(np.array([2, 7, 5]), np.array([4, 7, 7])).tolist() == [2, 3, 5, 6]
    assert _runs(np.array([1, 2]), np.array([4, 4])).tolist() == [1, 2, 3, 2, 3]
    assert _runs(np.array([3]), np.array([1])).tolist() == []


def test_mentions_are_dropped_alike_for_few_and_many_tokens():
    texts = _prepare(TRICKY + FITNESS + ["@a b #c@d e", "#x @y z", "@@ #@ gym"])
    few = _tokens(texts, 3.0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(topics, "_FEW_TOKENS", 0)
        many = _tokens(texts, 3.0)
    for a, b in zip(few[:5], many[:5], strict=True):
        assert a.dtype == b.dtype
        assert_array_equal(a, b)
