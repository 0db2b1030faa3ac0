"""Niche topic vectors from each creator's bio, captions and hashtags.

A creator's text becomes one document (:func:`creator_documents`); a fitted :class:`TopicModel`
maps documents to a distribution over ``n_topics`` topics; :func:`topic_features` turns that into
float columns ``topic_00`` ... plus the dominant topic, how concentrated the niche is and how much
text there was.

Tokens work for any script without a language model: words (runs of letters, marks and digits)
for scripts written with spaces, and overlapping character bigrams for runs of Han, kana, Thai,
Lao, Khmer and Myanmar, which are written without spaces (the CJK bigram scheme of Lucene's
``CJKAnalyzer``). Words inside a hashtag count ``hashtag_weight`` times, words inside a mention
are dropped. Tokenising and hashing are vectorised over the whole batch with NumPy: character
n-grams through scikit-learn's ``TfidfVectorizer`` manage about 530 creators/s on one core, and a
per-token Python loop cannot reach the >= 10,000 creators/s this builder needs.
:func:`topic_features` joins, normalises and encodes all documents of a call once and
lower-cases them through a code point table (:func:`_joined_shares`), with the same result to the
last bit.

Topic shares come from non-negative least squares against the frozen NMF topics, solved with a
fixed number of coordinate-descent sweeps per row, so a creator's vector does not depend on which
other creators are in the batch, up to the last bit: the matrix-vector products of a block of rows
may round differently with the block's size (measured: at most 2.2e-16).
"""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
import weakref
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.decomposition import NMF
from sklearn.preprocessing import normalize
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2
from sklearn.utils.validation import check_is_fitted

from features._series import block_frame, creator_codes, grouped_lexsort
from features.catalog import Feature

__all__ = ["FEATURES", "TopicModel", "creator_documents", "topic_features"]

N_TOPICS = 24

# Topic columns follow ``TopicModel.n_topics``; this tuple lists the default 24.
FEATURES: tuple[Feature, ...] = (
    *(
        Feature(
            f"topic_{k:02d}",
            f"share of the creator's text in topic {k} of the fitted topic model",
            "share 0-1",
            "creators.bio, posts.caption",
        )
        for k in range(N_TOPICS)
    ),
    Feature(
        "topic_dominant",
        "index of the creator's largest topic (a category code, not an amount)",
        "topic index",
        "creators.bio, posts.caption",
    ),
    Feature(
        "topic_concentration",
        "niche focus: 1 - Shannon entropy of the topic shares / log(n_topics); "
        "1 = a single topic, 0 = spread evenly over all",
        "0-1",
        "creators.bio, posts.caption",
    ),
    Feature(
        "topic_text_chars",
        "characters of text the topic vector is based on (bio and the recent captions used); "
        "0 when the creator has no text",
        "characters",
        "creators.bio, posts.caption",
    ),
)

# Text used per creator: 12 recent captions run at ~16,000 creators/s on one core with a niche
# purity of 0.75 on a synthetic 4-language corpus; 20 captions give 0.76 at ~11,000/s.
MAX_CAPTIONS = 12
MAX_CAPTION_CHARS = 300
MAX_BIO_CHARS = 400

# Between two pieces of one creator's document, and after its last piece (see creator_documents).
_SEPARATORS = np.array(["\n", "\x1e"], dtype=object)

# Per fitted model: (components_, its C-ordered transpose, its Gram matrix); see
# TopicModel._products. Weak keys: a model that is no longer used takes its entry with it.
_PRODUCTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_FILES = ("topics.json", "topics_idf.npy", "topics_components.npy")
_FORMAT = "creatorscore.topics/1"

# Token hash: polynomial over code points in the odd multiplier's inverse, modulo 2**64.
_B = 0x9E3779B97F4A7C15
_B_INV = pow(_B, -1, 2**64)
_MAX_WORD_CHARS = 30
# Character classes. Odd classes belong to words (letters and marks, digits); 2 is a script
# written without spaces; whitespace ends a hashtag or mention, punctuation only ends a word.
_SPACE, _LETTER, _NOSPACE, _DIGIT, _PUNCT, _HASH, _AT = 0, 1, 2, 3, 4, 6, 8
# topic_features tokenises a batch from one joined text (about 9 bytes per character at once)
# up to this many characters; longer batches go document by document, a chunk at a time.
_JOINED_MAX_CHARS = 1 << 24
# Up to this many tokens, _scan finds the tokens of '@' marks with one search per token
# (fewer NumPy calls); above it, from the marks (less work when mentions are few).
_FEW_TOKENS = 4096
_NOSPACE_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3005, 0x3007),  # 々 〆 〇
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
)


# --------------------------------------------------------------------------------------------
# Documents


def creator_documents(
    creators: pd.DataFrame,
    posts: pd.DataFrame | None,
    as_of: pd.Series,
    *,
    max_captions: int = MAX_CAPTIONS,
    max_caption_chars: int = MAX_CAPTION_CHARS,
    max_bio_chars: int = MAX_BIO_CHARS,
) -> pd.Series:
    """One text document per creator: the bio, then the most recent captions, newest first.

    Hashtags stay in the captions; the topic model's tokeniser gives words inside a hashtag
    extra weight, so they need no separate copy here. Text is capped so scoring stays fast:
    at most ``max_captions`` captions posted before the end of the creator's ``as_of`` day, each
    cut to ``max_caption_chars`` by keeping its start and its end (where hashtags usually are).

    Parameters
    ----------
    creators : DataFrame
        Contract ``creators`` table (columns creator_id, bio), loaded representation.
    posts : DataFrame or None
        Contract ``posts`` table (creator_id, post_id, posted_at, caption); None = no posts.
    as_of : Series
        Snapshot day per creator_id; posts at or after the next day are ignored. A creator
        missing from ``as_of`` (or NaT) has no cut-off.
    max_captions, max_caption_chars, max_bio_chars : int
        Caps on the text used.

    Returns
    -------
    Series of str indexed by creator_id, in the order of ``creators``; "" when there is no text.

    Examples
    --------
    >>> creators = pd.DataFrame({"creator_id": ["a", "b"], "bio": ["Coach", None]})
    >>> posts = pd.DataFrame({"creator_id": ["a", "a", "b"], "post_id": ["1", "2", "3"],
    ...     "posted_at": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02"]),
    ...     "caption": ["leg day #gym", "too late", None]})
    >>> as_of = pd.Series(pd.to_datetime(["2024-01-02", "2024-01-02"]), index=["a", "b"])
    >>> creator_documents(creators, posts, as_of).tolist()
    ['Coach\\nleg day #gym', '']
    """
    ids, code, text, last = _pieces(
        creators,
        posts,
        as_of,
        max_captions=max_captions,
        max_caption_chars=max_caption_chars,
        max_bio_chars=max_bio_chars,
    )
    docs = _joined_documents(len(ids), code, text, last)
    return pd.Series(docs, index=ids, name="document", dtype=object)


def _joined_documents(n: int, code: np.ndarray, text: list[str], last: np.ndarray) -> np.ndarray:
    """Object array of each creator's document from :func:`_pieces` ("" without text)."""
    # Join each creator's pieces with newlines in one C-level pass: mark the last piece of each
    # creator with a record separator, join everything, split on it. A record separator that is
    # already inside the text would misalign the split (more pieces than creators), so such
    # text loses it first.
    # Pieces and separators interleaved in one list: no concatenated str per piece.
    joined: list = [None] * (2 * len(text))
    joined[0::2] = text
    joined[1::2] = _SEPARATORS[last.view(np.uint8)].tolist()
    pieces = "".join(joined).split("\x1e")
    if len(pieces) != int(last.sum()) + 1:
        joined[0::2] = [t.replace("\x1e", " ") for t in text]
        pieces = "".join(joined).split("\x1e")
    docs = np.full(n, "", dtype=object)
    docs[code[last]] = pieces[:-1]
    return docs


def _pieces(
    creators: pd.DataFrame,
    posts: pd.DataFrame | None,
    as_of: pd.Series,
    *,
    max_captions: int = MAX_CAPTIONS,
    max_caption_chars: int = MAX_CAPTION_CHARS,
    max_bio_chars: int = MAX_BIO_CHARS,
) -> tuple[pd.Index, np.ndarray, list[str], np.ndarray]:
    """The non-empty pieces of every document: (ids, creator position, text, last of its creator).

    Pieces come in document order (by creator, the bio first, then the captions newest first);
    ``last`` marks each creator's last piece. Creators without text have no piece.
    """
    ids = pd.Index(creators["creator_id"], name="creator_id")
    bio = _clip(_as_text(creators["bio"]), max_bio_chars)
    codes_parts = [np.arange(len(ids), dtype=np.int64)]
    text_parts = [bio]
    # (No creators: no caption is theirs, and there is no cut-off to look up.)
    if posts is not None and len(posts) and max_captions > 0 and len(ids):
        code, _, caption = _recent_captions(ids, posts, as_of, max_captions)
        codes_parts.append(code)
        text_parts.append(_clip(caption, max_caption_chars))
    code = np.concatenate(codes_parts)
    text = np.concatenate(text_parts)
    keep = np.flatnonzero(text != "")
    # Pieces in (creator, rank) order: the bio first, then the captions newest first. Each part
    # is already in that order (one bio per creator; captions by creator, then rank), so a
    # stable sort on the creator alone puts the pieces in order.
    order = np.argsort(code[keep], kind="stable")
    code, text = code[keep[order]], text[keep[order]].tolist()
    last = np.ones(len(code), dtype=bool)
    last[:-1] = code[1:] != code[:-1]
    return ids, code, text, last


def _as_text(values: pd.Series | np.ndarray) -> np.ndarray:
    """Object array of str with None/NaN as ""."""
    # Series.to_numpy skips the __array__ protocol np.asarray goes through (a few
    # microseconds a call); np.where with an object array already gives a new object array.
    if isinstance(values, pd.Series):
        arr = values.to_numpy(dtype=object)
    else:
        arr = np.asarray(values, dtype=object)
    return np.where(pd.isna(arr), "", arr)


def _clip(text: np.ndarray, limit: int) -> np.ndarray:
    """Cut texts longer than ``limit`` to their first and last ``limit // 2`` characters."""
    lens = np.fromiter(map(len, text), dtype=np.int64, count=len(text))
    long = np.flatnonzero(lens > limit)
    if long.size:
        text = text.copy()
        half = max(limit // 2, 1)
        text[long] = [t[:half] + " " + t[-half:] for t in text[long]]
    return text


def _recent_captions(
    ids: pd.Index, posts: pd.DataFrame, as_of: pd.Series, max_captions: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(creator position, recency rank, caption) of each creator's newest captions before as_of."""
    code = creator_codes(ids, posts["creator_id"])
    caption = posts["caption"].to_numpy(dtype=object)
    posted = posts["posted_at"].to_numpy(dtype="datetime64[ns]")
    cutoff = _cutoffs(ids, as_of)
    ok = (code >= 0) & ~pd.isna(caption)
    limit = cutoff[np.where(ok, code, 0)]
    # NaT as_of: no cut-off; a post without a time cannot be placed before a cut-off.
    ok &= ~np.isnat(posted) & (np.isnat(limit) | (posted < limit))
    # Row numbers are sorted, not the captions: only the kept captions are picked at the end
    # (picking a str cell writes to it, its reference count, a memory write per caption).
    rows = np.flatnonzero(ok)
    code, newest = code[rows], -posted[rows].view(np.int64)
    # Newest first per creator; equal times fall back to post_id so that which captions are
    # kept never depends on row order (Spark hands rows over in any order).
    # One creator (a scoring request): a stable sort on the time alone is the same permutation.
    order = np.argsort(newest, kind="stable") if len(ids) == 1 else grouped_lexsort((newest, code))
    tie = (code[order][1:] == code[order][:-1]) & (newest[order][1:] == newest[order][:-1])
    if tie.any():
        # Only the tied posts need their post_id's rank; ranks among them order each tied group
        # as ranks among all posts would.
        tied = np.zeros(len(order), dtype=bool)
        tied[1:] |= tie
        tied[:-1] |= tie
        at = order[tied]
        post_id = posts["post_id"].to_numpy(dtype=object)[rows[at]]
        rank = np.zeros(len(order), dtype=np.int64)
        rank[at] = pd.factorize(post_id.astype(str), sort=True)[0]
        order = grouped_lexsort((rank, newest, code))
    code, rows = code[order], rows[order]
    first = np.ones(len(code), dtype=bool)
    np.not_equal(code[1:], code[:-1], out=first[1:])
    # Position within the creator's rows: the position minus that of the creator's first row.
    rank = np.arange(len(code))
    rank -= np.maximum.accumulate(np.where(first, rank, 0))
    keep = rank < max_captions
    return code[keep], rank[keep], caption[rows[keep]]


_DAY_NS = 86_400 * 10**9
_NAT = np.iinfo(np.int64).min
# Far from the ends of the int64 range, where pandas raises on overflow instead.
_SAFE_NS = -(_NAT + 2 * _DAY_NS)


def _cutoffs(ids: pd.Index, as_of: pd.Series) -> np.ndarray:
    """The midnight after each creator's ``as_of`` day, datetime64[ns] in the order of ``ids``.

    An ``as_of`` that is already datetime64[ns] over ``ids`` (what ``resolve_as_of`` gives) is
    floored to its day in int64 arithmetic; the pandas chain below costs about 0.2 ms per call
    whatever the number of creators. Both give the same instants, NaT for NaT.
    """
    if (
        isinstance(as_of, pd.Series)
        and as_of.dtype == np.dtype("datetime64[ns]")
        and as_of.index.equals(ids)
    ):
        ns = as_of.to_numpy().view(np.int64)
        nat = ns == _NAT
        if (nat | ((ns > -_SAFE_NS) & (ns < _SAFE_NS))).all():
            # np.remainder takes the sign of the divisor: days before 1970 floor as well.
            out = ns - np.remainder(ns, _DAY_NS) + _DAY_NS
            out[nat] = _NAT
            return out.view("datetime64[ns]")
    day = pd.Series(as_of).astype("datetime64[ns]").dt.normalize()
    return (day + pd.Timedelta(days=1)).reindex(ids).to_numpy(dtype="datetime64[ns]")


# --------------------------------------------------------------------------------------------
# Tokens


@lru_cache(maxsize=1)
def _class_table() -> np.ndarray:
    """Token class of every code point (``_SPACE`` ... ``_AT``), built once per process."""
    table = np.full(0x110000, _PUNCT, dtype=np.uint8)
    # Planes 0-1 from the Unicode database; planes 2-3 hold the CJK extensions.
    major = np.array([unicodedata.category(chr(i)) for i in range(0x20000)])
    first = major.astype("<U1")
    table[:0x20000][np.isin(first, ["L", "M"])] = _LETTER
    table[:0x20000][first == "N"] = _DIGIT
    table[:0x20000][np.isin(major, ["Zs", "Zl", "Zp", "Cc"])] = _SPACE
    table[0x20000:0x40000] = _NOSPACE
    for lo, hi in _NOSPACE_RANGES:
        block = table[lo : hi + 1]
        block[(block & 1) == 1] = _NOSPACE
    table[ord("#")], table[ord("@")] = _HASH, _AT
    return table


@lru_cache(maxsize=1)
def _lower_table() -> tuple[np.ndarray, str]:
    """What ``str.lower`` makes of each code point on its own, built once per process.

    Returns the table (uint32 by code point) and, as a str, the code points it cannot stand
    for: those whose lower case is not a single code point (U+0130, which the table maps to
    itself), and capital sigma (U+03A3), whose lower case depends on its neighbours (the one
    context rule of ``str.lower``).
    """
    table = np.arange(0x110000, dtype=np.uint32)
    # No code point from U+20000 on has a lower-case mapping (the tests check every one). One
    # str.lower over all the others, each followed by a NUL (neither cased nor case-ignorable,
    # so no code point sees a neighbour), instead of a call per code point: 5-10 times faster.
    cps = table[1:0x20000]
    spaced = np.zeros(2 * cps.size, dtype="<u4")
    spaced[0::2] = cps
    text = spaced.tobytes().decode("utf-32-le", "surrogatepass").lower()
    low = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    end = np.flatnonzero(low == 0)  # the NUL after each code point's lower case
    first = np.concatenate([[0], end[:-1] + 1])
    one = end - first == 1
    special = cps[~one].tolist()
    table[1:0x20000] = np.where(one, low[first], cps)
    return table, "".join(map(chr, special)) + "\u03a3"


@lru_cache(maxsize=4)
def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``B_INV**j`` and ``B**j`` modulo 2**64 for j < size (uint64 arithmetic wraps)."""
    inv = np.full(size, _B_INV, dtype=np.uint64)
    fwd = np.full(size, _B, dtype=np.uint64)
    inv[0] = fwd[0] = 1
    return np.cumprod(inv), np.cumprod(fwd)


def _prepare(documents: Iterable[str | None] | pd.Series) -> list[str]:
    """Documents as NFKC-normalised lower-case str; None/NaN become ""."""
    if isinstance(documents, str | bytes):
        raise TypeError("expected an iterable of text documents, got a single string")
    arr = np.asarray(list(documents) if not hasattr(documents, "__len__") else documents, object)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-d sequence of text documents, got shape {arr.shape}")
    bad = [v for v in arr if not (isinstance(v, str) or v is None or v is pd.NA or v != v)]
    if bad:
        raise TypeError(f"documents must be str or None, got {type(bad[0]).__name__}")
    text = _as_text(arr)
    # NFKC folds full-width letters and the full-width '#' into their plain forms.
    return [unicodedata.normalize("NFKC", t).lower() if t else "" for t in text]


def _chunks(texts: list[str], max_chars: int = 1 << 20) -> list[tuple[int, int]]:
    """Consecutive (start, stop) document ranges of about ``max_chars`` characters each."""
    return _chunk_bounds(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)), max_chars)


def _chunk_bounds(lens: np.ndarray, max_chars: int = 1 << 20) -> list[tuple[int, int]]:
    """:func:`_chunks` of documents of the given lengths."""
    ends = np.cumsum(lens + 1)
    if len(ends) and ends[-1] <= max_chars:  # one chunk (every call for a few creators)
        return [(0, len(lens))]
    bounds = [0]
    while bounds[-1] < len(lens):
        base = ends[bounds[-1] - 1] if bounds[-1] else 0
        stop = int(np.searchsorted(ends, base + max_chars, side="right"))
        bounds.append(max(stop, bounds[-1] + 1))
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def _tokens(
    texts: list[str], hashtag_weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Tokens of prepared documents: (doc, hash, weight, start, length, joined text).

    Words are runs of letters, marks and digits with 2-30 characters, not all digits; runs in
    scripts without spaces give overlapping character bigrams (a lone character gives itself).
    Tokens after a '#' up to the next whitespace weigh ``hashtag_weight``; tokens after an '@'
    up to the next whitespace (a handle) are dropped. A token's hash is
    ``sum(code_point[j] * B_INV**j) mod 2**64`` over its characters, as :func:`_hash_terms`
    computes it for the token's string. Each step is one NumPy pass over the batch's text.
    """
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    # A separator before and after every document: every run starts and ends inside ``big``.
    big = "\x00" + "\x00".join(texts) + "\x00"
    cp = np.frombuffer(big.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    # take rather than fancy indexing: the same values in about half the time.
    cls = _class_table().take(cp)
    doc_start = np.cumsum(lens + 1) - lens  # position of each document's first character
    return (*_scan(cp, cls, doc_start, hashtag_weight), big)


def _scan(
    cp: np.ndarray, cls: np.ndarray, doc_start: np.ndarray, hashtag_weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_tokens` of prepared text given as code points: (doc, hash, weight, start, length).

    ``cls`` is the class of each code point; ``doc_start`` the position of each document's
    first character, non-decreasing (an empty document may share the next one's). Every
    document is preceded and followed by a whitespace separator, ``cp`` begins and ends with
    one, and no token crosses one. Hashes do not depend on where the text sits in ``cp``.
    """
    word = (cls & 1).view(bool)
    edges = np.flatnonzero(word[1:] != word[:-1]) + 1
    w_start, w_end = edges[0::2], edges[1::2]
    w_len = w_end - w_start
    ok = (w_len >= 2) & (w_len <= _MAX_WORD_CHARS)
    w_start, w_end, w_len = w_start[ok], w_end[ok], w_len[ok]
    digit = np.flatnonzero(cls == _DIGIT)
    if digit.size and w_start.size:  # drop words made only of digits (years, prices)
        holder = np.searchsorted(w_start, digit, side="right") - 1
        inside = (holder >= 0) & (digit < w_end[np.maximum(holder, 0)])
        n_digits = np.bincount(holder[inside], minlength=w_start.size)
        ok = n_digits < w_len
        w_start, w_len = w_start[ok], w_len[ok]

    ns = np.flatnonzero(cls == _NOSPACE)
    joined = ns[1:] == ns[:-1] + 1
    lone = np.ones(ns.size, dtype=bool)
    lone[1:] &= ~joined
    lone[:-1] &= ~joined
    ns_start = np.concatenate([ns[:-1][joined], ns[lone]])
    ns_len = np.concatenate([np.full(int(joined.sum()), 2), np.ones(int(lone.sum()), np.int64)])
    order = np.argsort(ns_start, kind="stable")
    start = np.concatenate([w_start, ns_start[order]])
    length = np.concatenate([w_len, ns_len[order]])

    weight = np.ones(start.size)
    n_words = w_start.size
    marks = np.flatnonzero(cls >= _HASH)
    if marks.size:
        space = np.flatnonzero(cls == _SPACE)
        stop = space[np.searchsorted(space, marks)]  # the final separator bounds every search
        # Each mark spans the tokens after it up to the next whitespace, words and bigrams
        # alike; '#' marks weigh their tokens, '@' marks drop them.
        is_at = cls.take(marks) == _AT
        weight[_spanned(start, marks[~is_at], stop[~is_at])] = hashtag_weight
        if is_at.any():
            if start.size > _FEW_TOKENS:
                # Mentions are few next to tokens: find their tokens from the marks.
                keep = np.ones(start.size, dtype=bool)
                words, bigrams = start[:n_words], start[n_words:]
                keep[_marked(words, bigrams, marks[is_at], stop[is_at])] = False
            else:
                # Fewer NumPy calls, each on a few elements (one creator's text).
                keep = ~_spanned(start, marks[is_at], stop[is_at])
            n_words = int(np.count_nonzero(keep[:n_words]))
            start, length, weight = start[keep], length[keep], weight[keep]

    inv, fwd = _powers(_pow_size(cp.size))
    prefix = np.multiply(cp, inv[: cp.size], dtype=np.uint64)
    np.cumsum(prefix, out=prefix)
    end = start + length
    hashes = (prefix.take(end - 1) - prefix.take(start - 1)) * fwd.take(start)
    # Words and bigrams are each sorted by start, so each document's tokens of a kind are one
    # run, found by searching for the documents' starts.
    if doc_start.size == 1:
        return np.zeros(start.size, dtype=np.int64), hashes, weight, start, length
    doc = np.empty(start.size, dtype=np.int64)
    doc[:n_words] = _owners(start[:n_words], doc_start)
    doc[n_words:] = _owners(start[n_words:], doc_start)
    return doc, hashes, weight, start, length


def _spanned(start: np.ndarray, mark: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Whether each token start lies inside a mark's span (mark, stop).

    ``mark`` is sorted and ``stop`` is the first whitespace after each mark, so stops never
    decrease: when any mark before a token spans it, the last mark before it does. One search
    per token; a token never starts on a mark or a whitespace, so "before" needs no tie rule.
    """
    # Index 0 stands for "no mark before": a stop of 0 spans nothing.
    last = np.searchsorted(mark, start)
    return start < np.concatenate([np.zeros(1, stop.dtype), stop])[last]


def _marked(
    words: np.ndarray, bigrams: np.ndarray, mark: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """Positions in ``words`` then ``bigrams`` (token starts, each sorted) of the tokens that start
    inside a mark's span (mark, stop): its tokens up to the next whitespace.

    Each mark's tokens are found by searching for its span's ends among the token starts (a
    token never starts on a mark or a whitespace): for few marks, cheaper than
    :func:`_spanned`'s search per token. A token in two spans is listed twice.
    """
    lo = np.concatenate([words.searchsorted(mark, "right"), bigrams.searchsorted(mark, "right")])
    hi = np.concatenate([words.searchsorted(stop), bigrams.searchsorted(stop)])
    lo[mark.size :] += words.size
    hi[mark.size :] += words.size
    return _runs(lo, hi)


def _runs(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The integers of the ranges [lo, hi), range after range (none where hi <= lo)."""
    size = hi - lo
    ok = size > 0
    lo, size = lo[ok], size[ok]
    if not lo.size:
        return np.zeros(0, dtype=np.int64)
    # Steps of 1, except at each range's first position: the jump from the last range's end.
    step = np.ones(int(size.sum()), dtype=np.int64)
    first = np.cumsum(size) - size
    step[0] = lo[0]
    step[first[1:]] = lo[1:] - (lo[:-1] + size[:-1] - 1)
    return np.cumsum(step)


def _owners(start: np.ndarray, doc_start: np.ndarray) -> np.ndarray:
    """Document of each sorted token start: the last document starting at or before it."""
    first = start.searchsorted(doc_start)
    count = np.empty_like(first)
    np.subtract(first[1:], first[:-1], out=count[:-1])
    count[-1] = start.size - first[-1]
    return np.repeat(np.arange(doc_start.size), count)


def _pow_size(n: int) -> int:
    """Power table size for ``n`` code points: a power of two, so few tables get cached."""
    # (n - 1).bit_length() is ceil(log2(n)) for n >= 1, in integer arithmetic.
    return max(1 << 20, 1 << (max(n, 1) - 1).bit_length())


def _hash_terms(terms: list[str]) -> np.ndarray:
    """Token hashes of term strings, as :func:`_tokens` computes them for the same text."""
    lens = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    cp = np.frombuffer(("\x00" + "".join(terms)).encode("utf-32-le", "surrogatepass"), "<u4")
    start = np.cumsum(lens) - lens + 1
    inv, fwd = _powers(_pow_size(cp.size))
    prefix = np.multiply(cp, inv[: cp.size], dtype=np.uint64)
    np.cumsum(prefix, out=prefix)
    return (prefix[start + lens - 1] - prefix[start - 1]) * fwd[start]


# --------------------------------------------------------------------------------------------
# Model


class TopicModel(TransformerMixin, BaseEstimator):
    """TF-IDF over script-aware tokens, then NMF topics; documents map to topic shares.

    Parameters
    ----------
    n_topics : int, default=24
        Number of NMF topics.
    max_features : int, default=20000
        Vocabulary size: the terms in the most documents, after ``min_df`` and ``max_df``.
    min_df : int, default=2
        A term must appear in at least this many training documents.
    max_df : float, default=0.5
        Terms in more than this share of training documents are dropped (stop words in any
        language, without a stop-word list).
    hashtag_weight : float, default=3.0
        How many times a word inside a hashtag counts; hashtags are the strongest niche signal.
    sublinear_tf : bool, default=True
        Use ``1 + log(tf)`` so that one repeated word cannot dominate a creator's vector.
    max_iter : int, default=400
        NMF fitting iterations (coordinate descent).
    transform_sweeps : int, default=30
        Coordinate-descent sweeps of the per-document non-negative least squares in
        :meth:`transform`; fixed, so a row's result never depends on the rest of the batch.
    random_state : int, default=0
        Seed for NMF.

    Attributes
    ----------
    terms_ : list of str
        Vocabulary, in column order.
    idf_ : ndarray of shape (n_terms,)
        Smoothed inverse document frequency, ``log((1 + n) / (1 + df)) + 1``.
    components_ : ndarray of shape (n_topics, n_terms)
        Topic term weights, each row scaled to unit Euclidean norm.
    topic_labels_ : list of str
        The three heaviest terms of each topic, e.g. ``"gym / workout / protein"``.

    Notes
    -----
    scikit-learn's generic estimator checks feed numeric 2-d arrays; this model takes a 1-d
    sequence of text, so only the API checks that do not fit on numbers apply (see the tests).

    Examples
    --------
    >>> docs = ["gym workout #fitness", "workout protein #gym", "pasta recipe #food",
    ...         "recipe dinner #pasta"]
    >>> model = TopicModel(n_topics=2, min_df=1, max_df=1.0).fit(docs)
    >>> shares = model.transform(["protein workout", "dinner pasta", ""])
    >>> shares.round(2).tolist()[:2], bool(np.isnan(shares[2]).all())
    ([[1.0, 0.0], [0.0, 1.0]], True)
    """

    def __init__(
        self,
        n_topics: int = N_TOPICS,
        *,
        max_features: int = 20_000,
        min_df: int = 2,
        max_df: float = 0.5,
        hashtag_weight: float = 3.0,
        sublinear_tf: bool = True,
        max_iter: int = 400,
        transform_sweeps: int = 30,
        random_state: int = 0,
    ):
        self.n_topics = n_topics
        self.max_features = max_features
        self.min_df = min_df
        self.max_df = max_df
        self.hashtag_weight = hashtag_weight
        self.sublinear_tf = sublinear_tf
        self.max_iter = max_iter
        self.transform_sweeps = transform_sweeps
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, documents: Iterable[str | None], y=None) -> TopicModel:
        """Learn the vocabulary, idf and NMF topics from training documents.

        Parameters
        ----------
        documents : sequence of str or None
            One document per creator (:func:`creator_documents`).
        y : ignored

        Returns
        -------
        self
        """
        texts = _prepare(documents)
        n_docs = len(texts)
        doc, hashes, weight, where, bigs = _all_tokens(texts, self.hashtag_weight)
        # Document frequency per distinct hash, and one spelling of each for the vocabulary.
        order = np.lexsort((doc, hashes))
        h_sorted, d_sorted = hashes[order], doc[order]
        new_term = np.r_[True, h_sorted[1:] != h_sorted[:-1]]
        new_pair = new_term | np.r_[True, d_sorted[1:] != d_sorted[:-1]]
        term_first = np.flatnonzero(new_term)
        df = np.zeros(0, dtype=np.int64)
        if term_first.size:
            df = np.add.reduceat(new_pair.astype(np.int64), term_first)
        ok = (df >= self.min_df) & (df <= self.max_df * n_docs)
        terms = [bigs[c][s : s + n] for c, s, n in where[order[term_first[ok]]].tolist()]
        df = df[ok]
        # Most frequent first; ties by the term itself so the vocabulary is reproducible.
        rank = sorted(range(len(terms)), key=lambda i: (-df[i], terms[i]))[: self.max_features]
        if len(rank) < self.n_topics or n_docs < self.n_topics:
            raise ValueError(
                f"{n_docs} documents with {len(rank)} terms passing min_df={self.min_df} and "
                f"max_df={self.max_df} cannot make n_topics={self.n_topics} topics"
            )
        self.terms_ = [terms[i] for i in rank]
        self.idf_ = np.log((1.0 + n_docs) / (1.0 + df[rank].astype(np.float64))) + 1.0
        self._index_terms()
        x = self._tfidf(doc, hashes, weight, n_docs)
        nmf = NMF(
            n_components=self.n_topics,
            init="nndsvda",
            solver="cd",
            max_iter=self.max_iter,
            random_state=self.random_state,
        )
        nmf.fit(x)
        comp = nmf.components_.astype(np.float64)
        norms = np.linalg.norm(comp, axis=1, keepdims=True)
        self.components_ = np.divide(comp, norms, out=np.zeros_like(comp), where=norms > 0)
        self.topic_labels_ = self._labels()
        return self

    def _index_terms(self) -> None:
        """A hash table from term hash to column, for vectorised vocabulary look-up."""
        hashes = _hash_terms(self.terms_)
        if len(np.unique(hashes)) < len(hashes):
            raise ValueError("two vocabulary terms share a hash; the vocabulary is corrupt")
        self._term_index = pd.Index(hashes)

    def _tfidf(
        self, doc: np.ndarray, hashes: np.ndarray, weight: np.ndarray, n_docs: int
    ) -> sp.csr_matrix:
        """L2-normalised tf-idf rows from token hashes; unknown tokens are dropped."""
        col = self._term_index.get_indexer(hashes)
        known = col >= 0
        shape = (n_docs, len(self.terms_))
        if n_docs == 1:
            # The arrays the (data, (row, col)) form hands to sum_duplicates for one row (its
            # entries in input order), without building the COO matrix first.
            indptr = np.array([0, int(known.sum())])
            x = sp.csr_matrix((weight[known], col[known], indptr), shape=shape)
            x.sum_duplicates()
        else:
            x = _summed_weights(doc, col, weight, shape)
            if x is None:
                x = sp.csr_matrix((weight[known], (doc[known], col[known])), shape=shape)
                x.sum_duplicates()
        if self.sublinear_tf:
            np.log(x.data, out=x.data)
            x.data += 1.0
        x.data *= self.idf_[x.indices]
        if x.data.dtype == np.float64:
            # What normalize(x, norm="l2", copy=False) runs on a float64 CSR matrix, without
            # its argument checks (a fixed cost per call).
            inplace_csr_row_normalize_l2(x)
            return x
        return normalize(x, norm="l2", copy=False)

    def _labels(self, n_terms: int = 3) -> list[str]:
        """Each topic's heaviest terms joined with " / "."""
        top = np.argsort(-self.components_, axis=1, kind="stable")[:, :n_terms]
        return [" / ".join(self.terms_[j] for j in row) for row in top.tolist()]

    # -- mapping ---------------------------------------------------------------------------

    def transform(self, documents: Iterable[str | None]) -> np.ndarray:
        """Topic shares of each document.

        Parameters
        ----------
        documents : sequence of str or None

        Returns
        -------
        ndarray of shape (n_documents, n_topics)
            Non-negative rows summing to 1; NaN rows for documents with no known term.
        """
        check_is_fitted(self, ("components_", "idf_", "terms_"))
        texts = _prepare(documents)
        parts = ((a, b, *_tokens(texts[a:b], self.hashtag_weight)[:3]) for a, b in _chunks(texts))
        return self._map(len(texts), parts)

    def _map(
        self, n_docs: int, parts: Iterable[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]
    ) -> np.ndarray:
        """Topic shares of ``n_docs`` documents from their tokens, chunk by chunk.

        ``parts`` gives (start, stop, doc, hash, weight) per chunk of documents, ``doc``
        counted from the chunk's first document, as :func:`_tokens` gives them.
        """
        comp_t, gram = self._products()
        out = np.full((n_docs, gram.shape[0]), np.nan)
        for a, b, doc, hashes, weight in parts:
            x = self._tfidf(doc, hashes, weight, b - a)
            out[a:b] = _shares(_nnls(np.asarray(x @ comp_t), gram, self.transform_sweeps))
        return out

    def _products(self) -> tuple[np.ndarray, np.ndarray]:
        """``components_.T`` in C order and the Gram matrix ``components_ @ components_.T``.

        Made once per ``components_`` array (a new array, as :meth:`fit` and :meth:`load` assign,
        makes them anew) rather than on every call: for one document they cost more than the
        rest of the mapping. ``x @ comp_t`` is the product ``x @ components_.T`` computes, which
        copies the transposed view to C order itself before the same sparse kernel.
        """
        comp = self.components_
        cached = _PRODUCTS.get(self)
        if cached is None or cached[0] is not comp:
            cached = (comp, np.ascontiguousarray(comp.T), comp @ comp.T)
            _PRODUCTS[self] = cached
        return cached[1], cached[2]

    def transform_brief(self, texts: str | Iterable[str | None]) -> np.ndarray:
        """Map brand briefs (or any free text) into the creators' topic space.

        Parameters
        ----------
        texts : str or sequence of str
            One brief, or one per brand.

        Returns
        -------
        ndarray of shape (n_texts, n_topics), rows summing to 1 (NaN: no known term).

        Examples
        --------
        >>> docs = ["gym workout #fitness", "workout protein #gym", "pasta recipe #food",
        ...         "recipe dinner #pasta"]
        >>> model = TopicModel(n_topics=2, min_df=1, max_df=1.0).fit(docs)
        >>> model.transform_brief("Protein bars for your workout").round(2).tolist()
        [[1.0, 0.0]]
        """
        return self.transform([texts] if isinstance(texts, str) else texts)

    # -- files -----------------------------------------------------------------------------

    def save(self, folder: str | Path) -> dict[str, str]:
        """Write the fitted model as JSON and ``.npy`` files (no pickle).

        Returns
        -------
        dict
            ``{file name: sha256}`` of the files written, for :meth:`load`.
        """
        check_is_fitted(self, ("components_", "idf_", "terms_"))
        meta = {"format": _FORMAT, "params": self.get_params(), "terms": self.terms_}
        files = {
            "topics.json": json.dumps(
                meta, ensure_ascii=False, sort_keys=True, indent=1, allow_nan=False
            ).encode("utf-8"),
            "topics_idf.npy": _npy_bytes(self.idf_),
            "topics_components.npy": _npy_bytes(self.components_),
        }
        root = Path(folder)
        root.mkdir(parents=True, exist_ok=True)
        out = {}
        for name, data in files.items():
            (root / name).write_bytes(data)
            out[name] = hashlib.sha256(data).hexdigest()
        return out

    @classmethod
    def load(cls, folder: str | Path, checksums: Mapping[str, str] | None = None) -> TopicModel:
        """Read a model written by :meth:`save`, rebuilding the vocabulary look-up.

        Parameters
        ----------
        folder : path
        checksums : dict, optional
            ``{file name: sha256}`` as returned by :meth:`save`; when given, every file must
            match before anything is parsed (the bytes checked are the bytes parsed).

        Raises
        ------
        ValueError
            Naming the file, when a checksum is missing or differs, or a file is malformed.
        """
        root = Path(folder)
        raw = {}
        for name in _FILES:
            path = root / name
            if not path.is_file():
                raise ValueError(f"{path}: topic model file is missing")
            raw[name] = path.read_bytes()
            if checksums is not None:
                if name not in checksums:
                    raise ValueError(f"{path}: no SHA-256 given for this file; refusing it")
                digest = hashlib.sha256(raw[name]).hexdigest()
                if digest != checksums[name]:
                    raise ValueError(
                        f"{path}: SHA-256 mismatch (expected {checksums[name]}, got {digest}); "
                        "the file was modified, refusing to load it"
                    )
        try:
            meta = json.loads(raw["topics.json"].decode("utf-8"))
            if meta.get("format") != _FORMAT:
                raise ValueError(f"unknown format {meta.get('format')!r}")
            model = cls(**meta["params"])
            terms = meta["terms"]
            if not (isinstance(terms, list) and all(isinstance(t, str) for t in terms)):
                raise ValueError("terms must be a list of strings")
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            msg = f"{root / 'topics.json'}: not a valid topic model file: {err}"
            raise ValueError(msg) from err
        idf = _npy_load(root / "topics_idf.npy", raw["topics_idf.npy"], (len(terms),))
        comp = _npy_load(
            root / "topics_components.npy",
            raw["topics_components.npy"],
            (model.n_topics, len(terms)),
        )
        model.terms_, model.idf_, model.components_ = terms, idf, comp
        model._index_terms()
        model.topic_labels_ = model._labels()
        return model


# Whole-number token weights below 2**_WEIGHT_BITS ride in the low bits of a sort key.
_WEIGHT_BITS = 8


def _summed_weights(
    row: np.ndarray, col: np.ndarray, weight: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix | None:
    """``csr_matrix((weight, (row, col)), shape)`` with duplicates summed, when the weights allow.

    Entries with a negative ``col`` (tokens outside the vocabulary) are left out. The result is
    the matrix scipy makes from the other entries, with sorted column indices per row and each
    (row, col) entry the sum of its weights, built from one sort of int64 keys instead of COO
    conversion and a per-row index sort (about half the time). Only for weights that are whole
    numbers in [0, 2**_WEIGHT_BITS): their sums are exact in any order, so they equal scipy's
    float sums to the last bit. Returns None for any other weights (or keys that would not fit
    in int64).
    """
    n_rows, n_cols = shape
    limit = 1 << _WEIGHT_BITS
    if n_rows * n_cols >= 1 << (62 - _WEIGHT_BITS):
        return None
    if not (((weight >= 0) & (weight < limit)).all() and np.array_equal(np.floor(weight), weight)):
        return None
    # (row, col, weight) in one key: one mask and one sort instead of one per array.
    key = (row.astype(np.int64) * n_cols + col) << _WEIGHT_BITS
    key |= weight.astype(np.int64)
    key = key[col >= 0]
    if not key.size:
        return sp.csr_matrix(shape, dtype=np.float64)
    key.sort()
    pair = key >> _WEIGHT_BITS
    first = np.empty(key.size, dtype=bool)
    first[0] = True
    np.not_equal(pair[1:], pair[:-1], out=first[1:])
    at = np.flatnonzero(first)
    data = np.add.reduceat(key & (limit - 1), at).astype(np.float64)
    pair = pair[at]
    rows = pair // n_cols
    # The index dtype scipy picks for the same matrix: int32 whenever it can hold every index.
    idx = np.int32 if max(n_cols, at.size) <= np.iinfo(np.int32).max else np.int64
    indptr = np.searchsorted(rows, np.arange(n_rows + 1)).astype(idx)
    x = sp.csr_matrix((data, (pair - rows * n_cols).astype(idx), indptr), shape=shape)
    x.has_canonical_format = True
    return x


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(arr, dtype="<f8"), allow_pickle=False)
    return buf.getvalue()


def _npy_load(path: Path, data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """A finite float64 array of ``shape`` from ``.npy`` bytes, never unpickling anything."""
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise ValueError(f"{path}: not a valid .npy array: {err}") from err
    if arr.dtype != np.dtype("<f8") or arr.shape != shape or not np.isfinite(arr).all():
        raise ValueError(
            f"{path}: expected finite float64 of shape {shape}, got {arr.dtype} {arr.shape}"
        )
    return arr


def _all_tokens(
    texts: list[str], hashtag_weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Tokens of all documents, chunk by chunk: doc, hash, weight, (chunk, start, length), texts."""
    parts, bigs = [], []
    for c, (a, b) in enumerate(_chunks(texts)):
        doc, hashes, weight, start, length, big = _tokens(texts[a:b], hashtag_weight)
        where = np.column_stack([np.full(start.size, c), start, length])
        parts.append((doc + a, hashes, weight, where))
        bigs.append(big)
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.uint64), empty.astype(float), np.zeros((0, 3), int), []
    doc, hashes, weight, where = (np.concatenate(p) for p in zip(*parts, strict=True))
    return doc, hashes, weight, where, bigs


def _nnls(xht: np.ndarray, gram: np.ndarray, sweeps: int) -> np.ndarray:
    """Non-negative W minimising ``||X - W H||`` row by row, by coordinate descent (HALS).

    ``xht`` is ``X @ H.T`` and ``gram`` is ``H @ H.T``. Every row is updated independently for a
    fixed number of sweeps, starting from zero as scikit-learn's NMF does with fixed topics.

    A sweep is a fixed function of W, so once W repeats bit for bit the rest is known: a sweep
    that leaves W unchanged leaves it so for good, and when W equals its value two sweeps back
    it alternates between its last two values (rows often end in such a last-bit cycle). The
    loop stops there and returns what the remaining sweeps would reach, to the last bit.
    """
    n, k = xht.shape
    diag = np.diag(gram).copy()
    diag[diag <= 0] = 1.0
    if n == 1 and k > 1 and xht.dtype == gram.dtype == np.float64:
        return _nnls_row(xht[0], gram, diag, sweeps)[None, :]
    w = np.zeros((n, k), order="F")
    xht = np.asfortranarray(xht)
    # The column views, buffers and ufuncs bound once: the loop runs sweeps * k times whatever
    # the number of rows, so for a few documents its per-step Python cost is the whole cost.
    # Same operations in the same order as step = (xht[:, t] - w @ gram[:, t]) / diag[t], with
    # out given positionally where NumPy allows it (no keyword parsing). The Gram column stays
    # a strided view: BLAS rounds some rows of a small block differently for a contiguous one.
    cols = [(w[:, t], xht[:, t], gram[:, t], diag[t]) for t in range(k)]
    step, zeros = np.empty(n), np.zeros(n)
    matmul, subtract, divide, add, maximum = np.matmul, np.subtract, np.divide, np.add, np.maximum
    # W after the previous two sweeps, compared as bytes in memory order (-0.0 and NaN compare
    # exactly; unequal bytes usually differ early, so the comparison stops early).
    last, before = w.tobytes("A"), b""
    for done in range(1, sweeps + 1):
        for w_t, x_t, g_t, d_t in cols:
            matmul(w, g_t, out=step)
            subtract(x_t, step, step)
            divide(step, d_t, step)
            add(w_t, step, step)
            maximum(step, zeros, out=w_t)
        now = w.tobytes("A")
        if now == last:
            break
        if now == before:
            if (sweeps - done) % 2:
                w = np.frombuffer(last).reshape(k, n).T.copy(order="F")
            break
        before, last = last, now
    return w


def _nnls_row(xht: np.ndarray, gram: np.ndarray, diag: np.ndarray, sweeps: int) -> np.ndarray:
    """:func:`_nnls` of one row (``xht`` of shape (k,)), with the same result to the last bit.

    The block loop spends about 3 us of NumPy call overhead per step on a one-element array.
    Here the step's scalar arithmetic runs on Python floats, which round as NumPy's float64
    ufuncs do (IEEE 754 double, one operation at a time), and the one vector operation, the dot
    product of W with a column of the Gram matrix, is the BLAS call that ``w @ g_t`` makes for
    a single row: NumPy's ``dot`` of a contiguous vector with the same strided column.
    """
    k = xht.shape[0]
    w = np.zeros(k)
    dot, cell = w.dot, memoryview(w)
    steps = list(zip(range(k), gram.T, xht.tolist(), diag.tolist(), strict=True))
    values = [0.0] * k
    last, before = w.tobytes(), b""
    for done in range(1, sweeps + 1):
        for t, g_t, x_t, d_t in steps:
            step = values[t] + (x_t - float(dot(g_t))) / d_t
            # np.maximum(step, 0.0): NaN stays NaN. (step is never -0.0: W starts at +0.0,
            # and +0.0 plus anything is not -0.0.)
            values[t] = cell[t] = 0.0 if step < 0.0 else step
        now = w.tobytes()
        if now == last:
            break
        if now == before:
            if (sweeps - done) % 2:
                w = np.frombuffer(last).copy()
            break
        before, last = last, now
    return w


def _shares(w: np.ndarray) -> np.ndarray:
    """Rows scaled to sum 1; all-zero rows become NaN."""
    total = w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, w / total, np.nan)


# --------------------------------------------------------------------------------------------
# Features


def _joined_shares(
    model: TopicModel, n: int, code: np.ndarray, text: list[str], last: np.ndarray
) -> np.ndarray | None:
    """``model.transform`` of the creators' documents, made from their pieces (:func:`_pieces`).

    The same numbers to the last bit, with less work per creator than making each document a
    str, preparing it and joining each chunk again: all documents are joined once, with a record
    separator before each and after the last, NFKC-normalised and encoded once, lower-cased
    through a code point table, and tokenised chunk by chunk from slices of the code points.
    Normalising and lower-casing the joined text gives the documents' own results joined by
    the same separators: a record separator or a newline (which also separates pieces) is left
    alone by NFKC and never composes with a neighbour, and it is neither cased nor
    case-ignorable, so ``str.lower``'s final-sigma context stops at it. When the text holds a
    code point the table cannot lower-case (see :func:`_lower_table`), ``str.lower``
    lower-cases the whole text instead.

    Returns None when this does not apply: a record separator inside the text (the documents
    replace it), or more than ``_JOINED_MAX_CHARS`` characters.
    """
    check_is_fitted(model, ("components_", "idf_", "terms_"))
    joined: list = [None] * (2 * len(text) + 1)
    joined[0] = "\x1e"
    joined[1::2] = text
    joined[2::2] = _SEPARATORS[last.view(np.uint8)].tolist()
    big = "".join(joined)
    if len(big) > _JOINED_MAX_CHARS:
        return None
    big = unicodedata.normalize("NFKC", big)
    table, special = _lower_table()
    if any(c in big for c in special):
        # str.lower's own result; the table is not needed.
        big, table = big.lower(), None
    cp = np.frombuffer(big.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    sep = np.flatnonzero(cp == 0x1E)
    owner = code[last]  # the creators with text, ascending
    if sep.size != owner.size + 1:
        return None
    # Each document's first position; a creator without text shares the next document's (the
    # end of the text after the last one), so a chunk is the slice between two of them. The
    # table maps one code point to one, so lengths and positions hold for the lower case.
    start = np.full(n + 1, cp.size, dtype=np.int64)
    start[owner] = sep[:-1] + 1
    start = np.minimum.accumulate(start[::-1])[::-1]
    lens = np.zeros(n, dtype=np.int64)
    lens[owner] = sep[1:] - sep[:-1] - 1
    classes = _class_table()

    def parts() -> Iterable[tuple[int, int, np.ndarray, np.ndarray, np.ndarray]]:
        for a, b in _chunk_bounds(lens):
            lo, hi = start[a] - 1, start[b]
            # Table look-ups a chunk at a time: about half the time of one over the batch.
            low = cp[lo:hi] if table is None else table.take(cp[lo:hi])
            cls = classes.take(low)
            yield (a, b, *_scan(low, cls, start[a:b] - lo, model.hashtag_weight)[:3])

    return model._map(n, parts())


def topic_features(
    creators: pd.DataFrame,
    posts: pd.DataFrame | None,
    as_of: pd.Series,
    model: TopicModel | None,
) -> pd.DataFrame:
    """Topic columns per creator: shares, dominant topic, concentration and text length.

    Parameters
    ----------
    creators, posts : DataFrame
        Contract tables, loaded representation; ``posts`` may be None.
    as_of : Series
        Snapshot day per creator_id; later posts are ignored.
    model : TopicModel or None
        Fitted model; None gives NaN topic columns (``topic_text_chars`` is still measured).

    Returns
    -------
    DataFrame indexed by creator_id in the order of ``creators``, float64 columns
    ``topic_00`` ... ``topic_{n_topics-1}``, ``topic_dominant``, ``topic_concentration``,
    ``topic_text_chars`` (see ``FEATURES``). Topic shares are NaN when the creator has no text
    with a term the model knows.
    """
    ids, code, text, last = _pieces(creators, posts, as_of)
    n = len(ids)
    k = model.n_topics if model is not None else N_TOPICS
    # Mapped from the joined text, one creator (a scoring request) as well: fewer steps than
    # making its document and preparing it on its own, with the same numbers.
    shares = _joined_shares(model, n, code, text, last) if model is not None else None
    if shares is not None:
        # len of each document: its pieces and the newlines between them.
        size = np.fromiter(map(len, text), dtype=np.float64, count=len(text)) + 1.0
        # (bincount gives int64 when there is nothing to count.)
        chars = np.bincount(code, weights=size, minlength=n).astype(np.float64, copy=False)
        chars[code[last]] -= 1.0
    else:
        docs = _joined_documents(n, code, text, last)
        shares = np.full((n, k), np.nan) if model is None else model.transform(docs)
        chars = np.fromiter(map(len, docs), dtype=np.float64, count=n)
    known = ~np.isnan(shares).any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(shares > 0, shares * np.log(shares), 0.0)
    entropy = -plogp.sum(axis=1)
    concentration = 1.0 - entropy / np.log(k) if k > 1 else np.ones(n)
    # The frame feature_frame would make, filled block-wise: one (columns, rows) float64 block,
    # whose transposed view pandas keeps without a copy. Rows of known shares hold no NaN, so
    # their argmax needs no NaN masking; the other rows are NaN anyway.
    block = np.empty((k + 3, n))
    block[:k] = shares.T
    block[k] = np.where(known, np.argmax(shares, axis=1), np.nan)
    block[k + 1] = np.where(known, concentration, np.nan)
    block[k + 2] = chars
    return block_frame(block, _columns(k), ids)


@lru_cache(maxsize=8)
def _columns(k: int) -> pd.Index:
    """The output columns for ``k`` topics, built once: a columns Index made from a list of
    names on every call is most of the cost of wrapping the block for a handful of creators."""
    names = [f"topic_{j:02d}" for j in range(k)]
    return pd.Index([*names, "topic_dominant", "topic_concentration", "topic_text_chars"])
