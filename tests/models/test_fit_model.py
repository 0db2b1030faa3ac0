import numpy as np
import pandas as pd
import pytest

from models import PAIR_FEATURES, ArtifactError, FitModel, pair_features, rank_within
from models.fit import affirmative_text, brand_topics, secondary_text, spread_topics

TOPICS = [f"topic_{k:02d}" for k in range(6)]


def _frame(rows, ids, name):
    return pd.DataFrame(rows, index=pd.Index(ids, name=name), columns=TOPICS, dtype="float64")


def test_pair_features_by_hand():
    brands = pd.DataFrame(
        {
            "brand_id": ["b1", "b2"],
            "target_countries": ["US; gb", None],
            "min_followers": [10_000.0, np.nan],
            "max_followers": [100_000.0, np.nan],
        }
    )
    creators = pd.DataFrame(
        {
            "creator_id": ["c1", "c2", "c3"],
            "followers": [20_000.0, 1_000.0, 1_000_000.0],
            "country": ["GB", "DE", None],
        }
    )
    feats = _frame(
        [[0.6, 0.3, 0.1, 0, 0, 0], [0, 0, 0, 0.5, 0.5, 0], [0.2, 0, 0, 0, 0, 0.8]],
        ["c1", "c2", "c3"],
        "creator_id",
    ).assign(
        eng_er_vs_expected=[1.2, 0.3, np.nan],
        topic_dominant=[0.0, 3.0, 5.0],
        aud_fake_share=[0.1, 0.7, np.nan],
        aud_mass_follower_share=[0.05, 0.2, 0.3],
    )
    brief = _frame([[0.6, 0.3, 0.1, 0, 0, 0], [0, 0, 0, 0, 0, 1.0]], ["b1", "b2"], "brand_id")
    excluded = _frame([[0, 0, 0, 0.1, 0.9, 0]], ["b1"], "brand_id")  # b2 excludes nothing
    risk = pd.Series([0.1, 0.9, 0.5], index=["c1", "c2", "c3"])

    out = pair_features(brands, creators, feats, brief, excluded, risk)
    assert list(out.columns) == ["brand_id", "creator_id", *PAIR_FEATURES]
    assert out[["brand_id", "creator_id"]].values.tolist() == [
        ["b1", "c1"],
        ["b1", "c2"],
        ["b1", "c3"],
        ["b2", "c1"],
        ["b2", "c2"],
        ["b2", "c3"],
    ]
    f = out.set_index(["brand_id", "creator_id"])
    assert f.loc[("b1", "c1"), "fit_topic_cosine"] == pytest.approx(1.0)
    assert f.loc[("b1", "c2"), "fit_topic_cosine"] == pytest.approx(0.0)
    assert f.loc[("b2", "c3"), "fit_topic_cosine"] == pytest.approx(0.8 / np.hypot(0.2, 0.8))
    assert f.loc[("b1", "c1"), "fit_top3_overlap"] == 3
    assert f.loc[("b2", "c3"), "fit_top3_overlap"] == 1
    # b1 excludes topic 4 only (topic 3 is under half the strongest weight); c2's top 3 has it.
    assert f.loc[("b1", "c2"), "fit_excluded_hits"] == 1
    assert f.loc[("b1", "c2"), "fit_excluded_share"] == pytest.approx(0.5)
    assert f.loc[("b1", "c1"), "fit_excluded_hits"] == 0
    assert np.isnan(f.loc[("b2", "c2"), "fit_excluded_hits"])
    assert f.loc[("b1", "c1"), "fit_country_match"] == 1
    assert f.loc[("b1", "c2"), "fit_country_match"] == 0
    assert np.isnan(f.loc[("b1", "c3"), "fit_country_match"])  # creator country unknown
    assert np.isnan(f.loc[("b2", "c1"), "fit_country_match"])  # brand targets nowhere
    assert f.loc[("b1", "c1"), ["fit_in_size_window", "fit_size_log_distance"]].tolist() == [1, 0]
    assert f.loc[("b1", "c2"), "fit_size_log_distance"] == pytest.approx(-1.0)
    assert f.loc[("b1", "c3"), "fit_size_log_distance"] == pytest.approx(1.0)
    assert np.isnan(f.loc[("b2", "c1"), "fit_in_size_window"])
    assert f.loc[("b1", "c2"), "fit_eng_quality"] == 0.3
    assert f.loc[("b2", "c2"), "fit_fraud_risk"] == 0.9
    # Share of c1 on b1's main topic (0); b2's weight on c3's main topic (5); share dot product.
    assert f.loc[("b1", "c1"), "fit_brief_topic_share"] == pytest.approx(0.6)
    assert f.loc[("b1", "c2"), "fit_brief_topic_share"] == pytest.approx(0.0)
    assert f.loc[("b2", "c3"), "fit_creator_topic_in_brief"] == pytest.approx(1.0)
    assert f.loc[("b2", "c1"), "fit_creator_topic_in_brief"] == pytest.approx(0.0)
    assert f.loc[("b1", "c1"), "fit_topic_dot"] == pytest.approx(0.36 + 0.09 + 0.01)
    assert f.loc[("b1", "c2"), "fit_aud_fake_share"] == 0.7
    assert np.isnan(f.loc[("b1", "c3"), "fit_aud_fake_share"])
    assert f.loc[("b2", "c3"), "fit_aud_mass_share"] == 0.3
    # Without related_topic_* columns no brief names a secondary interest.
    assert out["fit_related_share"].isna().all()

    some = pd.DataFrame({"brand_id": ["b2", "b1"], "creator_id": ["c3", "c2"]}, index=[7, 9])
    sub = pair_features(brands, creators, feats, brief, excluded, risk, pairs=some)
    assert sub.index.tolist() == [7, 9]
    pd.testing.assert_frame_equal(
        sub.reset_index(drop=True),
        out.iloc[[5, 1]].reset_index(drop=True),
    )
    with pytest.raises(KeyError, match="c9"):
        pair_features(brands, creators, feats, brief, pairs=some.assign(creator_id="c9"))


def test_related_share_reads_the_secondary_interest_columns():
    brands = pd.DataFrame({"brand_id": ["b1", "b2"]})
    creators = pd.DataFrame({"creator_id": ["c1", "c2"], "followers": [1_000.0, 2_000.0]})
    feats = _frame([[0.6, 0.3, 0.1, 0, 0, 0], [0, 0, 0, 0.5, 0.5, 0]], ["c1", "c2"], "creator_id")
    brief = _frame([[1.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1.0]], ["b1", "b2"], "brand_id")
    # b1 also wants topics 3 and 4 (topic 1 is under half the strongest weight); b2 names none.
    related = pd.DataFrame(
        [[0, 0.1, 0, 0.5, 0.4, 0], [np.nan] * 6], index=brief.index, columns=TOPICS
    ).add_prefix("related_")
    out = pair_features(brands, creators, feats, pd.concat([brief, related], axis=1))
    f = out.set_index(["brand_id", "creator_id"])["fit_related_share"]
    assert f[("b1", "c1")] == pytest.approx(0.0)
    assert f[("b1", "c2")] == pytest.approx(1.0)
    assert np.isnan(f[("b2", "c1")])
    # The secondary columns do not change the main topic features.
    plain = pair_features(brands, creators, feats, brief)
    pd.testing.assert_frame_equal(
        out.drop(columns="fit_related_share"), plain.drop(columns="fit_related_share")
    )


def test_spread_topics_by_hand():
    # Topics 0 and 1 share one of two words (cosine 0.5); topic 2 shares nothing with topic 0.
    comp = np.array([[1.0, 1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 3.0]])
    got = spread_topics(np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [np.nan] * 3]), comp)
    np.testing.assert_allclose(got[0], [1.0, 0.5, 0.0])
    np.testing.assert_allclose(got[1], [1.0, 1.0, 0.0])  # 0.75 each before scaling
    assert np.isnan(got[2]).all()


def test_near_topic_share_reads_the_spread_columns():
    brands = pd.DataFrame({"brand_id": ["b1", "b2"]})
    creators = pd.DataFrame({"creator_id": ["c1", "c2"], "followers": [1_000.0, 2_000.0]})
    feats = _frame([[0.6, 0.4, 0, 0, 0, 0], [0, 0, 0, 0.5, 0.5, 0]], ["c1", "c2"], "creator_id")
    brief = _frame([[1.0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1.0]], ["b1", "b2"], "brand_id")
    # b1's brief spreads half its weight onto topic 1; b2's spread vector is unknown.
    spread = pd.DataFrame(
        [[1.0, 0.5, 0, 0, 0, 0], [np.nan] * 6], index=brief.index, columns=TOPICS
    ).add_prefix("spread_")
    out = pair_features(brands, creators, feats, pd.concat([brief, spread], axis=1))
    f = out.set_index(["brand_id", "creator_id"])["fit_near_topic_share"]
    assert f[("b1", "c1")] == pytest.approx(0.6 + 0.5 * 0.4)
    assert f[("b1", "c2")] == pytest.approx(0.0)
    assert np.isnan(f[("b2", "c1")])
    # Without spread columns the feature is unknown and nothing else changes.
    plain = pair_features(brands, creators, feats, brief)
    assert plain["fit_near_topic_share"].isna().all()
    pd.testing.assert_frame_equal(
        out.drop(columns="fit_near_topic_share"), plain.drop(columns="fit_near_topic_share")
    )


@pytest.mark.parametrize(
    ("brief", "main", "extra"),
    [
        (
            "We sell tents. Our audience also loves food.",
            "We sell tents.",
            "Our audience also loves food.",
        ),
        (
            "Vendemos tiendas. A nuestro público también le gusta la comida.",
            "Vendemos tiendas.",
            "A nuestro público también le gusta la comida.",
        ),
        ("Zelte. Unsere Zielgruppe mag auch Essen.", "Zelte.", "Unsere Zielgruppe mag auch Essen."),
        ("We sell tents.", "We sell tents.", None),
        # Only cue sentences: kept as the main text.
        ("Also food.", "Also food.", None),
        (None, None, None),
    ],
)
def test_secondary_text_splits_off_also_sentences(brief, main, extra):
    assert secondary_text(brief) == (main, extra)


def test_brand_topics_maps_secondary_interests_apart():
    from features.topics import TopicModel

    docs = ["gym workout #fitness", "workout protein #gym", "pasta recipe #food", "recipe dinner"]
    model = TopicModel(n_topics=2, min_df=1, max_df=1.0).fit(docs)
    brands = pd.DataFrame(
        {
            "brand_id": ["b1", "b2"],
            "brief": ["Protein for your workout. Our fans also love pasta.", "Gym gear."],
            "excluded_topics": [None, "pasta"],
        }
    )
    brief, excluded = brand_topics(model, brands)
    gym = int(np.argmax(model.transform_brief("gym workout")[0]))
    main = brief[[f"topic_{k:02d}" for k in range(2)]].to_numpy()
    rel = brief[[f"related_topic_{k:02d}" for k in range(2)]].to_numpy()
    assert main[0].argmax() == gym and main[0, gym] == pytest.approx(1.0)
    assert rel[0].argmax() == 1 - gym and rel[0, 1 - gym] == pytest.approx(1.0)
    assert np.isnan(rel[1]).all()
    assert np.isnan(excluded.loc["b1"]).all()
    assert excluded.loc["b2"].to_numpy().argmax() == 1 - gym
    spread = brief[[f"spread_topic_{k:02d}" for k in range(2)]].to_numpy()
    np.testing.assert_allclose(spread, spread_topics(main, model.components_))
    assert spread[0, gym] == pytest.approx(1.0)


def test_rank_within_breaks_ties_by_creator_id():
    r = rank_within(["a", "a", "a", "b"], [0.5, 0.5, 0.9, 0.0], ["c2", "c1", "c3", "c1"])
    assert r.tolist() == [3, 2, 1, 1]


@pytest.fixture(scope="module")
def world():
    """12 brands x 40 creators; outcome driven by topic match, size window and country."""
    rng = np.random.default_rng(5)
    n_b, n_c = 12, 40
    bt = rng.dirichlet(np.full(6, 0.3), n_b)
    ct = rng.dirichlet(np.full(6, 0.3), n_c)
    ct[0] = bt[0]  # the planted creator: same topics as brand b00's brief
    brands = pd.DataFrame(
        {
            "brand_id": [f"b{i:02d}" for i in range(n_b)],
            "target_countries": rng.choice(["US", "GB;US", "DE"], n_b),
            "min_followers": 5_000.0,
            "max_followers": 200_000.0,
        }
    )
    brands.loc[0, "target_countries"] = "US"
    creators = pd.DataFrame(
        {
            "creator_id": [f"c{i:02d}" for i in range(n_c)],
            "followers": 10 ** rng.uniform(3, 6.5, n_c),
            "country": rng.choice(["US", "GB", "DE"], n_c),
        }
    )
    creators.loc[0, ["followers", "country"]] = [50_000.0, "US"]
    feats = _frame(ct, creators["creator_id"], "creator_id").assign(
        eng_er_vs_expected=rng.uniform(0.5, 1.5, n_c)
    )
    brief = _frame(bt, brands["brand_id"], "brand_id")
    pairs = pair_features(brands, creators, feats, brief)
    quality = (
        3 * pairs["fit_topic_cosine"]
        + pairs["fit_in_size_window"]
        + pairs["fit_country_match"]
        + rng.normal(0, 0.3, len(pairs))
    )
    outcome = np.digitize(quality, np.quantile(quality, [0.5, 0.75, 0.9]))
    return pairs, outcome


@pytest.fixture(scope="module")
def fit_model(world, fast):
    pairs, outcome = world
    return FitModel().fit(pairs, outcome, params=fast, n_folds=4, max_rounds=100)


def test_planted_creator_ranks_first_and_scores_are_sane(fit_model, world):
    pairs, outcome = world
    out = fit_model.predict(pairs)
    assert out.index.equals(pairs.index)
    top = out[(out["brand_id"] == "b00") & (out["fit_rank"] == 1)]
    assert top["creator_id"].tolist() == ["c00"]
    assert out["fit_score"].between(0, 1).all()
    ranks = out.groupby("brand_id")["fit_rank"].apply(sorted)
    assert all(r == list(range(1, 41)) for r in ranks)
    assert fit_model.metrics_["ndcg_at_10"] > 0.8
    good = outcome >= 2
    assert out.loc[good, "fit_score"].mean() > out.loc[~good, "fit_score"].mean() + 0.3


def test_fit_model_deterministic_and_round_trip(fit_model, world, fast, tmp_path):
    pairs, outcome = world
    again = FitModel().fit(pairs, outcome, params=fast, n_folds=4, max_rounds=100)
    assert again.booster_.model_to_string() == fit_model.booster_.model_to_string()
    sums = fit_model.save(tmp_path)
    loaded = FitModel.load(tmp_path, sums)
    pd.testing.assert_frame_equal(loaded.predict(pairs), fit_model.predict(pairs))
    meta = tmp_path / "meta.json"
    meta.write_text(meta.read_text().replace('"good_outcome": 2.0', '"good_outcome": 1.0'))
    with pytest.raises(ArtifactError, match="meta.json"):
        FitModel.load(tmp_path, sums)


def test_fit_reasons_are_words(fit_model, world):
    pairs, _ = world
    planted = pairs[(pairs["brand_id"] == "b00") & (pairs["creator_id"] == "c00")]
    (reasons,) = fit_model.reasons(planted, catalog={})
    assert reasons and all("fit_" not in r for r in reasons)
    topic = [r for r in reasons if r.startswith("content matches the brief")]
    assert topic and topic[0].startswith(
        "content matches the brief with a topic similarity of 1.00"
    )
    assert float(topic[0].rsplit("(", 1)[1].rstrip(")")) > 0  # a perfect match raises fit


@pytest.mark.parametrize(
    ("brief", "excluded", "kept"),
    [
        (
            "Tents for families. We do not work with creators who post about travel.",
            None,
            "Tents for families.",
        ),
        (
            "Botas de montaña. No trabajamos con creadores que publiquen sobre caza.",
            None,
            "Botas de montaña.",
        ),
        (
            "Wanderschuhe. Keine Zusammenarbeit mit Creators, die über Angeln posten.",
            None,
            "Wanderschuhe.",
        ),
        ("Tents for families; no alcohol, no gambling", None, "Tents for families;"),
        # A sentence naming the excluded topics goes even without a negation cue.
        (
            "Nova sells tents. Creators into hunting and fishing are out.",
            "hunting and fishing",
            "Nova sells tents.",
        ),
        # "no" must be a whole word: Nova, know and nothing else is dropped here.
        ("Nova knows tents.", None, "Nova knows tents."),
    ],
)
def test_affirmative_text_drops_negated_sentences(brief, excluded, kept):
    assert affirmative_text(brief, excluded) == kept


def test_affirmative_text_keeps_an_all_negative_brief_and_missing_text():
    assert affirmative_text("No alcohol. No gambling.") == "No alcohol. No gambling."
    assert affirmative_text(None) is None
