"""Tests of the account evaluation: metrics, the fake-share estimate, the generated page."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from training import real_data
from training.evaluate_accounts import (
    EvaluationSettings,
    audience_errors,
    binary_report,
    render_markdown,
    run_evaluation,
)

SMALL = EvaluationSettings(
    n_creators=60,
    seed=1,
    max_accounts=1_500,
    folds=2,
    inner_folds=2,
    sizes=(20,),
    shares=(0.2, 0.6),
    per_share=2,
    max_rounds=60,
)


def test_binary_report_by_hand():
    y = [1, 1, 1, 0, 0, 0, 0, 0]
    p = [0.9, 0.8, 0.2, 0.7, 0.1, 0.1, 0.1, 0.1]
    r = binary_report(y, p, threshold=0.5)
    # tp 2, fn 1, fp 1, tn 4
    assert r["sensitivity"] == pytest.approx(2 / 3)
    assert r["specificity"] == pytest.approx(4 / 5)
    assert r["accuracy"] == pytest.approx(6 / 8)
    assert r["f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    mcc = (2 * 4 - 1 * 1) / np.sqrt(3 * 3 * 5 * 5)
    assert r["mcc"] == pytest.approx(mcc)
    assert r["fake_share"] == pytest.approx(3 / 8) and r["n"] == 8
    # One threshold per row: the third account flagged by its own, lower threshold.
    per_row = binary_report(y, p, threshold=np.array([0.5, 0.5, 0.15, 0.5, 0.5, 0.5, 0.5, 0.5]))
    assert per_row["sensitivity"] == 1.0


class _KnownErrorModel:
    """An account model that flags accounts without a picture: its error rates are set by
    how many fakes and reals of the pool lack one, and its probabilities are the posteriors
    at the pool's even fake share (calibrated there)."""

    feature_names = ["acc_has_pic"]
    threshold = 0.5
    prior = 0.5

    def __init__(self, tpr: float, fpr: float) -> None:
        self.tpr, self.fpr = tpr, fpr

    def predict_fake(self, X: pd.DataFrame) -> np.ndarray:
        no_pic = X["acc_has_pic"].to_numpy() == 0.0
        tpr, fpr = self.tpr, self.fpr
        return np.where(no_pic, tpr / (tpr + fpr), (1 - tpr) / (2 - tpr - fpr))


def _pool(n: int, tpr: float, fpr: float) -> pd.DataFrame:
    """n fakes and n reals; exactly tpr of the fakes and fpr of the reals have no picture."""
    fake = np.r_[np.ones(n, bool), np.zeros(n, bool)]
    no_pic = np.r_[np.arange(n) < tpr * n, np.arange(n) < fpr * n]
    return pd.DataFrame(
        {
            "follower_id": [f"a{i}" for i in range(2 * n)],
            "has_profile_pic": ~no_pic,
            "followers": 100,
            "is_fake": fake,
        }
    )


def test_fake_share_estimate_is_unbiased_where_the_naive_share_is_not():
    tpr, fpr = 0.8, 0.1
    model = _KnownErrorModel(tpr, fpr)
    settings = SMALL._replace(shares=(0.2, 0.6), per_share=150)
    errs = audience_errors(
        model, _pool(1_000, tpr, fpr), settings, 100, np.random.default_rng(5), "m"
    )
    assert len(errs) == 300
    for share, group in errs.groupby("truth"):
        # Flag rate r = tpr p + fpr (1 - p); the estimate's sd at n = 100 is at most 0.07,
        # so its mean over 150 creators is within 0.025 of the truth (4.4 standard errors).
        assert group["estimate"].mean() == pytest.approx(share, abs=0.025)
        naive_bias = tpr * share + fpr * (1 - share) - share
        assert group["naive"].mean() - share == pytest.approx(naive_bias, abs=0.025)
        assert abs(naive_bias) >= 0.04
    assert errs["estimate"].between(0, 1).all()


def _write_like_public_sets(acc: pd.DataFrame, root) -> None:
    """Simulated accounts written in the three public sets' own file formats."""
    acc = acc.reset_index(drop=True)
    n = len(acc)
    thirds = np.array_split(np.arange(n), 3)

    a = acc.iloc[thirds[0]]
    folder = root / real_data.DATASETS["instafake"]
    folder.mkdir()
    rows = pd.DataFrame(
        {
            "userFollowerCount": a["followers"],
            "userFollowingCount": a["following"],
            "userBiographyLength": a["biography_length"],
            "userMediaCount": a["media_count"],
            "userHasProfilPic": a["has_profile_pic"].astype(int),
            "userIsPrivate": a["is_private"].astype(int),
            "usernameDigitCount": a["username_digit_count"],
            "usernameLength": a["username_length"],
            "isFake": a["is_fake"].astype(int),
        }
    )
    for name, part in (("fake", rows[rows["isFake"] == 1]), ("real", rows[rows["isFake"] == 0])):
        records = json.loads(part.to_json(orient="records"))
        (folder / f"{name}AccountData.json").write_text(json.dumps(records))

    k = acc.iloc[thirds[1]]
    folder = root / real_data.DATASETS["kaggle"]
    folder.mkdir()
    frame = pd.DataFrame(
        {
            "profile pic": k["has_profile_pic"].astype(int),
            "nums/length username": (k["username_digit_count"] / k["username_length"]).round(2),
            "fullname words": 1,
            "nums/length fullname": 0,
            "name==username": 0,
            "description length": k["biography_length"],
            "external URL": k["has_external_url"].astype(int),
            "private": k["is_private"].astype(int),
            "#posts": k["media_count"],
            "#followers": k["followers"],
            "#follows": k["following"],
            "fake": k["is_fake"].astype(int),
        }
    )
    half = len(frame) // 2
    frame.iloc[:half].to_csv(folder / "train.csv", index=False)
    frame.iloc[half:].to_csv(folder / "test.csv", index=False)

    s = acc.iloc[thirds[2]]
    folder = root / real_data.DATASETS["srf"]
    folder.mkdir()
    pd.DataFrame(
        {
            "Profile.URL": "https://instagram.com/" + s["username"],
            "rating": s["is_fake"].map({True: "TRUE", False: "FALSE"}),
            "Username": s["username"],
            "Number.of.posts": s["media_count"],
            "Number.of.people.they.follow": s["following"],
            "Number.of.followers": s["followers"],
            "has_profile_picture": s["has_profile_pic"],
            "Private.account": s["is_private"],
        }
    ).to_csv(folder / "labelled_1000_inclprivate.csv", index=False)


@pytest.fixture(scope="module")
def small_result(tmp_path_factory):
    from training.simulate import simulate

    root = tmp_path_factory.mktemp("shared")
    acc = simulate(60, seed=9).labels["account_labels"].drop_duplicates("follower_id")
    # Enough fakes in every third for stratified folds with inner folds.
    acc = pd.concat([acc[acc["is_fake"]].head(600), acc[~acc["is_fake"]].head(1200)])
    _write_like_public_sets(acc.sample(frac=1.0, random_state=0), root)
    return root, run_evaluation(SMALL, root, echo=lambda _: None)


def test_run_covers_every_pairing(small_result):
    _, result = small_result
    scores = result["scores"]
    names = list(real_data.DATASETS)
    pairs = set(zip(scores["trained_on"], scores["scored"], strict=True))
    for dst in names:
        assert ("synthetic", dst) in pairs
        assert (dst, f"{dst} (2-fold CV)") in pairs
        for src in names:
            if src != dst:
                assert (src, dst) in pairs
    probs = scores[["roc_auc", "pr_auc", "f1", "accuracy", "brier", "ece"]]
    assert probs.notna().all().all() and ((probs >= 0) & (probs <= 1)).all().all()
    aud = result["audience"]
    assert set(aud["size"]) == {20}
    assert {"synthetic", "same set, other folds"} <= set(aud["model"])
    assert (aud["creators"] > 0).all() and aud["mae_estimate"].between(0, 1).all()
    assert set(result["published"]["dataset"]) == set(names)
    # No SRF unlabelled file in this folder: that table is simply left out.
    assert result["srf_random"].empty


def test_page_has_the_tables_and_the_targets(small_result):
    _, result = small_result
    page = render_markdown(result, "2026-11-22 00:00 UTC")
    assert page.startswith("# Account model and audience fake share")
    assert "2026-11-22 00:00 UTC" in page and "lightgbm" in page
    for heading in ("## Targets", "## Account classification", "## Audience fake share"):
        assert heading in page
    for row in result["scores"].itertuples():
        assert f"| {row.trained_on} | {row.scored} | " in page
    assert "Synthetic-trained ROC-AUC >= 0.90 on srf" in page


# MLflow's SQLite store warns about its own SQLAlchemy use: harmless, not ours.
@pytest.mark.filterwarnings(
    "ignore:The ``noload`` loader strategy is deprecated:DeprecationWarning"
)
def test_command_writes_the_page_and_logs_to_mlflow(small_result, tmp_path, monkeypatch):
    import mlflow
    import typer
    from typer.testing import CliRunner

    from training import evaluate_accounts

    root, result = small_result
    seen = {}

    def cached_run(settings, data_dir, echo):
        seen["settings"], seen["data_dir"] = settings, data_dir
        return result

    monkeypatch.setattr(evaluate_accounts, "run_evaluation", cached_run)
    app = typer.Typer()
    app.command()(evaluate_accounts.evaluate_accounts_command)
    out = tmp_path / "evaluation.md"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    res = CliRunner().invoke(
        app,
        ["--out", str(out), "--data-dir", str(root), "--creators", "60", "--per-share", "2"]
        + ["--tracking-uri", uri],
    )
    assert res.exit_code == 0, res.output
    assert seen["data_dir"] == root
    assert (seen["settings"].n_creators, seen["settings"].per_share) == (60, 2)
    assert out.read_text().startswith("# Account model")
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("creatorscore-evaluation")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1
    assert "synthetic__srf__roc_auc" in runs[0].data.metrics
    listed = {a.path for a in client.list_artifacts(runs[0].info.run_id, "evaluation")}
    assert "evaluation/evaluation.md" in listed and "evaluation/scores.csv" in listed


def test_command_fails_cleanly_without_data(tmp_path):
    import typer
    from typer.testing import CliRunner

    from training.evaluate_accounts import evaluate_accounts_command

    app = typer.Typer()
    app.command()(evaluate_accounts_command)
    res = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "--no-mlflow"])
    assert res.exit_code == 2
    assert "no labelled account dataset" in res.output


def test_min_variance_threshold_by_hand():
    from models.account import min_variance_threshold

    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    p = np.array([0.05, 0.1, 0.1, 0.2, 0.7, 0.15, 0.6, 0.8, 0.9, 0.9])
    # Mean over shares 0-0.8 (mean share 0.4) of (s tpr(1-tpr) + (1-s) fpr(1-fpr)) / gap^2:
    # (0.10, 0.15]: tpr 1, fpr 0.4 -> 0.6 * 0.24 / 0.36 = 0.400
    # (0.20, 0.60]: tpr 0.8, fpr 0.2 -> (0.4 * 0.16 + 0.6 * 0.16) / 0.36 = 0.444
    # (0.70, 0.80]: tpr 0.6, fpr 0 -> 0.4 * 0.24 / 0.36 = 0.267, the least: 0.71 to 0.8 tie,
    # and the tie goes to the threshold nearest 0.5.
    assert min_variance_threshold(y, p) == 0.71
    # A model that ranks nothing: no threshold is better than chance, so 0.5.
    assert min_variance_threshold(y, np.full(10, 0.3)) == 0.5


def test_blanked_copies_teach_the_model_that_unknown_is_not_zero():
    from models.account import AccountModel, mask_columns

    rng = np.random.default_rng(3)
    n = 1_500
    fake = rng.random(n) < 0.3
    X = pd.DataFrame(
        {
            # An empty bio (0) is a strong sign of a fake in this world.
            "acc_bio_length": np.where(fake, 0.0, rng.integers(5, 80, n)).astype(float),
            "acc_log_media": np.where(fake, rng.normal(1, 1, n), rng.normal(3, 1, n)),
        }
    )
    y = fake.astype(float)
    masked = mask_columns(X, np.random.default_rng(0))
    blank = masked["acc_bio_length"].isna()
    assert 0.3 < blank.mean() < 0.5 and masked.loc[~blank, "acc_bio_length"].equals(
        X.loc[~blank, "acc_bio_length"]
    )
    kw = {"n_folds": 3, "max_rounds": 60, "seed": 1}
    plain = AccountModel().fit(X, y, missing_copies=0.0, **kw)
    taught = AccountModel().fit(X, y, missing_copies=0.5, **kw)
    assert len(taught.oof_) == n and taught.metrics_["n_rows"] == n
    # Real-looking accounts (many posts) whose bio is unknown.
    unknown = pd.DataFrame({"acc_bio_length": np.nan, "acc_log_media": np.full(50, 3.5)})
    assert plain.predict_fake(unknown).mean() > 0.5  # read as an empty bio
    assert taught.predict_fake(unknown).mean() < 0.2  # read as unknown
