"""Tests for the audience builder: account features, fake-share estimate, per-creator summary."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from features import audience
from features.audience import (
    ACCOUNT_FEATURES,
    FEATURES,
    account_features,
    audience_features,
    estimate_fake_share,
    fake_share_table,
    likelihood_fake_share,
)

NA = pd.NA


class ToyModel:
    """An account model with known error rates: it flags exactly the accounts without a picture.

    Simulated fakes lack a picture with probability ``tpr``, real accounts with probability
    ``fpr``, so those are this model's true and false positive rates by construction, and its
    probabilities are the exact posteriors at a fake share of ``prior`` (calibrated there).
    """

    feature_names = ["acc_has_pic"]

    def __init__(self, tpr: float = 0.8, fpr: float = 0.1, prior: float = 0.3) -> None:
        self.tpr, self.fpr, self.prior = tpr, fpr, prior
        self.p_no_pic = prior * tpr / (prior * tpr + (1 - prior) * fpr)
        self.p_pic = prior * (1 - tpr) / (prior * (1 - tpr) + (1 - prior) * (1 - fpr))
        self.threshold = (self.p_no_pic + self.p_pic) / 2

    def predict_fake(self, X: pd.DataFrame) -> np.ndarray:
        return np.where(X["acc_has_pic"].to_numpy() == 0.0, self.p_no_pic, self.p_pic)


def _boolean(values: list) -> pd.Series:
    return pd.Series(values, dtype="boolean")


def _accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "username": ["anna_1990", None, ""],
            "username_length": [99.0, 10.0, np.nan],  # ignored where the name is given
            "username_digit_count": [0.0, 2.0, np.nan],
            "full_name": ["Anna B2", None, "  "],
            "has_profile_pic": _boolean([True, NA, False]),
            "is_private": _boolean([False, True, NA]),
            "biography_length": [12.0, 0.0, np.nan],
            "has_external_url": _boolean([True, False, NA]),
            "media_count": [0.0, 4.0, np.nan],
            "followers": [9.0, np.nan, 0.0],
            "following": [3000.0, 1500.0, np.nan],
        }
    )


def test_account_features_by_hand():
    f = account_features(_accounts())
    assert list(f.columns) == list(ACCOUNT_FEATURES)
    assert (f.dtypes == "float64").all()
    a, b, c = (f.iloc[i] for i in range(3))
    # Row 0: the user name wins over the given length/count.
    assert a["acc_username_length"] == 9 and a["acc_username_digits"] == 4
    assert a["acc_username_digit_share"] == pytest.approx(4 / 9)
    assert a["acc_full_name_present"] == 1 and a["acc_full_name_digits"] == 1
    assert (a["acc_has_pic"], a["acc_private"], a["acc_external_url"]) == (1, 0, 1)
    assert a["acc_bio_length"] == 12
    assert a["acc_log_media"] == 0 and a["acc_log_followers"] == pytest.approx(math.log(10))
    assert a["acc_log_following_per_follower"] == pytest.approx(math.log(3001 / 10))
    assert a["acc_log_following_per_media"] == pytest.approx(math.log(3001))
    assert a["acc_mass_follower"] == 1 and a["acc_zero_posts"] == 1
    # Row 1: no user name, so the given length/count; 1,500 is not *more than* 1,500.
    assert b["acc_username_length"] == 10 and b["acc_username_digits"] == 2
    assert b["acc_username_digit_share"] == pytest.approx(0.2)
    assert b["acc_mass_follower"] == 0 and b["acc_zero_posts"] == 0
    assert b["acc_private"] == 1 and b["acc_bio_length"] == 0 and b["acc_external_url"] == 0
    for col in (
        "acc_has_pic",
        "acc_full_name_present",
        "acc_full_name_digits",
        "acc_log_followers",
        "acc_log_following_per_follower",
    ):
        assert np.isnan(b[col]), col
    # Row 2: an empty name has no digit share; a blank full name is a known "no full name".
    assert c["acc_username_length"] == 0 and np.isnan(c["acc_username_digit_share"])
    assert c["acc_full_name_present"] == 0 and c["acc_has_pic"] == 0
    for col in (
        "acc_mass_follower",
        "acc_zero_posts",
        "acc_log_following_per_media",
        "acc_private",
    ):
        assert np.isnan(c[col]), col


def test_account_features_missing_columns_are_nan_not_zero():
    f = account_features(pd.DataFrame({"follower_id": ["x", "y"]}, index=[5, 7]))
    assert list(f.index) == [5, 7] and list(f.columns) == list(ACCOUNT_FEATURES)
    assert f.isna().all().all()


def test_account_features_digit_share_alone_like_the_kaggle_set():
    f = account_features(pd.DataFrame({"username_digit_share": [0.27, 0.0]}))
    assert f["acc_username_digit_share"].tolist() == [0.27, 0.0]
    assert f["acc_username_digits"].isna().all()


def _creators(ids=("C", "A", "B")) -> pd.DataFrame:
    return pd.DataFrame({"creator_id": list(ids), "followers": [1e3] * len(ids)})


def _audience() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "creator_id": ["A", "A", "A", "B", "B", "B", "Z"],
            "follower_id": ["a1", "a2", "a3", "b1", "b2", "b2", "z1"],  # b2 listed twice
            "username": ["x12", "bob", "carla", None, "dan9", "dan9", "zed"],
            "has_profile_pic": _boolean([False, True, True, False, False, False, True]),
            "is_private": _boolean([True, NA, False, NA, NA, NA, True]),
            "biography_length": [0.0, 5.0, 0.0, np.nan, 3.0, 3.0, 0.0],
            "media_count": [0.0, 10.0, 3.0, 0.0, 0.0, 0.0, 1.0],
            "followers": [1.0, 100.0, 20.0, 0.0, 4.0, 4.0, 1.0],
            "following": [2000.0, 99.0, 19.0, 7000.0, np.nan, np.nan, 1.0],
        }
    )


def test_audience_features_by_hand():
    out = audience_features(_audience(), _creators(), ToyModel(tpr=0.8, fpr=0.1))
    assert list(out.index) == ["C", "A", "B"] and out.index.name == "creator_id"
    assert list(out.columns) == [f.name for f in FEATURES]
    assert (out.dtypes == "float64").all()
    assert out.loc["C"].isna().all()  # no sampled followers: unknown, not zero

    a = out.loc["A"]
    assert a["aud_n_sampled"] == 3
    assert a["aud_mass_follower_share"] == pytest.approx(1 / 3)  # 2000 > 1500
    assert a["aud_no_pic_share"] == pytest.approx(1 / 3)
    assert a["aud_private_share"] == pytest.approx(1 / 2)  # over the 2 known
    assert a["aud_zero_posts_share"] == pytest.approx(1 / 3)
    assert a["aud_digit_name_share"] == pytest.approx(1 / 3)
    assert a["aud_empty_bio_share"] == pytest.approx(2 / 3)
    # ln((following+1)/(followers+1)): ln(2001/2), ln(100/101), ln(20/21) -> median ln(100/101)
    assert a["aud_median_log_following_per_follower"] == pytest.approx(math.log(100 / 101))
    # ln((following+1)/(media+1)): ln(2001), ln(100/11), ln(20/4) -> median ln(100/11)
    assert a["aud_median_log_following_per_media"] == pytest.approx(math.log(100 / 11))
    assert a["aud_median_log_followers"] == pytest.approx(math.log(21))
    # One of 3 flagged: (1/3 - 0.1) / (0.8 - 0.1) = 1/3. With one yes/no trait the likelihood
    # estimate is that same share: l'(p) = 0 where the expected flag rate 0.1 + 0.7 p = 1/3.
    assert a["aud_fake_share"] == pytest.approx(1 / 3)
    m = ToyModel()
    assert a["aud_fake_prob_mean"] == pytest.approx((m.p_no_pic + 2 * m.p_pic) / 3)
    # Observed information: sum of (lam - 1)^2 / (1 + p (lam - 1))^2 at p = 1/3.
    lam = np.array([m.p_no_pic, m.p_pic, m.p_pic]) / (1 - np.array([m.p_no_pic, m.p_pic, m.p_pic]))
    d = lam * (1 - m.prior) / m.prior - 1
    assert a["aud_fake_share_se"] == pytest.approx((((d / (1 + d / 3)) ** 2).sum()) ** -0.5)

    b = out.loc["B"]  # b2 counted once
    assert b["aud_n_sampled"] == 2
    assert b["aud_mass_follower_share"] == 1.0  # only b1's following is known
    assert b["aud_no_pic_share"] == 1.0 and b["aud_zero_posts_share"] == 1.0
    assert np.isnan(b["aud_private_share"])  # unknown for every account
    assert b["aud_digit_name_share"] == 1.0  # b1 has no user name: only dan9 counts
    assert b["aud_empty_bio_share"] == 0.0
    assert b["aud_median_log_following_per_follower"] == pytest.approx(math.log(7001))
    # Both flagged: (1 - 0.1) / 0.7 > 1, clipped.
    assert b["aud_fake_share"] == 1.0


def test_without_model_fake_share_is_nan_and_traits_stay():
    out = audience_features(_audience(), _creators())
    with_model = audience_features(_audience(), _creators(), ToyModel())
    model_cols = ["aud_fake_share", "aud_fake_share_se", "aud_fake_prob_mean"]
    assert out[model_cols].isna().all().all()
    assert with_model.loc[["A", "B"], model_cols].notna().all().all()
    traits = [c for c in out.columns if c not in model_cols]
    assert_frame_equal(out[traits], with_model[traits])


def test_missing_table_or_columns_give_nan_not_zero():
    none = audience_features(None, _creators(), ToyModel())
    assert none.isna().all().all() and list(none.index) == ["C", "A", "B"]
    thin = audience_features(_audience()[["creator_id", "follower_id"]], _creators())
    assert thin.loc["A", "aud_n_sampled"] == 3
    assert thin.drop(columns="aud_n_sampled").isna().all().all()
    empty = audience_features(_audience().iloc[:0], _creators(), ToyModel())
    assert empty.isna().all().all()


def test_chunks_of_creators_give_the_same_rows():
    rng = np.random.default_rng(7)
    ids = [f"c{i}" for i in range(40)]
    n = 1200
    aud = pd.DataFrame(
        {
            "creator_id": rng.choice(ids[:35], n),  # the last 5 have no sample
            "follower_id": [f"f{i}" for i in range(n)],
            "username": [f"u{int(v)}" if v > 50 else "plain" for v in rng.integers(0, 100, n)],
            "has_profile_pic": pd.array(rng.random(n) < 0.7, dtype="boolean"),
            "is_private": pd.array(
                np.where(rng.random(n) < 0.2, None, rng.random(n) < 0.3), dtype="boolean"
            ),
            "media_count": rng.integers(0, 50, n).astype(float),
            "followers": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 900, n)),
            "following": rng.integers(0, 4000, n).astype(float),
        }
    )
    creators = _creators(ids)
    whole = audience_features(aud, creators, ToyModel())
    parts = []
    for chunk in (ids[:13], ids[13:30], ids[30:]):
        rows = aud[aud["creator_id"].isin(chunk)]
        parts.append(audience_features(rows, _creators(chunk), ToyModel()))
    assert_frame_equal(whole, pd.concat(parts))
    assert whole["aud_fake_share"].notna().sum() == 35


def _simulated_sample(
    rng, share: float, n_creators: int, n_accounts: int, tpr: float, fpr: float
) -> pd.DataFrame:
    """Follower samples where fakes lack a picture with prob. tpr and real accounts with fpr."""
    size = n_creators * n_accounts
    fake = rng.random(size) < share
    no_pic = np.where(fake, rng.random(size) < tpr, rng.random(size) < fpr)
    return pd.DataFrame(
        {
            "creator_id": np.repeat([f"s{i}" for i in range(n_creators)], n_accounts),
            "follower_id": np.arange(size).astype(str),
            "has_profile_pic": pd.array(~no_pic, dtype="boolean"),
        }
    )


@pytest.mark.parametrize("share", [0.05, 0.5, 0.7, 0.95])
def test_fake_share_is_unbiased_where_hard_labels_are_not(share):
    tpr, fpr, n_creators, n_accounts = 0.8, 0.1, 500, 100
    rng = np.random.default_rng(int(share * 100))
    aud = _simulated_sample(rng, share, n_creators, n_accounts, tpr, fpr)
    creators = _creators(aud["creator_id"].unique())
    table = fake_share_table(aud, creators, ToyModel(tpr, fpr))
    # sd of one creator's estimate <= sqrt(0.25 / 100) / 0.7 = 0.071; over 500 creators 0.0032.
    assert table["share_raw"].mean() == pytest.approx(share, abs=0.013)
    naive = table["observed_rate"].mean()  # the share of hard "fake" labels
    assert abs(naive - share) > 0.035  # expected bias: 0.085, 0.05, 0.11, 0.185
    assert abs(naive - (tpr * share + fpr * (1 - share))) < 0.013
    assert table["n"].eq(n_accounts).all()
    clipped = audience_features(aud, creators, ToyModel(tpr, fpr))["aud_fake_share"]
    assert clipped.between(0, 1).all()
    if 0.2 < share < 0.8:  # clipping rarely bites away from the ends
        assert clipped.mean() == pytest.approx(share, abs=0.015)


@given(
    share=st.floats(0, 1),
    fpr=st.floats(0, 0.5),
    gap=st.floats(0.05, 0.5),
    n=st.integers(1, 500),
)
def test_estimate_inverts_the_expected_flag_rate(share, fpr, gap, n):
    tpr = fpr + gap
    expected_flags = n * (tpr * share + fpr * (1 - share))
    est = estimate_fake_share(np.array([float(n)]), np.array([expected_flags]), tpr, fpr)
    assert est["share_raw"].iloc[0] == pytest.approx(share, abs=1e-9)
    assert est["n"].iloc[0] == n and est["tpr"].iloc[0] == tpr and est["fpr"].iloc[0] == fpr


@given(n=st.integers(0, 300), data=st.data())
def test_estimate_is_a_share_or_unknown(n, data):
    k = data.draw(st.integers(0, n))
    est = estimate_fake_share(pd.Series([float(n)], index=["x"]), [float(k)], 0.7, 0.2)
    assert list(est.index) == ["x"]
    value = est["fake_share"].iloc[0]
    assert np.isnan(value) if n == 0 else 0.0 <= value <= 1.0


@pytest.mark.parametrize("tpr, fpr", [(0.3, 0.3), (0.2, 0.4), (1.2, 0.1), (0.8, -0.1)])
def test_estimate_rejects_uninformative_or_impossible_rates(tpr, fpr):
    with pytest.raises(ValueError, match="fpr < tpr"):
        estimate_fake_share(np.array([10.0]), np.array([3.0]), tpr, fpr)


def test_model_returning_the_wrong_number_of_probabilities_is_an_error():
    class Broken(ToyModel):
        def predict_fake(self, X):
            return np.zeros(len(X) + 1)

    with pytest.raises(ValueError, match="probabilities"):
        audience_features(_audience(), _creators(), Broken())


def _reference_text_columns(names: list) -> dict[str, list]:
    """acc_username_length/_digits and acc_full_name_present/_digits, row by row in Python."""
    out: dict[str, list] = {"length": [], "digits": [], "present": []}
    for t in names:
        known = isinstance(t, str)
        out["length"].append(len(t) if known else math.nan)
        out["digits"].append(sum(ch.isdecimal() for ch in t) if known else math.nan)
        out["present"].append(float(bool(t.strip())) if known else math.nan)
    return out


_SCRIPTS = st.text(
    alphabet=st.sampled_from(list("ab Z_9\t\x1c\x00-") + ["é", "٣", "Ω", "\u3000", "😀", "\u0301"]),
    max_size=8,
)


@given(st.lists(st.one_of(st.none(), _SCRIPTS), max_size=20))
def test_name_lengths_digits_and_presence_match_python(names):
    # Byte-level counting for ASCII rows, Arrow kernels for the others: the same numbers as
    # Python's len, str.isdecimal (what \d matches) and str.strip, whatever the script.
    acc = pd.DataFrame({"username": pd.Series(names, dtype=object)})
    acc["full_name"] = acc["username"]
    f = account_features(acc)
    ref = _reference_text_columns(names)
    np.testing.assert_array_equal(f["acc_username_length"], ref["length"])
    np.testing.assert_array_equal(f["acc_username_digits"], ref["digits"])
    np.testing.assert_array_equal(f["acc_full_name_digits"], ref["digits"])
    np.testing.assert_array_equal(f["acc_full_name_present"], ref["present"])


@given(st.lists(st.tuples(st.one_of(st.none(), _SCRIPTS), st.one_of(st.none(), _SCRIPTS))))
def test_name_columns_measured_together_match_each_measured_alone(pairs):
    # User and full names go to Arrow as one array: each row's numbers are those of its own
    # text, as when each column is measured on its own, and match Python's.
    acc = pd.DataFrame(
        {
            "username": pd.Series([u for u, _ in pairs], dtype=object),
            "full_name": pd.Series([f for _, f in pairs], dtype=object),
        }
    )
    together = audience._name_stats(acc)
    alone = (*audience._lengths_and_digits(acc, "username"), *audience._full_name_stats(acc))
    for a, b in zip(together, alone, strict=True):
        np.testing.assert_array_equal(a, b)
    ref = _reference_text_columns([f for _, f in pairs])
    np.testing.assert_array_equal(together[2], ref["digits"])
    np.testing.assert_array_equal(together[3], ref["present"])


def test_a_name_column_arrow_cannot_take_falls_back_to_pandas_alone():
    # A non-str full name: that column goes through the pandas string methods (unknown for
    # the non-str cell); the user names are still measured as text.
    acc = pd.DataFrame(
        {"username": ["ab12", None], "full_name": pd.Series([5, " x1"], dtype=object)}
    )
    f = account_features(acc)
    np.testing.assert_array_equal(f["acc_username_length"], [4.0, np.nan])
    np.testing.assert_array_equal(f["acc_username_digits"], [2.0, np.nan])
    np.testing.assert_array_equal(f["acc_full_name_digits"], [np.nan, 1.0])
    np.testing.assert_array_equal(f["acc_full_name_present"], [np.nan, 1.0])


@given(st.lists(st.one_of(st.none(), st.just("a"), st.just("")), max_size=40), st.integers(0, 9))
def test_validity_bitmap_read_as_arrow_reads_it(cells, start):
    # Sliced arrays start inside their bitmap's bytes.
    arr = pa.array(cells, type=pa.large_string())[min(start, len(cells)) :]
    want = arr.is_valid().to_numpy(zero_copy_only=False)
    np.testing.assert_array_equal(audience._valid(arr), want)


def _calibrated_mixture(rng, shares, n_accounts: int, prior: float, sep: float = 1.5):
    """Probabilities of a model calibrated at ``prior`` for creators at the given fake shares.

    Scores are N(sep, 1) for fakes and N(0, 1) for real accounts, so the exact posterior at
    ``prior`` is known in closed form: the model is calibrated by construction.
    """
    shares = np.asarray(shares, dtype="float64")
    codes = np.repeat(np.arange(len(shares)), n_accounts)
    fake = rng.random(codes.size) < shares[codes]
    score = rng.normal(np.where(fake, sep, 0.0), 1.0)
    log_lr = sep * score - sep**2 / 2
    prob = 1.0 / (1.0 + (1 - prior) / prior * np.exp(-log_lr))
    truth = np.bincount(codes, weights=fake, minlength=len(shares)) / n_accounts
    return prob, codes, truth


@pytest.mark.parametrize("share", [0.1, 0.3, 0.6])
def test_likelihood_share_is_unbiased_away_from_the_training_prevalence(share):
    rng = np.random.default_rng(int(share * 10))
    shares = np.full(400, share)
    prob, codes, truth = _calibrated_mixture(rng, shares, 200, prior=0.15)
    est, se = likelihood_fake_share(prob, codes, len(shares), prior=0.15)
    # The mean probability is pulled towards the prior; the likelihood divides it out.
    assert abs(np.bincount(codes, weights=prob).mean() / 200 - share) > 0.03
    assert (est - truth).mean() == pytest.approx(0.0, abs=0.01)
    # Its standard error describes its spread around each creator's own truth.
    inside = np.abs(est - truth) <= 1.645 * se
    assert 0.85 <= inside.mean() <= 0.97


def test_likelihood_share_is_the_em_fixed_point():
    rng = np.random.default_rng(3)
    prob, codes, _ = _calibrated_mixture(rng, [0.05, 0.4, 0.9], 60, prior=0.3)
    est, _ = likelihood_fake_share(prob, codes, 3, prior=0.3)
    for c in range(3):
        q, p = prob[codes == c], 0.3
        for _ in range(5_000):  # EM of Saerens et al. (2002): re-weight posteriors, average
            a = p / 0.3 * q
            p = float(np.mean(a / (a + (1 - p) / 0.7 * (1 - q))))
        assert est[c] == pytest.approx(p, abs=1e-6)


def test_likelihood_share_edges():
    prob = np.array([0.01, 0.02, 0.99, 1.0, np.nan, 0.0, 0.0])
    codes = np.array([0, 0, 1, 1, 2, 3, 3])
    est, se = likelihood_fake_share(prob, codes, 5, prior=0.2)
    assert est[0] == 0.0 and est[1] == 1.0 and est[3] == 0.0  # clear cases sit on the bounds
    assert np.isnan(est[2]) and np.isnan(se[2])  # only a NaN probability: unknown
    assert np.isnan(est[4]) and np.isnan(se[4])  # no accounts: unknown, not zero
    assert np.isfinite(se[[0, 1, 3]]).all()
    with pytest.raises(ValueError, match="prior"):
        likelihood_fake_share(prob, codes, 5, prior=0.0)


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C", "X"]),  # X: not a creator
            st.sampled_from(["f1", "f2", "f3", "f4", None]),
            st.one_of(st.none(), st.booleans()),
            st.one_of(st.none(), st.integers(0, 3000)),
            st.one_of(st.none(), st.integers(0, 50)),
        ),
        max_size=12,
    )
)
def test_summary_equals_a_pandas_reference_on_small_samples(rows):
    # A repeated (creator, follower) pair counts once; the same follower of two creators counts
    # for both; a missing follower id is never a repeat. Every present follower id distinct
    # (no repeat possible) and shared ids take different paths, which must agree with this.
    aud = pd.DataFrame(rows, columns=["creator_id", "follower_id", "pic", "following", "fol"])
    aud = pd.DataFrame(
        {
            "creator_id": aud["creator_id"].astype(object),
            "follower_id": aud["follower_id"].astype(object),
            "has_profile_pic": pd.array(aud["pic"].tolist(), dtype="boolean"),
            "following": aud["following"].astype("float64"),
            "followers": aud["fol"].astype("float64"),
        }
    )
    creators = _creators(["A", "B", "C"])
    out = audience_features(aud, creators, ToyModel())

    known = aud[aud["creator_id"].isin(["A", "B", "C"])]
    repeat = known.duplicated(["creator_id", "follower_id"]) & known["follower_id"].notna()
    kept = known[~repeat]
    acc = account_features(kept)
    group = kept["creator_id"].to_numpy()
    n = kept.groupby("creator_id").size().reindex(["A", "B", "C"]).astype("float64")
    assert_frame_equal(
        out[["aud_n_sampled"]], n.rename("aud_n_sampled").rename_axis("creator_id").to_frame()
    )
    pairs = {
        "aud_no_pic_share": 1.0 - acc["acc_has_pic"],
        "aud_mass_follower_share": acc["acc_mass_follower"],
    }
    for name, values in pairs.items():
        want = values.groupby(group).mean().reindex(["A", "B", "C"])
        np.testing.assert_allclose(out[name].to_numpy(), want.to_numpy(), rtol=1e-12)
    ratio = acc["acc_log_following_per_follower"]
    medians = ratio.groupby(group).median().reindex(["A", "B", "C"])
    np.testing.assert_allclose(
        out["aud_median_log_following_per_follower"].to_numpy(), medians.to_numpy(), rtol=1e-12
    )
    # The model path scores the same accounts: its mean probability per creator.
    m = ToyModel()
    prob = pd.Series(m.predict_fake(acc), index=acc.index)
    mean = prob.groupby(group).mean().reindex(["A", "B", "C"])
    np.testing.assert_allclose(out["aud_fake_prob_mean"].to_numpy(), mean.to_numpy(), rtol=1e-12)


def test_account_features_frame_is_a_fresh_block_of_the_inputs():
    acc = _accounts()
    out = account_features(acc)
    assert list(out.columns) == list(ACCOUNT_FEATURES) and out.index.equals(acc.index)
    # Counts are read without a copy: the features must not write into the caller's arrays.
    before = acc.copy()
    out.loc[:, :] = -1.0
    assert_frame_equal(acc, before)
    assert not np.shares_memory(out.to_numpy(), acc["media_count"].to_numpy())


@given(
    mask=st.lists(st.booleans(), max_size=70),
    cuts=st.lists(st.integers(0, 70), max_size=12),
    packed=st.booleans(),
)
def test_running_count_counts_the_set_rows_before_each_position(mask, cuts, packed):
    # Packed a byte at a time (long masks): positions inside a byte, on its edges and at the
    # very end; or a running sum over the rows (short masks): the same counts.
    m = np.array(mask, dtype=bool)
    positions = np.array(sorted({min(c, len(m)) for c in cuts} | {0, len(m)}), dtype=np.int64)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(audience, "_PACKED_COUNT_ROWS", 0 if packed else 10**9)
        got = audience._running_count(m, positions)
    assert got.dtype == np.int64
    assert got.tolist() == [int(np.count_nonzero(m[:p])) for p in positions]


def _pair_reference(codes: np.ndarray, followers: list) -> np.ndarray:
    """Rows repeating an earlier row's (creator, present follower) pair, known creators only."""
    seen, out = set(), []
    for c, f in zip(codes.tolist(), followers, strict=True):
        present = f is not None and not (isinstance(f, float) and math.isnan(f))
        out.append(c >= 0 and present and (c, f) in seen)
        if c >= 0 and present:
            seen.add((c, f))
    return np.array(out, dtype=bool)


_IDS = st.one_of(
    st.none(),
    st.just(math.nan),
    st.sampled_from(["", "a", "f1", "f2", "u1234567", "u12345678", "é", "😀x"]),
    # Longer than the bytes a key reads: ids that differ only after them share a key.
    st.sampled_from(["x" * 40 + "1", "x" * 40 + "2", "y" * 16]),
)


@given(
    rows=st.lists(st.tuples(st.integers(-1, 3), _IDS), max_size=40),
    hashed=st.booleans(),
)
def test_repeated_pairs_match_a_set_of_seen_pairs(rows, hashed):
    # Both ways (hash table of the ids; keys from their bytes, then the exact check) mark the
    # same rows: every later copy of a (creator, follower) pair, never a missing id.
    codes = np.array([c for c, _ in rows], dtype=np.int64)
    followers = np.array([f for _, f in rows] + [0], dtype=object)[:-1]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(audience, "_HASH_PAIR_ROWS", 0 if hashed else 10**9)
        got = audience._repeated_pairs(codes, followers)
    want = _pair_reference(codes, list(followers))
    known = codes >= 0  # unknown creators' rows are dropped by the caller whatever the mark
    np.testing.assert_array_equal(got[known], want[known])


def test_pair_keys_equal_for_equal_pairs_distinct_for_rows_that_cannot_repeat():
    codes = np.array([0, 0, 1, 0, -1, -1, 0, 0, 0])
    ids = np.array(["abc", "abc", "abc", "abd", "abc", "abc", None, None, "u" * 9], dtype=object)
    keys = audience._pair_keys(codes, ids)
    assert keys[0] == keys[1]  # the same pair
    assert len({int(k) for k in keys[1:]}) == len(keys) - 1  # everything else distinct
    # Ids Arrow cannot take as text: no keys, the caller hashes the ids instead.
    assert audience._pair_keys(codes[:2], np.array([1, 2], dtype=object)) is None


def test_repeated_pairs_on_a_batch_sized_sample_with_shared_and_repeated_followers():
    # Above the size where keys are used: followers shared across creators are not repeats,
    # a follower listed twice for one creator is, whichever path finds it.
    rng = np.random.default_rng(11)
    n = 3 * audience._HASH_PAIR_ROWS
    codes = np.sort(rng.integers(-1, 300, n))
    followers = np.array([f"u{v}" for v in rng.integers(0, 2_000, n)], dtype=object)
    followers[rng.random(n) < 0.01] = None
    got = audience._repeated_pairs(codes, followers)
    want = _pair_reference(codes, list(followers))
    assert want[codes >= 0].sum() > 10  # the sample does repeat some pairs
    np.testing.assert_array_equal(got[codes >= 0], want[codes >= 0])
    unique = np.array([f"u{i}" for i in range(n)], dtype=object)
    assert not audience._repeated_pairs(codes, unique).any()


@given(
    st.lists(
        st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0, 0.27, math.nan])),
        min_size=1,
        max_size=60,
    ),
    st.floats(0.05, 0.95),
)
def test_likelihood_share_of_one_creator_is_its_share_in_a_batch(probs, prior):
    # A one-creator call takes its own steps on Python floats: the same bits as the creator
    # gets among others (which never change a creator's values).
    prob = np.array(probs)
    alone = likelihood_fake_share(prob, np.zeros(len(prob), dtype=np.int64), 1, prior)
    other = np.linspace(0.05, 0.95, 7)
    batch = likelihood_fake_share(
        np.concatenate([other, prob]),
        np.repeat(np.array([0, 1]), [len(other), len(prob)]),
        2,
        prior,
    )
    for a, b in zip(alone, batch, strict=True):
        np.testing.assert_array_equal(a.view(np.int64), b[1:].view(np.int64))


@given(st.lists(st.sampled_from([0.0, 1.0, 0.1, 0.7, 3.5, math.nan]), max_size=30))
def test_group_mean_weighs_unknown_values_out_to_the_same_bits(values):
    # Unknown values weigh 0.0 instead of being selected out: bit for bit the mean of the
    # known values, summed in row order; NaN for a creator without a known value.
    v = np.array(values, dtype="float64")
    codes = np.arange(len(v)) % 3
    got = audience._group_mean(v, codes, 4)
    ok = ~np.isnan(v)
    cnt = np.bincount(codes[ok], minlength=4)
    tot = np.bincount(codes[ok], weights=v[ok], minlength=4)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))
