"""Comment-quality features: how much of a creator's comment sample looks bought or pod-made.

Bought and pod comments are short and interchangeable ("wow", "nice pic", a row of emoji, a bare
@mention), come from the same small set of accounts on post after post, repeat the same text, and
arrive within the first hour after posting (engagement pods: 20-200 accounts engaging in the first
hour, Weerasinghe et al., WWW 2020). One to three suspicious comments out of 20 are normal; half is
alarming (HypeAuditor). Sources: docs FACTS.md, "Comments and likes".

Texts are classified once per distinct text (bought comments repeat, so there are far fewer
distinct texts than comments) with vectorised pandas string methods and Arrow's regex kernels;
everything per creator is ``np.bincount`` or a groupby with built-in aggregations over integer
creator codes.
"""

from __future__ import annotations

import ctypes
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from features._series import (
    creator_codes,
    feature_frame,
    run_lengths,
    run_starts,
    stored,
    stored_values,
)
from features.catalog import Feature

__all__ = ["FEATURES", "GENERIC_PHRASES", "SPAM_PATTERNS", "classify_texts", "comment_features"]

# Words that, alone or strung together ("wow amazing pic", "que linda foto"), make a comment that
# could sit under any post: praise, fillers and the photo words they attach to. A comment is
# generic when, after dropping @mentions, emoji and punctuation, *every* word is on this list, so
# a real remark that merely contains "great" is not generic. Several languages, because creators
# and their commenters write in many; English praise is common under posts in any language.
# fmt: off
GENERIC_PHRASES: tuple[str, ...] = (
    # English
    "nice", "wow", "great", "love", "love it", "love this", "loved it", "amazing", "awesome",
    "beautiful", "gorgeous", "cool", "cute", "so cute", "perfect", "stunning", "lovely", "pretty",
    "good", "good job", "great job", "well done", "keep it up", "keep going", "super", "fantastic",
    "incredible", "fab", "fabulous", "brilliant", "excellent", "best", "fire", "lit", "dope",
    "goals", "queen", "king", "omg", "lol", "haha", "yes", "yay", "wonderful", "adorable",
    "nice pic", "nice one", "nice shot", "nice post", "nice feed", "great content", "pic", "pics",
    "picture", "photo", "photos", "shot", "post", "feed", "content", "look", "looks", "looking",
    "you", "your", "you're", "are", "so", "very", "really", "too", "just", "this", "is", "it",
    "the", "a", "and", "such", "oh my god",
    # Spanish / Portuguese
    "que", "qué", "muy", "tan", "hermosa", "hermoso", "hermosas", "bonita", "bonito", "linda",
    "lindo", "lindas", "me encanta", "encanta", "genial", "precioso", "preciosa", "increíble",
    "bella", "bello", "guapa", "guapo", "espectacular", "divina", "divino", "foto", "fotos",
    "amei", "maravilhosa", "maravilhoso", "perfeita", "perfeito", "top", "show", "demais",
    "incrível", "arrasou", "lacrou", "muito", "boa", "bom",
    # French
    "trop", "très", "beau", "belle", "belle photo", "magnifique", "superbe", "génial", "j'adore",
    "adore", "sublime", "trop bien", "bravo", "canon", "jolie", "joli",
    # German
    "toll", "tolles", "schön", "schöne", "schönes", "sehr", "wunderschön", "mega", "geil", "klasse",
    "hammer", "bild", "cooles", "der", "die", "das", "ist",
    # Italian
    "bellissima", "bellissimo", "bellissime", "stupenda", "stupendo", "che", "bello", "brava",
    "fantastica", "fantastico", "molto", "meravigliosa", "complimenti",
    # Turkish
    "harika", "çok", "güzel", "süper", "muhteşem", "mükemmel", "efsane",
    # Indonesian / Malay
    "keren", "mantap", "bagus", "cantik", "kak", "banget",
    # Russian
    "класс", "супер", "круто", "красиво", "красота", "шикарно", "огонь", "прекрасно", "очень",
    "топ", "вау", "красотка",
    # Arabic
    "جميل", "جميلة", "رائع", "رائعة", "ماشاء الله", "ما شاء الله", "واو", "حلو",
    # Hindi (Devanagari and the Latin spelling comments mostly use)
    "बहुत", "सुंदर", "बढ़िया", "वाह", "mast", "zabardast", "bahut", "badhiya", "sundar", "wah",
    "kya", "baat",
)
# fmt: on

# Promotion and follow-for-follow spam, matched anywhere in the text: these phrases are the point
# of the comment whatever surrounds them.
SPAM_PATTERNS: tuple[str, ...] = (
    r"\bfollow\s*(?:me\s*)?back\b",
    r"\bfollow\s*me\b",
    r"\b(?:f4f|l4l|like4like|follow4follow|followforfollow|likeforlike|s4s|sub4sub)\b",
    r"\bcheck\s+(?:your\s+|my\s+|ur\s+|the\s+)?(?:dm|dms|inbox|page|profile|bio)\b",
    r"\b(?:dm|message|text)\s+(?:me|us)\b",
    r"\bsend\s+(?:a\s+)?(?:pic|dm|message)\s+to\b",
    r"\bpromot(?:e|ion)\s+(?:it\s+)?on\b",
    r"\bcollab\s*\?",
    r"\bsígueme\b|\bsigueme\b|\bsígame\b",
    r"\bsegue\s+de\s+volta\b|\bsigo\s+de\s+volta\b",
    r"\bfolge?\s+mir\b|\bfolgt\s+mir\b",
    r"\bsuivez[- ]moi\b|\babonne[- ]toi\b",
    r"\btakip\s+et\b|\bgeri\s+takip\b",
    r"\bfollback\b|\bfolbek\b",
    r"подпишись|взаимн",
)

# Emoji and pictographs (no \p{Emoji} in Python's re): symbol and pictograph blocks, dingbats,
# regional-indicator flags, skin-tone modifiers, variation selectors, joiners and keycaps.
_EMOJI = (
    "["
    "\U0001f000-\U0001faff"
    "\u2190-\u21ff\u2300-\u23ff\u2460-\u24ff\u25a0-\u27bf\u2900-\u297f\u2b00-\u2bff"
    "\u3030\u303d\u3297\u3299\u00a9\u00ae\u203c\u2049\u2122\u2139"
    "\ufe0e\ufe0f\u200d\u20e3"
    "\U000e0020-\U000e007f"
    "]"
)
_MENTION = r"@[\w.]+"
# Mentions, and everything that is neither a letter/digit nor a combining mark of Indic, Arabic,
# Hebrew or Thai script (Python's \w misses those marks and would cut words in half). Emoji and
# punctuation fall in the second class.
_NOT_WORDS = (
    r"(?:@[\w.]+|_|[^\w\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f"
    r"\u0670\u06d6-\u06ed\u0900-\u0963\u0966-\u0dff\u0e31\u0e34-\u0e3a\u0e47-\u0e4e])+"
)
_REPEATS = r"(.)\1+"  # "wooow", "niiice", "coool" -> one letter; applied to the list as well


def _words(folded: pd.Series) -> pd.Series:
    """Words of case-folded text, single-spaced, without mentions, emoji, punctuation, repeats."""
    t = folded.str.replace(_NOT_WORDS, " ", regex=True)
    return t.str.replace(_REPEATS, r"\1", regex=True).str.strip()


def _generic_words() -> list[str]:
    """The words of each listed phrase (single-spaced), each once, longest first."""
    words = _words(pd.Series(GENERIC_PHRASES, dtype=object).str.casefold()).drop_duplicates()
    # Longest first so that the alternation prefers whole phrases.
    return sorted(words[words.str.len() > 0], key=len, reverse=True)


def _generic_regex() -> str:
    one = "(?:" + "|".join(map(re.escape, _generic_words())) + ")"
    return rf"{one}(?: {one})*"


_GENERIC_RE = _generic_regex()
# Every word of a generic text is a word of some listed phrase (the pattern is phrases joined by
# single spaces), so a text with any other word needs no match against the long alternation.
_GENERIC_VOCABULARY = frozenset(" ".join(_generic_words()).split(" "))
_SPAM_RE = "(?:" + "|".join(SPAM_PATTERNS) + ")"
_SPAM = re.compile(_SPAM_RE)
_MENTION_PY = re.compile(_MENTION)
_REPEATS_PY = re.compile(_REPEATS)
_GENERIC_PY = re.compile(_GENERIC_RE)


def _first_group(match: re.Match) -> str:
    return match.group(1)


# Arrow's regex engine (RE2) runs over all texts in one C pass, but its \b and \s are ASCII-only
# where Python's are Unicode. Dropping every \b (an assertion: dropping it only allows more
# matches) and spelling \s as every character ``str.isspace`` accepts (what Python's \s matches)
# gives a pattern that matches at least wherever the Python one does; Python's own pattern then
# decides on those few candidates, so the result is exactly Python's.
_PY_SPACE = "[" + "".join(f"\\x{{{i:x}}}" for i in range(0x3001) if chr(i).isspace()) + "]"
_SPAM_CANDIDATE = _SPAM_RE.replace(r"\b", "").replace(r"\s", _PY_SPACE)
# Every match of SPAM_PATTERNS contains one of these strings (each pattern's literal part), so a
# text without any cannot be spam. Few texts (a call for a handful of creators) are tested with
# them in Python: compiling the candidate pattern in RE2 costs more than searching a few hundred
# short texts, and the few texts holding a needle are decided by the full pattern.
_SPAM_NEEDLES: tuple[str, ...] = (
    "follow", "f4f", "l4l", "like4like", "likeforlike", "s4s", "sub4sub", "check", "dm",
    "message", "text", "send", "promot", "collab", "sígueme", "sigueme", "sígame", "volta",
    "folg", "suivez", "abonne", "takip", "follback", "folbek", "подпишись", "взаимн",
)  # fmt: skip
_EMOJI_PY = re.compile(_EMOJI)
# Up to this many distinct texts, the Python regexes; beyond, Arrow's kernels (one C pass each,
# after a fixed cost of a few hundred microseconds for compiling the patterns).
_FEW_TEXTS = 512


# _NOT_WORDS with "\n" neither a word nor "not words": strings joined by "\n" are worked on
# in one pass, each as on its own (no match reaches across a "\n"; none of _REPEATS either,
# as "." does not match it).
_NOT_WORDS_LINES = re.compile(_NOT_WORDS.replace(r"[^\w", r"[^\n\w"))


def _token_words(tokens: list[str]) -> dict[str, str]:
    """The words of each distinct whitespace-free token, single-spaced, plus a trailing space
    ("" if none), from one regex pass over all the tokens.

    A token of letters and digits only (``str.isalnum`` is what ``\\w`` matches, less "_") is
    its own words; only the others can lose mentions, emoji and punctuation.
    """
    plain = [t for t in tokens if t.isalnum()]
    other = [t for t in tokens if not t.isalnum()]
    cut = _NOT_WORDS_LINES.sub(" ", "\n".join(other)).split("\n") if other else []
    words = plain + [" ".join(c.split()) for c in cut]
    squeezed = _REPEATS_PY.sub(_first_group, "\n".join(words)).split("\n") if words else []
    return {t: w + " " if w else "" for t, w in zip(plain + other, squeezed, strict=True)}


def _words_by_token(norm: list[str]) -> list[str]:
    """What :func:`_words` gives for each case-folded text, from its single-spaced form
    (``" ".join(t.split())``), each distinct token worked out once.

    Comment texts are a few thousand distinct words recombined, so there are far fewer distinct
    tokens than texts. The result is the same: whitespace is "not words" (removed), and an
    @mention ends at whitespace, so each token's words do not depend on its neighbours; a run
    of equal letters lies within one word, so squeezing repeats token by token squeezes the
    same runs; and the text's words are its tokens' words joined by single spaces.
    """
    # No token holds a space: splitting all texts joined gives every token ("" for a blank).
    piece = _token_words(list(set(" ".join(norm).split(" ")) - {""}))
    piece[""] = ""
    # Every non-empty piece ends with the one space that separates it from the next.
    return ["".join(map(piece.__getitem__, t.split(" ")))[:-1] for t in norm]


def _generic_of(words: list[str]) -> dict[str, bool]:
    """Whether each distinct words string is generic praise (non-empty, only listed phrases)."""
    # Texts that differ only in emoji, punctuation or spacing share their words: one match each.
    return {
        w: bool(w)
        and _GENERIC_VOCABULARY.issuperset(w.split(" "))
        and _GENERIC_PY.fullmatch(w) is not None
        for w in dict.fromkeys(words)
    }


def _holding_needle(norm: list[str]) -> np.ndarray:
    """Which single-spaced texts hold one of :data:`_SPAM_NEEDLES` (as do the texts they come
    from: a needle holds no whitespace).

    Each needle is looked for with ``str.find`` over all texts joined by "\n" (which no needle
    holds, so a hit lies within one text): a few fast scans instead of a regex alternation,
    which Python's engine tries at every character of every text.
    """
    joined = "\n".join(norm)
    hits = []
    for needle in _SPAM_NEEDLES:
        at = joined.find(needle)
        while at >= 0:
            hits.append(at)
            at = joined.find(needle, at + 1)
    out = np.zeros(len(norm), dtype=bool)
    if hits:  # text i ends right before ends[i] (its "\n"); a hit belongs to the first end past it
        ends = np.cumsum(np.fromiter(map(len, norm), np.int64, len(norm)) + 1)
        out[np.searchsorted(ends, hits, side="right")] = True
    return out


def _where(arr: pa.Array, pattern: str, *, regex: bool) -> np.ndarray:
    """Boolean mask of the texts ``arr`` containing ``pattern`` (False for null)."""
    hit = (pc.match_substring_regex if regex else pc.match_substring)(arr, pattern)
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)


def _search(texts: list[str], pattern: re.Pattern, candidates: np.ndarray) -> np.ndarray:
    """Python ``pattern.search`` on the ``candidates`` rows (str) only; False elsewhere."""
    out = np.zeros(len(texts), dtype=bool)
    rows = np.flatnonzero(candidates)
    out[rows] = [pattern.search(texts[i]) is not None for i in rows.tolist()]
    return out


def _all_str(values: np.ndarray, known: np.ndarray) -> bool:
    """Whether every known cell of the object array ``values`` is a str."""
    return all(isinstance(v, str) for v in values[known].tolist())


def _classify(values: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The columns of :func:`classify_texts` for an object array of texts: float64 classes by
    name, and ``norm`` (object)."""
    known = ~pd.isna(values)
    arr = texts = None
    if _all_str(values, known):
        # All str: case-folded in one list pass (what .str.casefold() does, without the pandas
        # wrappers' fixed cost per call), "" for unknown texts.
        texts = [
            v.casefold() if k else "" for v, k in zip(values.tolist(), known.tolist(), strict=True)
        ]
        if len(texts) > _FEW_TEXTS:
            try:
                arr = pa.array(texts, type=pa.string())
            except (pa.ArrowException, TypeError, ValueError):  # lone surrogates
                texts = None
    if texts is None:  # non-str cells (or text Arrow cannot take): the pandas string methods
        s = pd.Series(values, dtype=object).where(known, None)
        folded = s.where(known, "").str.casefold()
        words = _words(folded)
        has_words = words.str.len().to_numpy() > 0
        has_mention = folded.str.contains(_MENTION, regex=True).to_numpy()
        has_emoji = folded.str.contains(_EMOJI, regex=True).to_numpy()
        spam = folded.str.contains(_SPAM_RE, regex=True).to_numpy()
        generic = has_words & words.str.fullmatch(_GENERIC_RE).to_numpy()
        norm = folded.str.replace(r"\s+", " ", regex=True).str.strip().to_numpy(dtype=object)
    else:
        # One list pass per step instead of the pandas wrappers, same patterns.
        n = len(texts)
        # str.split() splits at the characters Python's \s matches: re.sub(r"\s+", " ").strip().
        norm_l = [" ".join(t.split()) for t in texts]
        words_l = _words_by_token(norm_l)
        has_words = np.fromiter(map(bool, words_l), dtype=bool, count=n)
        generic = np.fromiter(map(_generic_of(words_l).__getitem__, words_l), bool, n)
        if arr is None:
            # Every emoji is outside ASCII; "@" starts every mention.
            has_emoji = np.fromiter(
                (not t.isascii() and _EMOJI_PY.search(t) is not None for t in texts), bool, n
            )
            has_mention = np.fromiter(
                ("@" in t and _MENTION_PY.search(t) is not None for t in texts), bool, n
            )
            spam = _search(texts, _SPAM, _holding_needle(norm_l))
        else:
            # The emoji class is plain code-point ranges, which RE2 reads as Python does.
            has_emoji = _where(arr, _EMOJI, regex=True)
            has_mention = _search(texts, _MENTION_PY, _where(arr, "@", regex=False))
            spam = _search(texts, _SPAM, _where(arr, _SPAM_CANDIDATE, regex=True))
        norm = np.empty(n, dtype=object)
        norm[:] = norm_l
    mention_only = has_mention & ~has_words
    emoji_only = has_emoji & ~has_words & ~has_mention
    punct_only = ~has_words & ~has_mention & ~has_emoji
    low = generic | mention_only | emoji_only | punct_only | spam
    cols = {
        "generic": generic,
        "emoji_only": emoji_only,
        "mention_only": mention_only,
        "punct_only": punct_only,
        "spam": spam,
        "low_effort": low,
    }
    if known.all():
        return {k: v.astype("float64") for k, v in cols.items()}, norm
    norm = np.where(known, norm, None)
    return {k: np.where(known, v.astype("float64"), np.nan) for k, v in cols.items()}, norm


def classify_texts(text: pd.Series) -> pd.DataFrame:
    """Low-effort classes of comment texts, one row per text.

    Parameters
    ----------
    text : object Series of comment texts (str or None).

    Returns
    -------
    DataFrame with the index of ``text`` and float64 columns (1.0 / 0.0, NaN for a None text):
    ``generic`` (only generic praise words, mentions and emoji), ``emoji_only``, ``mention_only``
    (one or more @mentions, at most emoji or punctuation besides), ``punct_only`` (no words, no
    emoji, no mention, blank included), ``spam`` (follow-back / DM / promotion phrases) and
    ``low_effort`` (any of them); also ``norm``, the case-folded text with collapsed whitespace
    used to find duplicates.

    Examples
    --------
    >>> c = classify_texts(pd.Series(["Wooow 😍😍", "🔥🔥", "@anna", "que linda foto!", "Where?"]))
    >>> c["low_effort"].tolist()
    [1.0, 1.0, 1.0, 1.0, 0.0]
    """
    cols, norm = _classify(text.to_numpy(dtype=object))
    return pd.DataFrame({**cols, "norm": norm}, index=text.index)


FEATURES: tuple[Feature, ...] = (
    Feature("cmt_n", "comments in the sample, up to the snapshot day", "comments", "comments"),
    Feature(
        "cmt_per_post",
        "sampled comments per post that has sampled comments",
        "comments/post",
        "comments",
    ),
    Feature(
        "cmt_low_effort_share",
        "share of comments that are generic praise, emoji-only, "
        "mention-only, punctuation-only or follow/DM spam",
        "share",
        "comments",
    ),
    Feature(
        "cmt_generic_share",
        "share of comments made only of generic praise words (multilingual list)",
        "share",
        "comments",
    ),
    Feature("cmt_emoji_only_share", "share of comments that are only emoji", "share", "comments"),
    Feature(
        "cmt_mention_only_share", "share of comments that are only @mentions", "share", "comments"
    ),
    Feature(
        "cmt_spam_share",
        "share of comments with follow-back, check-DM or promotion phrases",
        "share",
        "comments",
    ),
    Feature(
        "cmt_duplicate_share",
        "share of comments whose text (case and spacing ignored) "
        "appears more than once for the creator",
        "share",
        "comments",
    ),
    Feature(
        "cmt_top5_commenter_share",
        "share of comments (with a known commenter) written by "
        "the creator's 5 most frequent commenters",
        "share",
        "comments",
    ),
    Feature(
        "cmt_repeat_commenter_share",
        "share of commenters seen on 3 or more different posts; "
        "NaN when fewer than 3 posts have comments with known commenters",
        "share",
        "comments",
    ),
    Feature("cmt_len_mean", "mean comment length", "characters", "comments"),
    Feature("cmt_len_median", "median comment length", "characters", "comments"),
    Feature(
        "cmt_first_hour_share",
        "share of comments (timed, on posts with a known time) "
        "written within one hour after the post",
        "share",
        "comments+posts",
    ),
)

_NAMES = [f.name for f in FEATURES]
_COLUMNS = pd.Index(_NAMES)
_ONE_DAY = np.timedelta64(1, "D")
_ONE_HOUR = np.timedelta64(1, "h")
# Text classes averaged per creator, and the feature each gives.
_SHARES: tuple[tuple[str, str], ...] = (
    ("low_effort", "cmt_low_effort_share"),
    ("generic", "cmt_generic_share"),
    ("emoji_only", "cmt_emoji_only_share"),
    ("mention_only", "cmt_mention_only_share"),
    ("spam", "cmt_spam_share"),
)


def _times(df: pd.DataFrame, col: str) -> np.ndarray:
    """A timestamp column as datetime64[ns] (NaT unknown), all NaT when absent."""
    if col not in df.columns:
        return np.full(len(df), np.datetime64("NaT"), dtype="datetime64[ns]")
    values = stored_values(df, col)
    if values.dtype.kind == "M":  # the loaded representation: no parsing
        return values.astype("datetime64[ns]", copy=False)
    return pd.to_datetime(df[col]).to_numpy(dtype="datetime64[ns]")


def _as_of_cut(as_of: pd.Series, ids: pd.Index) -> np.ndarray:
    """First excluded instant per creator: ``as_of`` aligned on ``ids``, plus one day."""
    as_of = as_of if isinstance(as_of, pd.Series) else pd.Series(as_of)
    # The usual caller passes as_of indexed by exactly these ids: no reindex needed.
    if not (as_of.index is ids or as_of.index.equals(ids)) or not ids.is_unique:
        as_of = as_of.reindex(ids)
    return as_of.to_numpy(dtype="datetime64[ns]") + _ONE_DAY


def _mean_by(values: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    """Mean of the known values per creator code; NaN where none is known."""
    ok = ~np.isnan(values)
    cnt = np.bincount(codes[ok], minlength=size)
    tot = np.bincount(codes[ok], weights=values[ok], minlength=size)
    return np.where(cnt > 0, tot / np.maximum(cnt, 1), np.nan)


def _median_by(codes: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of whole, non-negative float64 ``values`` per creator code; NaN where none.

    ``counts`` holds the number of values of each code (its length is the number of codes).
    One sort of (code, value) keys puts each creator's values in order, one creator after
    another; its median is the mean of the middle two, as in a sort per creator.
    """
    size = len(counts)
    if not len(values):
        return np.full(size, np.nan)
    whole = values.astype("int64")
    span = int(whole.max()) + 1
    if size * span < 2**62:
        ordered = (np.sort(codes * np.int64(span) + whole) % span).astype("float64")
    else:  # keys too wide to pack
        ordered = values[np.lexsort((values, codes))]
    start = np.cumsum(counts) - counts
    lo = np.maximum(start + (counts - 1) // 2, 0)
    hi = np.minimum(start + counts // 2, len(ordered) - 1)
    return np.where(counts > 0, (ordered[lo] + ordered[hi]) / 2.0, np.nan)


# Pairs of non-negative codes packed into one int64: codes stay below 2**31 (rows of a table).
_KEY_WIDTH = np.int64(2**31)


def _pair_key(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One int64 per (a, b) pair of codes; sorting the keys sorts by a, then b."""
    return a.astype("int64") * _KEY_WIDTH + b


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys``, sorted (``np.unique`` without its hash table, which is
    several times slower than one sort on a million int64 keys)."""
    keys = np.sort(keys)
    new = np.ones(len(keys), dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    return keys[new]


# Up to this many cells, codes of str cells come from a dict: pd.factorize's fixed cost (tens of
# microseconds when it runs between other work) is a good share of a call for a few creators.
_DICT_CELLS = 256


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values)``: int64 codes (-1 for missing) and uniques, numbered in order of
    first appearance."""
    if values.dtype == object and len(values) <= _DICT_CELLS:
        seen: dict = {}
        try:
            codes = [-1 if v is None else seen.setdefault(v, len(seen)) for v in values.tolist()]
        except TypeError:  # unhashable cells: pandas says what is wrong
            seen = {0: None}
        # str keys compare and hash in a dict as in pandas' table; other cells (NaN, pd.NA,
        # numbers that equal each other) are left to pandas.
        if all(type(v) is str for v in seen):
            return np.array(codes, dtype=np.int64), np.array(list(seen), dtype=object)
    codes, uniques = pd.factorize(values)
    return codes.astype("int64", copy=False), uniques


def _factorize_with(
    first: np.ndarray | None, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pd.factorize`` of ``first`` then ``values`` as one array: (codes of ``first``, uniques,
    codes of ``values``), -1 for missing; ``first`` may be None.

    ``values`` (a comment table's post ids) lists equal ids together, so only the first id of
    each run is hashed: the first appearance of any id starts a run, so codes and uniques are
    those of factorising every row.
    """
    starts = run_starts(values)
    heads = values if starts is None else values[starts]
    n_first = 0 if first is None else len(first)
    both = heads if first is None else np.concatenate([first, heads])
    codes, uniques = _factorize(both)
    rest = codes[n_first:]
    if starts is not None:
        rest = np.repeat(rest, run_lengths(starts, len(values)))
    return codes[:n_first], uniques, rest


def _factorize_texts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values)`` (codes, uniques) of an object array, hashing each distinct
    object's str once.

    Loaded tables hold one str object per distinct text (Arrow hands repeated strings over as
    one object), so bought comments repeated across a million rows are a few thousand objects.
    The objects are first told apart by address (an integer factorisation of the array's
    pointers, no Python call per row), then their texts are factorised. Codes number values in
    order of first appearance either way, so both are exactly ``pd.factorize``'s.
    """
    if values.dtype != object or len(values) < _FEW_TEXTS:  # few rows: one factorisation
        return _factorize(values)
    arr = np.ascontiguousarray(values)
    address = np.ctypeslib.as_array((ctypes.c_ssize_t * len(arr)).from_address(arr.ctypes.data))
    objects = pd.factorize(address)[0]
    if len(objects) and objects.max() * 2 > len(arr):  # few repeats: one factorisation
        return pd.factorize(arr)
    # Objects are numbered in order of first appearance: the first row of each is where the
    # running maximum of the numbers grows.
    grows = np.ones(len(objects), dtype=bool)
    running = np.maximum.accumulate(objects)
    np.greater(running[1:], running[:-1], out=grows[1:])
    codes, uniques = pd.factorize(arr[np.flatnonzero(grows)])
    return codes[objects], uniques


def _commenter_pairs(
    cc: np.ndarray, cw: np.ndarray, cp: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (creator, commenter) pair, in (creator, commenter) code order: the creator code, the
    pair's comments and its distinct posts, from each comment's three codes (``cw`` >= 0).

    When the three codes fit in one int64, one sort of packed (creator, commenter, post) keys
    gives all three: a pair is a run of equal high bits, a distinct post a change of key within
    it. Otherwise two sorts of code pairs do. All codes are >= 0.
    """
    n, fits = len(cc), False
    if n:
        b_p, b_w = int(cp.max()).bit_length(), int(cw.max()).bit_length()
        fits = int(cc.max()).bit_length() + b_w + b_p <= 62
    if fits:
        key = np.sort((cc << (b_w + b_p)) | (cw << b_p) | cp)
        pair = key >> b_p
        new_key = np.ones(n, dtype=bool)
        np.not_equal(key[1:], key[:-1], out=new_key[1:])
        new_pair = np.ones(n, dtype=bool)
        np.not_equal(pair[1:], pair[:-1], out=new_pair[1:])
        starts = np.flatnonzero(new_pair)
        k = run_lengths(starts, n)
        posts_of = np.add.reduceat(new_key, starts, dtype=np.int64)
        return pair[starts] >> b_w, k, posts_of
    cw_key, cw_row, k = np.unique(_pair_key(cc, cw), return_inverse=True, return_counts=True)
    posts_of = np.bincount(_distinct(_pair_key(cw_row, cp)) // _KEY_WIDTH, minlength=len(cw_key))
    return cw_key // _KEY_WIDTH, k, posts_of


def _distinct_per_creator(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Number of distinct ``values`` per creator code, as float64 (NaN where it has no row)."""
    per = _distinct(_pair_key(codes, values)) // _KEY_WIDTH
    counts = np.bincount(per, minlength=size).astype("float64")
    return np.where(counts > 0, counts, np.nan)


def _duplicated_per_creator(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Rows per creator code whose value occurs more than once for that creator, as float64.

    Sorting the (creator, value) keys makes each repeated pair a run; a run of k > 1 rows adds
    k to its creator. No per-row inverse is needed, only run lengths: whole counts, so the sums
    are exactly those of adding 1.0 per duplicated row.
    """
    key = np.sort(_pair_key(codes, values))
    new = np.ones(len(key), dtype=bool)
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    counts = run_lengths(starts, len(key))
    many = counts > 1
    owners = key[starts[many]] // _KEY_WIDTH
    # float64 even with no rows (bincount of nothing is int64 whatever the weights)
    return np.bincount(owners, weights=counts[many], minlength=size).astype("float64")


def comment_features(
    comments: pd.DataFrame | None,
    posts: pd.DataFrame | None,
    creators: pd.DataFrame,
    as_of: pd.Series,
) -> pd.DataFrame:
    """Comment-quality features per creator from the sampled comments on its posts.

    Parameters
    ----------
    comments : ``comments`` table in the loaded representation, or None.
    posts : ``posts`` table, or None; gives post times for the first-hour share and drops
        comments on posts after ``as_of``.
    creators : ``creators`` table; the output has exactly its ``creator_id`` values, in order.
    as_of : snapshot day per creator (Series indexed by creator_id). Comments created, or on
        posts posted, on or after ``as_of + 1 day`` are ignored; NaT (or a creator missing from
        the index) means no cut. Comments without a time count when their post (if known) is not
        after ``as_of``.

    Returns
    -------
    DataFrame indexed by ``creator_id`` with the float64 columns of :data:`FEATURES`; NaN for a
    creator without sampled comments, or when the table or a needed column is missing.
    """
    ids = pd.Index(stored(creators, "creator_id"), name="creator_id")
    size = len(ids)
    out: dict[str, np.ndarray] = {}
    if comments is None or not {"creator_id", "post_id"} <= set(comments.columns) or not size:
        return feature_frame(out, _COLUMNS, ids)

    codes = creator_codes(ids, stored_values(comments, "creator_id"))
    cut = _as_of_cut(as_of, ids)
    keep = codes >= 0
    created = _times(comments, "created_at")
    cut_row = cut[np.where(keep, codes, 0)]
    keep &= ~(created >= cut_row)  # NaT compares False: untimed comments stay

    # Columns are coded over all rows and the codes, not the cells, follow ``keep``: a code says
    # which rows hold equal values whichever rows are kept, and picking str cells would write
    # to each (its reference count), a memory write per cell.
    comment_pid = stored_values(comments, "post_id")
    if posts is not None and {"creator_id", "post_id", "posted_at"} <= set(posts.columns):
        # (creator, post) pairs as int64 keys: creator code times the number of distinct post
        # ids plus the post id's code, one factorisation of both tables' post ids. Posts of
        # creators outside ``ids`` can match no kept comment, so they are left out.
        p_codes = creator_codes(ids, stored_values(posts, "creator_id"))
        post_pid = stored_values(posts, "post_id")
        pid, pid_uniques, post_codes = _factorize_with(post_pid, comment_pid)
        width = np.int64(len(pid_uniques) + 1)  # NaN post ids share the extra slot
        p_key = np.where(p_codes >= 0, p_codes * width + np.where(pid < 0, width - 1, pid), -1)
        c_key = np.where(
            codes >= 0, codes * width + np.where(post_codes < 0, width - 1, post_codes), -2
        )
        # The first row of each (creator, post) gives its time, as drop_duplicates would.
        uniq, first = np.unique(p_key, return_index=True)
        first, uniq = first[uniq >= 0], uniq[uniq >= 0]
        at = np.searchsorted(uniq, c_key)
        found = (at < len(uniq)) & (uniq[np.minimum(at, len(uniq) - 1)] == c_key)
        post_times = _times(posts, "posted_at")[first]
        posted = np.where(
            found, post_times[np.minimum(at, max(len(uniq) - 1, 0))], np.datetime64("NaT")
        )
        keep &= ~(posted >= cut_row)  # a comment on a post after as_of is after as_of too
    else:
        posted = np.full(len(comments), np.datetime64("NaT"), dtype="datetime64[ns]")
        _, pid_uniques, post_codes = _factorize_with(None, comment_pid)
    # A missing post id (code -1) gets a code of its own: pair keys need codes >= 0.
    post_codes = np.where(post_codes < 0, len(pid_uniques), post_codes)

    rows = None if keep.all() else np.flatnonzero(keep)

    def kept(values: np.ndarray) -> np.ndarray:
        return values if rows is None else values[rows]

    codes, created, posted, post_codes = (kept(a) for a in (codes, created, posted, post_codes))
    if not len(codes):
        return feature_frame(out, _COLUMNS, ids)

    n = np.bincount(codes, minlength=size).astype("float64")
    has = n > 0
    out["cmt_n"] = np.where(has, n, np.nan)
    n_posts = _distinct_per_creator(codes, post_codes, size)
    out["cmt_per_post"] = np.where(has, n / n_posts, np.nan)

    if "text" in comments.columns:
        text_codes, uniques = _factorize_texts(stored_values(comments, "text"))  # None -> -1
        text_codes = kept(text_codes)
        cls, norm = _classify(np.asarray(uniques, dtype=object))
        missing = text_codes < 0
        # Every share below averages over the comments with a text: one set of rows, counted
        # once (the class columns are 0/1 wherever the text is known).
        with_text = None if not missing.any() else np.flatnonzero(~missing)
        take = text_codes if with_text is None else text_codes[with_text]
        text_owner = codes if with_text is None else codes[with_text]
        n_text = np.bincount(text_owner, minlength=size)
        has_text, per = n_text > 0, np.maximum(n_text, 1)
        for col, name in _SHARES:
            total = np.bincount(text_owner, weights=cls[col][take], minlength=size)
            out[name] = np.where(has_text, total / per, np.nan)
        norm_codes = _factorize(norm)[0]
        total = _duplicated_per_creator(text_owner, norm_codes[take], size)
        out["cmt_duplicate_share"] = np.where(has_text, total / per, np.nan)

        if _all_str(uniques, np.ones(len(uniques), dtype=bool)):
            lengths = np.fromiter((len(t.strip()) for t in uniques.tolist()), "float64")
        else:  # .str.strip() gives NaN for a cell that is not str
            lengths = pd.Series(uniques, dtype=object).str.strip().str.len().to_numpy("float64")
        length = lengths[np.maximum(text_codes, 0)]
        measured = np.flatnonzero(~missing & ~np.isnan(length))
        length, owner = length[measured], codes[measured]
        n_length = np.bincount(owner, minlength=size)
        total = np.bincount(owner, weights=length, minlength=size)
        out["cmt_len_mean"] = np.where(n_length > 0, total / np.maximum(n_length, 1), np.nan)
        out["cmt_len_median"] = _median_by(owner, length, n_length)

    if "commenter_id" in comments.columns:
        cw = kept(_factorize(stored_values(comments, "commenter_id"))[0])  # None/NaN -> -1
        who = np.flatnonzero(cw >= 0)
        cc, cw, cp = codes[who], cw[who], post_codes[who]
        per_c, k, posts_of = _commenter_pairs(cc, cw, cp)
        n_pairs = np.bincount(per_c, minlength=size)
        # The 5 largest counts of each creator (their sum does not depend on tie order): one
        # sort of (creator, largest count first) keys, then each creator's first 5. ``per_c``
        # is in creator order, so a creator's ranked pairs sit where its pairs do.
        top_sum = np.zeros(size)
        if len(k):
            span = np.int64(k.max()) + 1
            ranked = np.sort(per_c * span + (span - 1 - k))
            first_pair = np.cumsum(n_pairs) - n_pairs
            top = np.arange(len(ranked)) - first_pair[per_c] < 5
            top_k = (span - 1 - ranked % span)[top].astype("float64")
            top_sum = np.bincount(per_c[top], weights=top_k, minlength=size)
        n_known = np.bincount(cc, minlength=size).astype("float64")
        out["cmt_top5_commenter_share"] = np.where(
            n_known > 0, top_sum / np.maximum(n_known, 1), np.nan
        )
        on_3 = np.bincount(per_c, weights=(posts_of >= 3).astype("float64"), minlength=size)
        repeat = np.where(n_pairs > 0, on_3 / np.maximum(n_pairs, 1), np.nan)
        posts_known = _distinct_per_creator(cc, cp, size)
        # With fewer than 3 posts nobody can be seen on 3, so the share says nothing.
        out["cmt_repeat_commenter_share"] = np.where(posts_known >= 3, repeat, np.nan)

    delay = created - posted  # NaT where either is unknown
    timed = ~np.isnat(delay) & (delay >= np.timedelta64(0, "ns"))
    first = np.where(timed, (delay < _ONE_HOUR).astype("float64"), np.nan)
    out["cmt_first_hour_share"] = _mean_by(first, codes, size)
    return feature_frame(out, _COLUMNS, ids)
