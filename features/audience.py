"""Audience features: how fake-looking a creator's sampled followers are.

Two levels:

- :func:`account_features` turns follower accounts (``audience_sample`` rows, or ``account_labels``
  rows when training the account model) into per-account numbers. They are chosen to exist in the
  real labelled account datasets too (InstaFake, the Kaggle fake/spammer set, SRF 2017): counts of
  posts, followers and following, profile picture, privacy, bio length, external link and the
  digits in the user name. An account model trained on simulated and real accounts reads them.
- :func:`audience_features` summarises each creator's sample: plain shares of fake-looking traits
  (usable with no model at all) and, given an :class:`AccountModel`, the maximum-likelihood
  estimate of the fake share from the model's calibrated probabilities
  (:func:`likelihood_fake_share`; the flag-count correction :func:`estimate_fake_share` is
  reported next to it by :func:`fake_share_table`).

The thresholds come from the vendors and SRF 2017 (docs: FACTS.md, "Follower accounts"): a mass
follower follows more than 1,500 accounts; fake accounts tend to have no posts, no picture,
following far above followers and digits in the user name; following/posts and following/followers
were SRF's strongest features.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features._series import (
    Segments,
    block_frame,
    creator_codes,
    feature_frame,
    stored,
    stored_values,
)
from features.catalog import Feature

__all__ = [
    "ACCOUNT_FEATURES",
    "FEATURES",
    "MASS_FOLLOWER_FOLLOWING",
    "AccountModel",
    "account_features",
    "audience_features",
    "estimate_fake_share",
    "fake_share_table",
    "likelihood_fake_share",
]

# Vendors (HypeAuditor, infludata, trendHERO) call a follower following more than this a mass
# follower: such accounts see about 10% of posts, so they add followers but not an audience.
MASS_FOLLOWER_FOLLOWING = 1_500.0

ACCOUNT_FEATURES: tuple[str, ...] = (
    "acc_username_digits",
    "acc_username_digit_share",
    "acc_username_length",
    "acc_has_pic",
    "acc_private",
    "acc_bio_length",
    "acc_external_url",
    "acc_full_name_present",
    "acc_full_name_digits",
    "acc_log_media",
    "acc_log_followers",
    "acc_log_following",
    "acc_log_following_per_follower",
    "acc_log_following_per_media",
    "acc_mass_follower",
    "acc_zero_posts",
)

FEATURES: tuple[Feature, ...] = (
    Feature(
        "aud_n_sampled", "follower accounts in the audience sample", "accounts", "audience_sample"
    ),
    Feature(
        "aud_fake_share",
        "estimated share of fake followers: the maximum-likelihood share given the account "
        "model's calibrated probabilities, with its training prevalence divided out (0-1)",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_fake_share_se",
        "standard error of aud_fake_share from the sample (inverse square root of the "
        "observed information)",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_fake_prob_mean",
        "mean calibrated fake probability of the sampled accounts "
        "(lower variance, pulled towards the training prevalence)",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_mass_follower_share",
        "share of sampled followers following more than 1,500 accounts",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_no_pic_share",
        "share of sampled followers without a profile picture",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_private_share",
        "share of sampled followers with a private account",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_zero_posts_share",
        "share of sampled followers that never posted",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_digit_name_share",
        "share of sampled followers with digits in the user name",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_empty_bio_share",
        "share of sampled followers with an empty bio",
        "share",
        "audience_sample",
    ),
    Feature(
        "aud_median_log_following_per_follower",
        "median over the sample of ln((following + 1) / (followers + 1))",
        "log ratio",
        "audience_sample",
    ),
    Feature(
        "aud_median_log_following_per_media",
        "median over the sample of ln((following + 1) / (media_count + 1))",
        "log ratio",
        "audience_sample",
    ),
    Feature(
        "aud_median_log_followers",
        "median over the sample of ln(followers + 1)",
        "log count",
        "audience_sample",
    ),
)


# Column labels built once: a one-creator call would otherwise pay for building them each time.
_ACCOUNT_COLUMNS = pd.Index(ACCOUNT_FEATURES)
_NAMES = [f.name for f in FEATURES]
_COLUMNS = pd.Index(_NAMES)


class AccountModel(Protocol):
    """What :func:`audience_features` needs from a fitted follower-account model.

    Attributes
    ----------
    feature_names : columns of :func:`account_features` the model reads, in order.
    threshold : probability at or above which an account is counted as fake.
    tpr : share of fake accounts flagged at ``threshold``, measured on held-out data.
    fpr : share of real accounts flagged at ``threshold``, measured on held-out data.
    prior : fake share of the accounts the probabilities were calibrated on.
    """

    feature_names: list[str]
    threshold: float
    tpr: float
    fpr: float
    prior: float

    def predict_fake(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each account (row of ``X``) is fake."""
        ...


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    """A column as float64 with NaN for unknown, or all-NaN when the column is absent.

    A float64 column is returned as the frame's own array (no copy): read it, do not write it.
    """
    if col not in df.columns:
        return np.full(len(df), np.nan)
    raw = stored(df, col)
    if raw.dtype == np.float64:  # the loaded counts: NaN is already the missing value
        return np.asarray(raw)
    if isinstance(raw.dtype, pd.BooleanDtype):  # the loaded flags (what Series.to_numpy does)
        return raw.to_numpy(dtype="float64", na_value=np.nan)
    s = df[col]
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype="float64", na_value=np.nan)
    # Object columns from hand-made frames (True/False/None, numbers): unknown stays NaN.
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _str_len(df: pd.DataFrame, col: str, pattern: str | None) -> np.ndarray:
    """Per row: length of a str column after deleting ``pattern`` matches; NaN where None."""
    if col not in df.columns:
        return np.full(len(df), np.nan)
    s = df[col].astype(object).where(df[col].notna(), None)
    out = s if pattern is None else s.str.replace(pattern, "", regex=True)
    out = out.str.len()
    return pd.to_numeric(out, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _lengths_and_digits(df: pd.DataFrame, col: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row: characters and decimal digits of a str column (float64, NaN where unknown)."""
    if col not in df.columns:
        return np.full(len(df), np.nan), np.full(len(df), np.nan)
    stats = _text_stats(stored_values(df, col, object))
    if stats is None:
        return _str_len(df, col, None), _str_len(df, col, r"\D+")
    return stats[0], stats[1]


def _full_name_stats(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row: decimal digits and "present" of ``full_name`` (float64, NaN where unknown)."""
    if "full_name" not in df.columns:
        return np.full(len(df), np.nan), np.full(len(df), np.nan)
    stats = _text_stats(stored_values(df, "full_name", object), present_from=0)
    if stats is None:
        return _str_len(df, "full_name", r"\D+"), _present(df["full_name"])
    return stats[1], stats[2]


# Samples with fewer rows than this measure both name columns as one Arrow array.
_JOINT_TEXT_ROWS = 4096


def _name_stats(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """User name characters and digits, full name digits and "present", per row (float64).

    Below :data:`_JOINT_TEXT_ROWS` rows both name columns go to Arrow as one array, so a call
    for a few accounts pays the conversion's fixed cost once; each row's numbers depend on its
    own text only. Larger samples (and names Arrow cannot take together) are measured a column
    at a time (:func:`_lengths_and_digits`, :func:`_full_name_stats`): joining millions of
    names costs more than the fixed cost it saves.
    """
    n = len(df)
    if n < _JOINT_TEXT_ROWS and "username" in df.columns and "full_name" in df.columns:
        names = [stored_values(df, "username", object), stored_values(df, "full_name", object)]
        both = np.concatenate(names)
        stats = _text_stats(both, present_from=n)
        if stats is not None:
            length, digits, present = stats
            return length[:n], digits[:n], digits[n:], present
    return (*_lengths_and_digits(df, "username"), *_full_name_stats(df))


# Per byte value: True for an ASCII byte that ``str.isspace`` rejects (not tab to carriage
# return, not the separators 0x1C-0x1F, not space), i.e. a row starting with it is "present".
_VISIBLE_ASCII = np.array([b < 0x80 and not chr(b).isspace() for b in range(256)], dtype=bool)


def _text_stats(
    values: np.ndarray, present_from: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    r"""Per row of an object array of str: characters, decimal digits and "present".

    All float64, NaN where the cell is None (or another missing value). "Present" is 1.0 for a
    str with a character that is not whitespace (``str.isspace``), 0.0 for an empty or blank
    one; it is given for the rows from ``present_from`` on (None without it). The whole result
    is None when Arrow cannot take the values as UTF-8 text (non-str cells from hand-made
    frames, lone surrogates): the caller then uses the pandas string methods.

    The values are converted to Arrow once and their bytes are read with NumPy: in a str of
    ASCII bytes only, characters are bytes, digits are the bytes 0-9 (what Python's ``\d``
    matches there) and whitespace is what ``str.isspace`` accepts there (tab to carriage
    return, the separators 0x1C-0x1F, space), digits counted per row from a running count of
    the digit bytes (:func:`_running_count`). Rows with other bytes (other scripts, emoji) are
    measured with Arrow's string kernels, counting ``\p{Nd}`` (the class Python's ``\d``
    matches in str patterns).
    """
    n = len(values)
    try:
        arr = pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    valid = np.ones(n, dtype=bool) if arr.null_count == 0 else _valid(arr)
    offsets, data = _utf8_bytes(arr)
    # Differences of neighbours by slicing: np.diff costs several times more on a few rows.
    nbytes = offsets[1:] - offsets[:-1]

    def per_row(mask: np.ndarray) -> np.ndarray:
        """Bytes of each row where ``mask`` is True (0 for an empty row)."""
        running = _running_count(mask, offsets)
        return running[1:] - running[:-1]

    digits = per_row((data - np.uint8(0x30)) < 10).astype("float64")
    length = nbytes.astype("float64")
    present = None
    if present_from is not None:
        # A row starting with an ASCII byte that is not whitespace is present; the few others
        # (empty, leading blank, another script) are decided by ``str.isspace`` itself.
        # Each row's first byte; an empty row reads its neighbour's, and is not "sure" anyway.
        starts = offsets[present_from:-1]
        first = (
            data[np.minimum(starts, len(data) - 1)]
            if len(data)
            else np.zeros(len(starts), np.uint8)
        )
        sure = _VISIBLE_ASCII[first]
        sure &= nbytes[present_from:] != 0
        present = sure.astype("float64")
        check = np.flatnonzero(~sure & valid[present_from:])
        if check.size:
            texts = arr.take(pa.array(check + present_from)).to_pylist()
            # str.isspace is False for "": "present" is "non-empty and not all whitespace".
            present[check] = [bool(t) and not t.isspace() for t in texts]
    high = data >= 0x80
    other = np.flatnonzero(per_row(high) > 0) if high.any() else []
    if len(other):
        sub = arr.take(pa.array(other))
        length[other] = pc.utf8_length(sub).to_numpy(zero_copy_only=False)
        digits[other] = pc.count_substring_regex(sub, r"\p{Nd}").to_numpy(zero_copy_only=False)
    if arr.null_count:
        unknown = ~valid
        np.copyto(length, np.nan, where=unknown)
        np.copyto(digits, np.nan, where=unknown)
        if present is not None:
            np.copyto(present, np.nan, where=unknown[present_from:])
    return length, digits, present


def _utf8_bytes(arr: pa.LargeStringArray) -> tuple[np.ndarray, np.ndarray]:
    """A large_string array's UTF-8 bytes and row offsets into them (from 0), without copies.

    Both are read-only views of the array's buffers when its offsets start at 0 (an array
    made from values, not sliced).
    """
    _, off_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    data = (
        np.frombuffer(data_buf, dtype=np.uint8)
        if data_buf is not None
        else np.zeros(0, dtype=np.uint8)
    )[offsets[0] : offsets[-1]]
    return (offsets - offsets[0] if offsets[0] else offsets), data


def _valid(arr: pa.Array) -> np.ndarray:
    """Per row of an Arrow array: True where the value is not null, from its validity bitmap.

    Unpacking the bitmap (least significant bit first, as Arrow stores it) gives what
    ``arr.is_valid()`` does, without the cost of a compute call on a few rows.
    """
    bitmap = arr.buffers()[0]
    if bitmap is None:  # no nulls
        return np.ones(len(arr), dtype=bool)
    bits = np.unpackbits(
        np.frombuffer(bitmap, dtype=np.uint8), count=arr.offset + len(arr), bitorder="little"
    )
    return bits[arr.offset :].view(bool)


# Bits set in the first r bits (most significant first, as ``np.packbits`` packs) of a byte.
_LEADING_BITS = np.array([(0xFF << (8 - r)) & 0xFF for r in range(8)], dtype=np.uint8)


# Masks at least this long are packed 8 rows to a byte before the running count.
_PACKED_COUNT_ROWS = 4096


def _running_count(mask: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``np.count_nonzero(mask[:p])`` for each ``p`` of ``positions`` (int64, 0 <= p <= len).

    The mask is packed 8 rows to a byte and counted a byte at a time (``np.bitwise_count``), so
    the running sum runs over an eighth of the rows; a position inside a byte adds the set bits
    before it. Exact integers, as a running sum over every row gives, at about a third of its
    cost over millions of bytes of text. Below :data:`_PACKED_COUNT_ROWS` rows (a call for a
    few creators) packing costs more than it saves, and the running sum runs over the rows.
    """
    if len(mask) < _PACKED_COUNT_ROWS:
        running = np.zeros(len(mask) + 1, dtype=np.int64)
        np.cumsum(mask, dtype=np.int64, out=running[1:])
        return running[positions]
    packed = np.packbits(mask)
    # A zero byte at the end: a position equal to len(mask) may point one byte past the data.
    packed = np.append(packed, np.uint8(0))
    running = np.zeros(len(packed) + 1, dtype=np.int64)
    np.cumsum(np.bitwise_count(packed), dtype=np.int64, out=running[1:])
    byte = positions >> 3
    return running[byte] + np.bitwise_count(packed[byte] & _LEADING_BITS[positions & 7])


def account_features(accounts: pd.DataFrame) -> pd.DataFrame:
    """Per-account float64 features from ``audience_sample`` (or ``account_labels``) columns.

    Parameters
    ----------
    accounts : DataFrame with any of the ``audience_sample`` account columns (``username``,
        ``username_length``, ``username_digit_count``, ``full_name``, ``has_profile_pic``,
        ``is_private``, ``biography_length``, ``has_external_url``, ``media_count``,
        ``followers``, ``following``). An optional ``username_digit_share`` column (digits /
        length, all the Kaggle fake/spammer set gives) fills the share when counts are unknown.

    Returns
    -------
    DataFrame with the index of ``accounts`` and the columns :data:`ACCOUNT_FEATURES`, float64;
    a missing column or an unknown cell gives NaN, never 0.

    Notes
    -----
    The user name wins over ``username_length``/``username_digit_count`` where it is given, row by
    row. Ratios are taken as ``ln((a + 1) / (b + 1))`` so that zero counts (new or empty accounts,
    the interesting ones) stay finite. A ``full_name`` of ``None`` is unknown; an empty or blank
    string is a known "no full name".

    Examples
    --------
    >>> acc = pd.DataFrame({"username": ["anna_1990"], "following": [3000.0], "followers": [9.0]})
    >>> f = account_features(acc)
    >>> f[["acc_username_digits", "acc_username_digit_share", "acc_mass_follower"]].iloc[0].tolist()
    [4.0, 0.4444444444444444, 1.0]
    """
    block = _account_block(accounts)
    return pd.DataFrame(block.T, index=accounts.index, columns=_ACCOUNT_COLUMNS, copy=False)


def _account_block(accounts: pd.DataFrame) -> np.ndarray:
    """:func:`account_features` as one float64 array, a row per feature of ACCOUNT_FEATURES."""
    n = len(accounts)
    name_len, name_digits, full_digits, full_present = _name_stats(accounts)
    known = ~np.isnan(name_len)
    if not known.all():  # every name given (the usual sample): the counts are not read
        name_len = np.where(known, name_len, _num(accounts, "username_length"))
        name_digits = np.where(known, name_digits, _num(accounts, "username_digit_count"))
    digit_share = np.divide(name_digits, name_len, out=np.full(n, np.nan), where=name_len > 0)
    unknown_share = np.isnan(digit_share)
    if unknown_share.any():  # a share given where the counts are not (the Kaggle set)
        digit_share = np.where(unknown_share, _num(accounts, "username_digit_share"), digit_share)

    media = _num(accounts, "media_count")
    followers = _num(accounts, "followers")
    following = _num(accounts, "following")
    # One float64 block, filled column by column and handed to the frame without a copy: at
    # millions of sampled followers, stacking separate columns into a block cost more than
    # computing them.
    block = np.empty((len(ACCOUNT_FEATURES), n))
    col = {name: block[j] for j, name in enumerate(ACCOUNT_FEATURES)}
    col["acc_username_digits"][:] = name_digits
    col["acc_username_digit_share"][:] = digit_share
    col["acc_username_length"][:] = name_len
    col["acc_has_pic"][:] = _num(accounts, "has_profile_pic")
    col["acc_private"][:] = _num(accounts, "is_private")
    col["acc_bio_length"][:] = _num(accounts, "biography_length")
    col["acc_external_url"][:] = _num(accounts, "has_external_url")
    col["acc_full_name_present"][:] = full_present
    col["acc_full_name_digits"][:] = full_digits
    np.log1p(media, out=col["acc_log_media"])
    np.log1p(followers, out=col["acc_log_followers"])
    np.log1p(following, out=col["acc_log_following"])
    np.subtract(
        col["acc_log_following"],
        col["acc_log_followers"],
        out=col["acc_log_following_per_follower"],
    )
    np.subtract(
        col["acc_log_following"], col["acc_log_media"], out=col["acc_log_following_per_media"]
    )
    col["acc_mass_follower"][:] = _flag(following > MASS_FOLLOWER_FOLLOWING, following)
    col["acc_zero_posts"][:] = _flag(media == 0, media)
    return block


def _present(names: pd.Series) -> np.ndarray:
    """1.0 where a str has a non-whitespace character, 0.0 where empty or blank, NaN where None."""
    values = names.to_numpy(dtype=object)
    known = names.notna().to_numpy()
    out = np.full(len(values), np.nan)
    try:
        # str.isspace is False for "", so "present" is "non-empty and not all whitespace".
        text = values[known]
        blank = np.frompyfunc(str.isspace, 1, 1)(text).astype(bool)
        empty = np.frompyfunc(len, 1, 1)(text).astype("int64") == 0
    except TypeError:  # non-str cells: the pandas string methods give those NaN
        stripped = names.astype(object).where(names.notna(), None).str.strip()
        present = (stripped.str.len() > 0).astype(float).where(stripped.notna())
        return present.to_numpy(dtype="float64", na_value=np.nan)
    out[known] = (~blank & ~empty).astype("float64")
    return out


def _flag(condition: np.ndarray, source: np.ndarray) -> np.ndarray:
    """``condition`` as 1.0/0.0, NaN where ``source`` is unknown."""
    out = condition.astype("float64")
    unknown = np.isnan(source)
    if unknown.any():
        np.copyto(out, np.nan, where=unknown)
    return out


def estimate_fake_share(
    n: pd.Series | np.ndarray,
    n_flagged: pd.Series | np.ndarray,
    tpr: float,
    fpr: float,
) -> pd.DataFrame:
    """Fake share per creator from flagged counts, corrected for the classifier's error rates.

    Adjusted classify-and-count (Forman 2008): with ``r = n_flagged / n`` the observed flag rate,
    ``E[r] = tpr * p + fpr * (1 - p)`` for a true fake share ``p``, so
    ``p_hat = (r - fpr) / (tpr - fpr)`` is unbiased, then clipped to [0, 1].

    :func:`fake_share_table` reports it next to ``aud_fake_share``, which is
    :func:`likelihood_fake_share`: both divide out what the model learnt from its training
    accounts, but the likelihood uses each account's probability instead of one threshold, and
    transferred better from simulated to real accounts (docs/evaluation.md).

    Why not the mean of calibrated probabilities: a probability calibrated on training
    data embeds the training prevalence of fakes, so its mean is pulled towards that prevalence
    whenever a creator's true share differs from it -- and the creators that matter sit far from
    it (SRF 2017 found fake shares bimodal across creators, most low, a cluster very high). The
    adjustment only assumes that what a fake (or a real) account looks like does not depend on the
    creator, so ``tpr`` and ``fpr`` carry over, and it is unbiased at every share. Its price is
    variance: ``Var(p_hat) = r (1 - r) / (n (tpr - fpr)^2)``, e.g. sd 0.060 at n = 100,
    tpr = 0.8, fpr = 0.05, p = 0.3 (0.084 at n = 50, 0.042 at n = 200), against 0.046 (0.065,
    0.032) for the share of truly fake accounts; a sampling error that an interval can state
    honestly, where the bias of the mean probability cannot be seen from the sample at all.
    Clipping adds a small upward bias for creators with almost no fakes; ``share_raw`` keeps the
    unclipped, unbiased value. The mean probability is still reported next to it
    (``aud_fake_prob_mean``) as a lower-variance signal for the fraud model.

    Parameters
    ----------
    n : accounts scored per creator (NaN or 0: unknown).
    n_flagged : accounts at or above the model's threshold per creator.
    tpr, fpr : the model's true and false positive rates at that threshold, on held-out data.

    Returns
    -------
    DataFrame (index of ``n`` when it is a Series) with the pieces an interval needs:
    ``n``, ``n_flagged``, ``observed_rate``, ``tpr``, ``fpr``, ``share_raw`` (unclipped) and
    ``fake_share`` (clipped to [0, 1]); NaN where ``n`` is NaN or 0.

    Raises
    ------
    ValueError
        If ``tpr <= fpr``: such a model carries no information about the share.

    Examples
    --------
    >>> estimate_fake_share(np.array([100.0]), np.array([31.0]), tpr=0.8, fpr=0.1)["fake_share"]
    0    0.3
    Name: fake_share, dtype: float64
    """
    tpr, fpr = float(tpr), float(fpr)
    if not (0.0 <= fpr < tpr <= 1.0):
        raise ValueError(
            f"need 0 <= fpr < tpr <= 1 for a fake-share estimate, got tpr={tpr}, fpr={fpr}"
        )
    index = n.index if isinstance(n, pd.Series) else None
    n_arr = np.asarray(n, dtype="float64")
    k_arr = np.asarray(n_flagged, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n_arr > 0, k_arr / n_arr, np.nan)
    raw = (rate - fpr) / (tpr - fpr)
    return pd.DataFrame(
        {
            "n": np.where(n_arr > 0, n_arr, np.nan),
            "n_flagged": np.where(n_arr > 0, k_arr, np.nan),
            "observed_rate": rate,
            "tpr": np.where(n_arr > 0, tpr, np.nan),
            "fpr": np.where(n_arr > 0, fpr, np.nan),
            "share_raw": raw,
            "fake_share": np.clip(raw, 0.0, 1.0),
        },
        index=index,
    )


def likelihood_fake_share(
    prob: np.ndarray,
    codes: np.ndarray,
    size: int,
    prior: float,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood fake share per creator from calibrated fake probabilities.

    A model calibrated on accounts with fake share ``prior`` (``pi0``) gives
    ``q = P(fake | x)`` at that prevalence, so by Bayes each account's likelihood ratio is
    ``lam = f_fake(x) / f_real(x) = q / (1 - q) * (1 - pi0) / pi0``. A creator's sample is a
    mixture ``p f_fake + (1 - p) f_real``, and its log-likelihood in ``p`` is, up to a constant,
    ``l(p) = sum log(1 + p (lam - 1))``: concave, so the maximiser on [0, 1] is unique. It is the
    fixed point of the EM prior adjustment of Saerens, Latinne and Decaestecker (2002), found
    here by Newton steps kept inside a bracket (bisection when a step leaves it), which takes a
    handful of iterations instead of EM's dozens. ``p = 0`` when ``l'(0) <= 0``, ``p = 1`` when
    ``l'(1) >= 0``.

    Like :func:`estimate_fake_share` it assumes that what a fake or a real account looks like
    does not depend on the creator (prior shift only), but it weighs a clear fake more than a
    borderline one, where the flag count treats both alike; so when a source's fakes are easier
    or harder to tell than the training ones, it moves less (docs/evaluation.md). Each
    creator's iterations use its own rows only and stop on its own step, so any chunking of the
    creators gives the same values.

    Parameters
    ----------
    prob : calibrated fake probability per account (NaN: not scored, ignored).
    codes : creator position of each account, in ``0 .. size - 1``.
    size : number of creators.
    prior : fake share the probabilities were calibrated at, in (0, 1).
    tol : convergence tolerance on the share.
    max_iter : cap on Newton steps.

    Returns
    -------
    (share, se) : float64 arrays of length ``size``: the estimate and its standard error from
    the observed information ``sum (lam - 1)^2 / (1 + p (lam - 1))^2``; NaN for creators
    without scored accounts.

    Raises
    ------
    ValueError
        If ``prior`` is not strictly between 0 and 1.

    Examples
    --------
    >>> share, se = likelihood_fake_share(np.array([0.9, 0.1, 0.1, 0.1]), np.zeros(4, int), 1, 0.5)
    >>> round(float(share[0]), 3)
    0.188
    """
    prior = float(prior)
    if not 0.0 < prior < 1.0:
        raise ValueError(f"need 0 < prior < 1 for a fake-share estimate, got {prior}")
    prob = np.asarray(prob, dtype="float64")
    ok = ~np.isnan(prob)
    if not ok.all():
        prob, codes = prob[ok], codes[ok]
    # One error state for the whole estimate: entering one costs about as much as a NumPy
    # call, and only the divisions flagged below may meet a zero or a NaN.
    with np.errstate(divide="ignore", invalid="ignore"):
        return _likelihood(prob, codes, size, prior, tol, max_iter)


def _likelihood(
    prob: np.ndarray, codes: np.ndarray, size: int, prior: float, tol: float, max_iter: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`likelihood_fake_share` on scored accounts (no NaN), under ignored errors."""
    # Isotonic calibration gives exact 0s and 1s: keep every ratio finite and positive.
    q = np.clip(prob, 1e-6, 1.0 - 1e-6)
    # d = q / (1 - q) * ((1 - prior) / prior) - 1 = lam - 1, computed in place (the same
    # operations in the same order, so the same bits) to save a temporary per operation.
    d = np.subtract(1.0, q)
    np.divide(q, d, out=d)
    d *= (1.0 - prior) / prior
    d -= 1.0
    n = np.bincount(codes, minlength=size)
    g0 = np.bincount(codes, weights=d, minlength=size)  # l'(0)
    buf = np.add(d, 1.0)
    g1 = np.bincount(codes, weights=np.divide(d, buf, out=buf), minlength=size)  # l'(1)
    # A creator without rows has l'(0) = 0, so it is never active.
    active = (g0 > 0.0) & (g1 < 0.0)
    # Start at the mean probability: near the answer unless the share is far from the prior
    # (0 / 0 for a creator without rows, whose share is NaN in the end anyway).
    start = np.bincount(codes, weights=q, minlength=size) / n
    # np.clip's result (NaN stays NaN) on one value per creator, without its Python checks.
    np.minimum(np.maximum(start, 0.01, out=start), 0.99, out=start)
    share = np.where(g0 <= 0.0, 0.0, np.where(g1 >= 0.0, 1.0, start))
    if size == 1 and active[0]:
        # One creator (an HTTP request): the same steps on Python floats, without a dozen
        # NumPy calls on arrays of one value per step.
        share[0] = _newton_one(d, codes, float(share[0]), tol, max_iter, buf)
    elif active.any():
        _newton_many(d, codes, n, share, active, tol, max_iter, buf)
    r = _ratio(d, share, codes, buf)
    info = np.bincount(codes, weights=np.multiply(r, r, out=r), minlength=size)
    se = np.sqrt(info)
    np.divide(1.0, se, out=se)  # 1 / 0 = inf for a creator without rows, NaN below
    none = n == 0
    if none.any():
        share[none] = np.nan
        se[none] = np.nan
    return share, se


def _newton_many(
    d: np.ndarray,
    codes: np.ndarray,
    n: np.ndarray,
    share: np.ndarray,
    active: np.ndarray,
    tol: float,
    max_iter: int,
    buf: np.ndarray,
) -> None:
    """:func:`likelihood_fake_share`'s bracketed Newton steps for the ``active`` creators.

    Updates ``share`` (and ``active``) in place. Each active creator's sums use its own rows
    in order, and it stops on its own step. The brackets and steps of creators already done
    are computed too, where that saves selecting the active ones: their share no longer
    changes, so they never enter another creator's values.
    """
    size = len(share)
    lo, hi = np.zeros(size), np.ones(size)
    for _ in range(max_iter):
        if not active.any():
            break
        if n[active].sum() < _SUBSET_SHARE * len(d):
            # Many creators are done: iterate on the rows of the rest only (a subset keeps
            # each creator's rows in order, so its sums are the same).
            rows = np.flatnonzero(active[codes])
            d, codes = d[rows], codes[rows]
        r = _ratio(d, share, codes, buf[: len(d)])
        g = np.bincount(codes, weights=r, minlength=size)
        h = np.bincount(codes, weights=np.multiply(r, r, out=r), minlength=size)
        np.copyto(lo, share, where=g > 0.0)
        np.copyto(hi, share, where=g < 0.0)
        # share + g / h (IEEE addition commutes, so the same bits); 0 / 0 for a creator
        # without rows left, a NaN step that the bisection below replaces.
        step = np.divide(g, h)
        step += share
        mid = np.add(lo, hi)
        mid *= 0.5
        inside = step > lo
        inside &= step < hi
        np.copyto(mid, step, where=inside)  # Newton's step inside the bracket, else bisect
        done = np.abs(np.subtract(mid, share, out=step), out=step) <= tol
        np.copyto(share, mid, where=active)
        active &= ~done


# Newton steps run on the rows of unfinished creators only once these hold fewer than this
# share of the rows iterated so far: selecting them costs about a third of a step.
_SUBSET_SHARE = 0.75


def _newton_one(
    d: np.ndarray, codes: np.ndarray, share: float, tol: float, max_iter: int, buf: np.ndarray
) -> float:
    """:func:`likelihood_fake_share`'s bracketed Newton steps for one creator (codes all 0).

    Every value is what the vectorised loop computes for that creator, operation for
    operation: the sums come from the same ``np.bincount`` over the rows in order, and Python
    floats are the same IEEE doubles as NumPy's. ``g / h`` with ``h == 0`` (never met: ``h`` is a
    sum of squares of nonzero ratios) is NaN or infinite there, so the step is a bisection.
    """
    lo, hi = 0.0, 1.0
    for _ in range(max_iter):
        r = np.multiply(d, share, out=buf)  # d / (1.0 + share * d), as _ratio computes it
        r += 1.0
        np.divide(d, r, out=r)
        g = float(np.bincount(codes, weights=r, minlength=1)[0])
        h = float(np.bincount(codes, weights=np.multiply(r, r, out=r), minlength=1)[0])
        if g > 0.0:
            lo = share
        elif g < 0.0:
            hi = share
        step = share + g / h if h != 0.0 else math.nan
        if not lo < step < hi:
            step = 0.5 * (lo + hi)
        done = abs(step - share) <= tol
        share = step
        if done:
            break
    return share


def _ratio(d: np.ndarray, share: np.ndarray, codes: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``d / (1.0 + share[codes] * d)`` per row, written into ``out``: the same bits, without
    a temporary array per operation."""
    np.take(share, codes, out=out)
    out *= d
    out += 1.0
    return np.divide(d, out, out=out)


def _sample_rows(audience: pd.DataFrame, ids: pd.Index) -> tuple[pd.DataFrame, np.ndarray]:
    """Audience rows of known creators, one per (creator, follower), and their creator codes."""
    codes = creator_codes(ids, stored_values(audience, "creator_id"))
    keep = codes >= 0
    if "follower_id" in audience.columns:
        # The same follower listed twice would be counted twice in every share.
        keep &= ~_repeated_pairs(codes, stored_values(audience, "follower_id"))
    # Most samples have no row to drop: no copy of the table then.
    rows = audience if keep.all() else audience[keep]
    return rows, codes[keep]


# From this many rows, repeated (creator, follower) pairs are first looked for by hashing the
# ids' bytes; below it the hash table of the ids is cheaper than that method's fixed cost.
_HASH_PAIR_ROWS = 4096


def _repeated_pairs(codes: np.ndarray, followers: np.ndarray) -> np.ndarray:
    """True for a row whose (creator code, present follower id) pair an earlier row has.

    Rows without a follower id are never marked; rows of unknown creators (negative codes)
    may be or not, as the caller drops them anyway. Follower ids recur across the creators of
    a batch (one account follows several), so the ids are not distinct even when no pair
    repeats; hashing the ids of half a million rows into one table cost about 60 ms a batch
    chunk. Large inputs first give every pair a 64-bit key from the id's UTF-8 bytes
    (:func:`_pair_keys`): equal pairs have equal keys, so pairs with a key of their own cannot
    repeat, and only the rows sharing a key (usually none) go through the exact look-up, with
    their order kept, so the first of each pair is kept as before.
    """
    rows = None
    if len(codes) >= _HASH_PAIR_ROWS:
        keys = _pair_keys(codes, followers)
        if keys is not None:
            ordered = np.sort(keys)
            shared = ordered[1:][ordered[1:] == ordered[:-1]]
            if not len(shared):
                return np.zeros(len(codes), dtype=bool)
            rows = np.flatnonzero(np.isin(keys, shared))
    sub_codes = codes if rows is None else codes[rows]
    sub_followers = followers if rows is None else followers[rows]
    if _distinct_str(sub_followers):
        # Every follower id a distinct str (a one-creator sample): no pair can repeat, and
        # neither hash pass is needed.
        repeated = np.zeros(len(sub_codes), dtype=bool)
    else:
        # Pairs as int64 keys (creator code, follower code) instead of a two-column
        # duplicated(): rows of unknown creators get negative keys, dropped by the caller.
        follower, uniques = pd.factorize(sub_followers)  # missing -> -1, never a repeat
        key = sub_codes.astype("int64") * np.int64(len(uniques) + 1) + follower
        # A stable sort puts each key's rows in row order: all but the first repeat it.
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        repeated = np.zeros(len(key), dtype=bool)
        repeated[order[1:][ordered[1:] == ordered[:-1]]] = True
        repeated &= follower >= 0
    if rows is None:
        return repeated
    out = np.zeros(len(codes), dtype=bool)
    out[rows] = repeated
    return out


def _distinct_str(values: np.ndarray) -> bool:
    """True when every value is a str and no two are equal (a set of them is a few
    microseconds for a sample, where a factorisation costs tens)."""
    cells = values.tolist()
    try:
        seen = set(cells)
    except TypeError:  # unhashable cells: the factorisation decides (and complains)
        return False
    return len(seen) == len(cells) and all(type(v) is str for v in seen)


# Odd 64-bit multipliers (from splitmix64) weighing the parts of a pair's key.
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93]
    + [0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3],
    dtype=np.uint64,
)
# Low bytes kept of a little-endian 8-byte word holding r bytes of a str (r = 0 .. 8).
_LOW_BYTES = np.array([(1 << (8 * r)) - 1 for r in range(8)] + [2**64 - 1], dtype=np.uint64)
# Bytes of an id that enter its key (8 per word, one multiplier each); longer ids share keys
# more often, and those are checked exactly.
_KEY_WORDS = len(_MIX) - 2


def _pair_keys(codes: np.ndarray, followers: np.ndarray) -> np.ndarray | None:
    """A uint64 key per row of known creator and present str follower id: equal pairs, equal keys.

    The key is a weighted sum (modulo 2^64, odd weights) of the creator code, the id's length in
    UTF-8 bytes and its first bytes, read 8 at a time from the Arrow buffer of the ids. Rows of
    unknown creators and rows without an id get distinct keys of their own. None when Arrow
    cannot take the ids as text (non-str cells): the caller hashes them instead.
    """
    try:
        arr = pa.array(followers, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    offsets, data = _utf8_bytes(arr)
    nbytes = np.diff(offsets)
    starts = offsets[:-1]
    words = min(int(nbytes.max(initial=0) + 7) // 8, _KEY_WORDS)
    # Zero bytes after the data, so that every 8-byte read stays inside the array, and the
    # bytes read as one little-endian uint64 starting at every byte.
    padded = np.concatenate([data, np.zeros(8 * words + 8, np.uint8)])
    at_byte = np.ndarray((len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    key = nbytes.astype(np.uint64) * _MIX[0]
    key += codes.astype(np.uint64) * _MIX[1]
    left = nbytes
    for w in range(words):
        # Bytes past the row's end are zeroed: the key depends on the row's own bytes only.
        word = at_byte[starts + 8 * w]
        word &= _LOW_BYTES[np.clip(left, 0, 8)]
        word *= _MIX[2 + w]
        key += word
        left = left - 8
    # Distinct keys (at the top of the range) for rows that cannot repeat; a key of another
    # row landing there only costs an exact check.
    alone = codes < 0
    if arr.null_count:
        alone |= ~arr.is_valid().to_numpy(zero_copy_only=False)
    if alone.any():
        key[alone] = np.uint64(2**63) + np.arange(int(alone.sum()), dtype=np.uint64)
    return key


def fake_share_table(
    audience: pd.DataFrame | None,
    creators: pd.DataFrame,
    account_model: AccountModel,
) -> pd.DataFrame:
    """Per-creator fake-share estimates with their pieces: counts, error rates, probabilities.

    Parameters
    ----------
    audience : ``audience_sample`` table (loaded representation), or None.
    creators : ``creators`` table; the output has one row per ``creator_id``, in order.
    account_model : fitted :class:`AccountModel`.

    Returns
    -------
    DataFrame indexed by ``creator_id``: ``fake_share`` and ``fake_share_se``
    (:func:`likelihood_fake_share`, what ``aud_fake_share`` holds), ``prob_mean`` (mean
    calibrated fake probability), and the flag-count estimate of :func:`estimate_fake_share`
    with its pieces (``n``, ``n_flagged``, ``observed_rate``, ``tpr``, ``fpr``, ``share_raw``,
    and its clipped value as ``count_share``); NaN for creators without sampled accounts.
    """
    ids = pd.Index(stored(creators, "creator_id"), name="creator_id")
    if audience is None or "creator_id" not in audience.columns or not len(audience):
        scored = _scored(None, np.zeros(0, np.int64), len(ids), account_model)
    else:
        rows, codes = _sample_rows(audience, ids)
        scored = _scored(account_features(rows), codes, len(ids), account_model)
    return _share_table(ids, scored, account_model)


def _scored(
    acc: pd.DataFrame | None,
    codes: np.ndarray,
    size: int,
    model: AccountModel,
    count_flags: bool = True,
) -> dict[str, np.ndarray]:
    """Per creator code: accounts scored and flagged, mean probability, likelihood estimate.

    ``count_flags=False`` leaves out the flagged count ``k`` (only the flag-count estimate of
    :func:`fake_share_table` reads it).
    """
    if acc is None:
        prob = np.zeros(0)
    else:
        names = list(model.feature_names)
        # The model gets exactly its columns, in order; when that is every column (the usual
        # model), the frame itself, without a copy of millions of rows.
        prob = _predict_fake(model, acc if names == list(acc.columns) else acc[names])
        if prob.shape[0] != len(acc):
            raise ValueError(
                f"account model returned {prob.shape[0]} probabilities for {len(acc)} accounts"
            )
    ok = ~np.isnan(prob)
    # Every account scored (the usual case): no copies of the codes and probabilities.
    sc, sp = (codes, prob) if ok.all() else (codes[ok], prob[ok])
    n = np.bincount(sc, minlength=size).astype("float64")
    psum = np.bincount(sc, weights=sp, minlength=size)
    share, se = likelihood_fake_share(prob, codes, size, model.prior)
    mean = np.full(size, np.nan)
    np.divide(psum, n, out=mean, where=n > 0)
    out = {"n": n, "prob_mean": mean, "share": share, "se": se}
    if count_flags:
        out["k"] = np.bincount(sc, weights=sp >= model.threshold, minlength=size)
    return out


def _predict_fake(model: AccountModel, X: pd.DataFrame) -> np.ndarray:
    """``model.predict_fake(X)`` as a flat float64 array.

    One call for all rows: LightGBM already scores the rows on every core (OpenMP), and chunks
    scored from several Python threads only oversubscribed the cores (each call starts its own
    OpenMP team), costing CPU time and wall time alike.
    """
    return np.asarray(model.predict_fake(X), dtype="float64").reshape(-1)


def _share_table(ids: pd.Index, scored: dict[str, np.ndarray], model: AccountModel) -> pd.DataFrame:
    """The likelihood estimate, the mean probability and :func:`estimate_fake_share`'s pieces."""
    return pd.DataFrame(
        {"fake_share": scored["share"], "fake_share_se": scored["se"]}, index=ids
    ).join(
        estimate_fake_share(pd.Series(scored["n"], index=ids), scored["k"], model.tpr, model.fpr)
        .rename(columns={"fake_share": "count_share"})
        .assign(prob_mean=scored["prob_mean"])
    )


def _group_mean(
    values: np.ndarray, codes: np.ndarray, size: int, counts: np.ndarray | None = None
) -> np.ndarray:
    """Mean of the known (non-NaN) values per creator code; NaN where none is known.

    ``counts`` may give ``np.bincount(codes, minlength=size)`` when the caller has it: it is
    the count of known values when every value is known.
    """
    ok = ~np.isnan(values)
    if ok.all():
        cnt = np.bincount(codes, minlength=size) if counts is None else counts
        tot = np.bincount(codes, weights=values, minlength=size)
    else:
        # Unknown values weigh 0.0 instead of being selected out: each sum still adds the
        # known values in row order, and adding 0.0 to a sum that starts at 0.0 never changes
        # it, so the sums are the same bits, without two copies of the selected rows.
        cnt = np.bincount(codes, weights=ok, minlength=size)
        tot = np.bincount(codes, weights=np.where(ok, values, 0.0), minlength=size)
    # Divided only where a value is known (no error state to enter): NaN elsewhere.
    return np.divide(tot, cnt, out=np.full(size, np.nan), where=cnt > 0)


def audience_features(
    audience: pd.DataFrame | None,
    creators: pd.DataFrame,
    account_model: AccountModel | None = None,
) -> pd.DataFrame:
    """Audience-quality features per creator from a sample of its followers.

    Parameters
    ----------
    audience : ``audience_sample`` table in the loaded representation, or None when absent.
    creators : ``creators`` table; the output has exactly its ``creator_id`` values, in order.
    account_model : fitted :class:`AccountModel`; without it ``aud_fake_share`` and
        ``aud_fake_prob_mean`` are NaN and the trait shares still work.

    Returns
    -------
    DataFrame indexed by ``creator_id`` with the float64 columns named in :data:`FEATURES`.
    Shares are over the sampled accounts whose trait is known; a creator without sampled
    accounts, or a trait unknown for all of them, gives NaN, never 0.
    """
    ids = pd.Index(stored(creators, "creator_id"), name="creator_id")
    if audience is None or "creator_id" not in audience.columns or not len(ids):
        return feature_frame({}, _COLUMNS, ids)
    rows, codes = _sample_rows(audience, ids)
    if not len(rows):
        return feature_frame({}, _COLUMNS, ids)
    size = len(ids)
    block = _account_block(rows)
    # The block's rows by name: a frame (and a column look-up per trait) only for the model.
    acc = dict(zip(ACCOUNT_FEATURES, block, strict=True))
    # The result block, NaN until filled, a row per feature written in place: a call for a
    # few creators pays for one array and one frame, not for a column dict copied into them.
    result = np.full((len(_NAMES), size), np.nan)
    put = dict(zip(_NAMES, result, strict=True))
    counts = np.bincount(codes, minlength=size)
    np.copyto(put["aud_n_sampled"], counts, where=counts > 0)

    def trait(name: str, values: np.ndarray) -> None:
        put[name][:] = _group_mean(values, codes, size, counts)

    trait("aud_mass_follower_share", acc["acc_mass_follower"])
    trait("aud_no_pic_share", 1.0 - acc["acc_has_pic"])
    trait("aud_private_share", acc["acc_private"])
    trait("aud_zero_posts_share", acc["acc_zero_posts"])
    digits = acc["acc_username_digits"]
    share = acc["acc_username_digit_share"]
    # A digit share is enough to tell "has digits" when the count is not given.
    has_digits = _flag(digits > 0, digits)
    no_count = np.isnan(digits)
    if no_count.any():
        has_digits = np.where(no_count, _flag(share > 0, share), has_digits)
    trait("aud_digit_name_share", has_digits)
    bio = acc["acc_bio_length"]
    trait("aud_empty_bio_share", _flag(bio == 0, bio))

    # Medians over each creator's rows as segments of code-sorted rows (samples usually come
    # grouped by creator already, so usually without a sort); NaN skipped, NaN if none known.
    order = None if bool(np.all(codes[1:] >= codes[:-1])) else np.argsort(codes, kind="stable")
    seg = Segments.of(codes if order is None else codes[order])
    for name, col in (
        ("aud_median_log_following_per_follower", "acc_log_following_per_follower"),
        ("aud_median_log_following_per_media", "acc_log_following_per_media"),
        ("aud_median_log_followers", "acc_log_followers"),
    ):
        values = acc[col]
        put[name][seg.codes] = seg.median(values if order is None else values[order])

    if account_model is not None:
        frame = pd.DataFrame(block.T, index=rows.index, columns=_ACCOUNT_COLUMNS, copy=False)
        scored = _scored(frame, codes, size, account_model, count_flags=False)
        put["aud_fake_share"][:] = scored["share"]
        put["aud_fake_share_se"][:] = scored["se"]
        put["aud_fake_prob_mean"][:] = scored["prob_mean"]
    return block_frame(result, _COLUMNS, ids)
