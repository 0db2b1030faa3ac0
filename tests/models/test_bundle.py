import json

import numpy as np
import pandas as pd
import pytest

from features.topics import TopicModel
from models import AccountModel, ArtifactError, Bundle, FitModel, brand_topics, pair_features

WORDS = [
    "yoga",
    "fitness",
    "run",
    "gym",
    "vegan",
    "food",
    "recipe",
    "bake",
    "beach",
    "hotel",
    "hike",
    "trip",
]


@pytest.fixture(scope="module")
def text_model():
    rng = np.random.default_rng(0)
    docs = [" ".join(rng.choice(WORDS[4 * (i % 3) : 4 * (i % 3) + 4], 20)) for i in range(60)]
    return TopicModel(n_topics=3).fit(docs)


@pytest.fixture(scope="module")
def bundle(fraud_model, fraud_data, text_model, fast):
    from features.engagement import EngagementCurve

    rng = np.random.default_rng(1)
    acc = pd.DataFrame({"acc_log_media": rng.normal(size=300)})
    account = AccountModel().fit(
        acc, (acc["acc_log_media"] < 0).astype(float), params=fast, n_folds=3, max_rounds=30
    )
    brands = pd.DataFrame(
        {
            "brand_id": ["b1", "b2", "b3", "b4"],
            "brief": ["vegan food recipe", "gym fitness", "beach hotel", "yoga"],
            "excluded_topics": [None, "bake", None, "hotel trip"],
        }
    )
    creators = pd.DataFrame(
        {"creator_id": [f"c{i}" for i in range(30)], "followers": 10 ** rng.uniform(3, 6, 30)}
    )
    feats = pd.DataFrame(
        rng.dirichlet(np.ones(3), 30),
        columns=["topic_00", "topic_01", "topic_02"],
        index=creators["creator_id"],
    )
    brief, excluded = brand_topics(text_model, brands)
    pairs = pair_features(brands, creators, feats, brief, excluded)
    outcome = np.digitize(pairs["fit_topic_cosine"], [0.5, 0.8, 0.95])
    fit = FitModel().fit(
        pairs, outcome, params={**fast, "min_data_in_leaf": 3}, n_folds=2, max_rounds=20
    )
    X, _ = fraud_data
    return (
        Bundle(
            fraud_model=fraud_model,
            feature_schema=[(c, str(X[c].dtype)) for c in X.columns],
            account_model=account,
            fit_model=fit,
            text_model=text_model,
            engagement_curve=EngagementCurve.prior(),
        ),
        pairs,
        acc,
    )


def test_round_trip(bundle, fraud_data, tmp_path):
    b, pairs, acc = bundle
    X, _ = fraud_data
    sums = b.save(tmp_path / "bundle")
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["files"] == sums
    assert {
        "fraud/booster.txt",
        "account/meta.json",
        "fit/calibrator.json",
        "bundle.json",
        "engagement_curve.json",
    } <= set(sums)
    assert any(k.startswith("text/") for k in sums)
    loaded = Bundle.load(tmp_path / "bundle")
    assert loaded.version == b.version and len(loaded.version) == 16
    assert loaded.feature_schema == b.feature_schema and loaded.feature_names == list(X.columns)
    assert loaded.versions == b.versions and set(b.versions) >= {"lightgbm", "numpy", "pandas"}
    np.testing.assert_array_equal(
        loaded.fraud_model.predict_proba(X), b.fraud_model.predict_proba(X)
    )
    np.testing.assert_array_equal(
        loaded.account_model.predict_fake(acc), b.account_model.predict_fake(acc)
    )
    pd.testing.assert_frame_equal(loaded.fit_model.predict(pairs), b.fit_model.predict(pairs))
    np.testing.assert_array_equal(
        loaded.text_model.transform(["vegan gym"]), b.text_model.transform(["vegan gym"])
    )
    assert loaded.engagement_curve.to_dict() == b.engagement_curve.to_dict()


def test_minimal_bundle_and_non_empty_folder(fraud_model, tmp_path):
    b = Bundle(fraud_model=fraud_model, feature_schema=[("x", "float64")])
    b.save(tmp_path / "m")
    loaded = Bundle.load(tmp_path / "m")
    assert loaded.account_model is None and loaded.text_model is None
    assert loaded.engagement_curve is None
    with pytest.raises(FileExistsError):
        b.save(tmp_path / "m")


@pytest.mark.parametrize("victim", ["fraud/booster.txt", "bundle.json", "engagement_curve.json"])
def test_tampered_file_is_refused_and_named(bundle, tmp_path, victim):
    b, _, _ = bundle
    b.save(tmp_path)
    path = tmp_path / victim
    path.write_bytes(path.read_bytes().replace(b"0", b"1", 1))
    with pytest.raises(ArtifactError, match=f"{victim}: SHA-256 mismatch"):
        Bundle.load(tmp_path)


def test_tampered_text_model_is_refused(bundle, tmp_path):
    b, _, _ = bundle
    sums = b.save(tmp_path)
    victim = next(k for k in sums if k.startswith("text/"))
    (tmp_path / victim).write_bytes((tmp_path / victim).read_bytes() + b" ")
    with pytest.raises(ArtifactError, match=victim):
        Bundle.load(tmp_path)


def test_unlisted_and_missing_files_are_refused(fraud_model, tmp_path):
    Bundle(fraud_model=fraud_model, feature_schema=[]).save(tmp_path)
    (tmp_path / "fraud" / "extra.txt").write_text("hello")
    with pytest.raises(ArtifactError, match="extra.txt: file is not listed"):
        Bundle.load(tmp_path)
    (tmp_path / "fraud" / "extra.txt").unlink()
    (tmp_path / "fraud" / "meta.json").unlink()
    with pytest.raises(ArtifactError, match="meta.json: file is missing"):
        Bundle.load(tmp_path)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match="no manifest"):
        Bundle.load(tmp_path)
