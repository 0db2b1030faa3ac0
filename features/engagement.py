"""Engagement features: how each creator's audience reacts to posts, against what is normal.

Bought followers do not like or comment, so the engagement rate ((likes + comments) / followers)
falls below what is typical for the platform and size; bought likes push it above, hold likes at
an unnaturally even level, or produce like spikes that bring no new followers. "Typical" comes
from :class:`EngagementCurve`, a smooth frozen curve of engagement rate against followers per
platform, with the spread around it for percentiles (FACTS.md: percentiles within platform and
size beat fixed cut-offs).

Followers at the time of each post come from the follower history (:func:`followers_at`), so a
purchase shows as a drop in the rate right after the largest follower jump while a viral event,
which brings likes along with followers, does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

from features._series import (
    NO_AS_OF,
    Segments,
    block_frame,
    creator_codes,
    creator_index,
    fractional_days,
    grouped_lexsort,
    lag,
)
from features.catalog import Feature
from features.growth import (
    PreparedHistory,
    _as_of_days,
    _flags,
    _followers_at_obs,
    _matching,
    _medians,
    prepare_history,
)

__all__ = ["FEATURES", "EngagementCurve", "engagement_features"]

RECENT_POSTS = 30  # the engagement rate uses a creator's last 30 posts ...
POST_WINDOW_DAYS = 365  # ... among those from the year before as_of
JUMP_WINDOW_DAYS = 60  # posts this close before / after the largest follower jump
MIN_POSTS_PER_SIDE = 2
SPIKE_FOLLOW_DAYS = 7  # follower change from the day before a like spike to a week after
FOLLOWERS_EXTRAPOLATION_DAYS = 30.0

_P, _C, _PH = "posts", "creators", "posts, follower_history"
FEATURES: tuple[Feature, ...] = (
    Feature(
        "eng_n_posts",
        f"posts used: the last {RECENT_POSTS} within {POST_WINDOW_DAYS} days before as_of",
        "posts",
        _P,
    ),
    Feature(
        "eng_er_median",
        "median (likes + comments) / followers over those posts, followers "
        "at posting time from the history when known",
        "fraction",
        _PH,
    ),
    Feature(
        "eng_er_expected",
        "expected engagement rate for the platform and follower count (frozen curve)",
        "fraction",
        _C,
    ),
    Feature("eng_er_vs_expected", "eng_er_median / eng_er_expected", "ratio", _PH),
    Feature("eng_er_log_ratio", "natural log of eng_er_vs_expected", "log ratio", _PH),
    Feature(
        "eng_er_percentile",
        "percentile of the engagement rate among creators of the same "
        "platform and size (frozen residual distribution)",
        "percentile 0-100",
        _PH,
    ),
    Feature(
        "eng_comments_per_like", "total comments / total likes over the posts used", "ratio", _P
    ),
    Feature(
        "eng_likes_cv",
        "coefficient of variation of likes across the posts used (SD with ddof=1 / mean)",
        "ratio",
        _P,
    ),
    Feature("eng_like_spike_ratio", "max likes / median likes over the posts used", "ratio", _P),
    Feature(
        "eng_spike_follower_growth_rel",
        f"relative follower change from the day before the "
        f"most-liked post to {SPIKE_FOLLOW_DAYS} days after it",
        "fraction",
        _PH,
    ),
    Feature(
        "eng_er_jump_ratio",
        f"median engagement rate of posts in the {JUMP_WINDOW_DAYS} days "
        "after the largest follower jump / in the days before it",
        "ratio",
        _PH,
    ),
    Feature(
        "eng_likes_jump_ratio",
        "median likes after the largest follower jump / before it",
        "ratio",
        _PH,
    ),
    Feature(
        "eng_likes_per_view",
        "median likes / views over the posts used that have views",
        "ratio",
        _P,
    ),
    Feature(
        "eng_views_per_follower",
        "median views / followers over the posts used that have views",
        "ratio",
        _PH,
    ),
    Feature(
        "eng_sponsored_er_ratio",
        "median engagement rate of sponsored posts / of organic "
        f"posts within {POST_WINDOW_DAYS} days",
        "ratio",
        _PH,
    ),
    Feature("eng_posts_per_week", "posting frequency over the posts used", "posts/week", _P),
    Feature(
        "eng_gap_cv", "coefficient of variation of the gaps between the posts used", "ratio", _P
    ),
)

_NAMES = [f.name for f in FEATURES]
_COLUMNS = pd.Index(_NAMES)
_ROW = {name: j for j, name in enumerate(_NAMES)}

# Residual quantile levels stored by the curve; the ends stop short of 0 and 1 so the prior's
# normal quantiles stay finite.
QUANTILE_LEVELS = np.concatenate([[0.001], np.arange(1, 100) / 100.0, [0.999]])
_POOLED = "pooled"
_DEFAULT_PLATFORM = "instagram"  # SCHEMA.md: platform defaults to instagram


def _platforms(platform, n: int) -> np.ndarray:
    """Platform names as a lower-case object array; unknown -> the contract default."""
    if platform is None:
        return np.full(n, _DEFAULT_PLATFORM, dtype=object)
    values = np.asarray(platform, dtype=object).reshape(-1)
    # One list pass, as the pandas chain where(notna) -> astype(str) -> str.lower would do it
    # row by row anyway, without that chain's fixed cost per call.
    out = np.empty(len(values), dtype=object)
    out[:] = [
        _DEFAULT_PLATFORM if missing else str(v).lower()
        for v, missing in zip(values, pd.isna(values), strict=True)
    ]
    return out


def _names(plat: np.ndarray):
    """The distinct platforms of a ``_platforms`` array (any order: each gets its own rows).

    One platform, always so for one creator, needs no sort of the names.
    """
    if len(plat) and bool((plat == plat[0]).all()):
        return (plat[0],)
    return np.unique(plat.astype(str))


@dataclass(frozen=True)
class _CurveArrays:
    """An :class:`EngagementCurve`'s fitted state as arrays, with the state they were made of."""

    state: tuple
    curves: dict  # platform -> (polyval coefficients, log10 followers low, high)
    quantiles: dict  # platform -> residual quantiles
    levels: np.ndarray  # the quantile levels in percent


class EngagementCurve:
    """Expected engagement rate as a smooth curve of followers, per platform, frozen after fit.

    The curve is fitted in log10-log10 space: followers are binned by ``bin_width`` decades, the
    median log engagement rate of each bin (robust to fraudulent outliers) is taken, and a
    polynomial of degree up to ``degree`` is fitted through the bin medians weighted by bin size.
    Outside the fitted range the curve is held constant rather than extrapolated. Platforms with
    fewer than ``min_platform_count`` samples use the curve fitted on all platforms pooled. The
    distribution of residuals (log10 rate minus log10 expected) is kept as quantiles per platform,
    so a creator's percentile depends on its own numbers and the frozen curve only.

    Parameters
    ----------
    degree : int
        Highest polynomial degree in log-log space.
    bin_width : float
        Width of the follower bins in decades (log10 units).
    min_bin_count : int
        Bins with fewer samples are left out of the fit.
    min_platform_count : int
        Platforms with fewer samples fall back to the pooled curve.

    Attributes
    ----------
    curves_ : dict
        Per platform (and ``"pooled"``): ``coef`` (numpy.polyval order) and
        ``log10_followers_range`` (where the curve is held constant beyond).
    residual_quantiles_ : dict
        Per platform (and ``"pooled"``): log10 residuals at ``quantile_levels_``.
    quantile_levels_ : list of float
        Levels (0-1) of the residual quantiles.
    n_samples_ : dict
        Samples each curve was fitted on (0 for the prior).

    Examples
    --------
    >>> curve = EngagementCurve.prior()
    >>> rates = curve.expected([5_000, 2_000_000, 50_000], ["instagram", "instagram", "tiktok"])
    >>> np.round(rates, 4)
    array([0.035 , 0.004 , 0.0131])
    """

    def __init__(
        self,
        degree: int = 2,
        bin_width: float = 0.25,
        min_bin_count: int = 20,
        min_platform_count: int = 200,
    ) -> None:
        self.degree = degree
        self.bin_width = bin_width
        self.min_bin_count = min_bin_count
        self.min_platform_count = min_platform_count

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, followers, platform, engagement_rate) -> EngagementCurve:
        """Fit the curves and residual quantiles on training creators.

        Parameters
        ----------
        followers : array-like of float
            Follower counts.
        platform : array-like of str or None
            Platform per creator (None -> instagram).
        engagement_rate : array-like of float
            Observed engagement rate (fraction). Non-positive or unknown rates and follower
            counts are left out (a log-log curve cannot place them).

        Returns
        -------
        self
        """
        f = np.asarray(followers, dtype="float64")
        er = np.asarray(engagement_rate, dtype="float64")
        plat = _platforms(platform, len(f))
        ok = np.isfinite(f) & (f > 0) & np.isfinite(er) & (er > 0)
        if not ok.any():
            raise ValueError(
                "EngagementCurve.fit needs at least one positive follower count and engagement rate"
            )
        x, y, plat = np.log10(f[ok]), np.log10(er[ok]), plat[ok]
        groups = {_POOLED: np.ones(len(x), dtype=bool)}
        names, counts = np.unique(plat.astype(str), return_counts=True)
        for name, count in zip(names, counts, strict=True):
            if count >= self.min_platform_count:
                groups[str(name)] = plat == name
        self.curves_ = {}
        self.residual_quantiles_ = {}
        self.n_samples_ = {}
        for name, mask in groups.items():
            curve = self._fit_one(x[mask], y[mask])
            resid = y[mask] - _evaluate(curve, x[mask])
            self.curves_[name] = curve
            self.residual_quantiles_[name] = [float(q) for q in np.quantile(resid, QUANTILE_LEVELS)]
            self.n_samples_[name] = int(mask.sum())
        self.quantile_levels_ = [float(q) for q in QUANTILE_LEVELS]
        return self

    def _fit_one(self, x: np.ndarray, y: np.ndarray) -> dict:
        bins = np.floor(x / self.bin_width)
        frame = pd.DataFrame({"bin": bins, "x": x, "y": y}).groupby("bin")
        med = frame.median()
        size = frame.size().to_numpy()
        keep = size >= self.min_bin_count
        if not keep.any():
            # Too little data for any bin: one level for all sizes.
            bx, by, w = np.array([np.median(x)]), np.array([np.median(y)]), np.array([1.0])
        else:
            bx, by = med["x"].to_numpy()[keep], med["y"].to_numpy()[keep]
            w = np.sqrt(size[keep].astype("float64"))
        deg = int(min(self.degree, len(bx) - 1))
        coef = np.polyfit(bx, by, deg, w=w) if deg > 0 else np.array([np.average(by, weights=w)])
        return {
            "coef": [float(c) for c in coef],
            "log10_followers_range": [float(bx.min()), float(bx.max())],
        }

    # -- using -----------------------------------------------------------------------------
    def _check(self) -> None:
        if not hasattr(self, "curves_"):
            raise NotFittedError("EngagementCurve is not fitted; call fit() or use prior()")

    def _name(self, platform: str) -> str:
        return platform if platform in self.curves_ else _POOLED

    def expected(self, followers, platform) -> np.ndarray:
        """Expected engagement rate (fraction) for each follower count and platform.

        Unknown platforms use the pooled curve; unknown or non-positive followers give NaN.
        """
        self._check()
        f = np.asarray(followers, dtype="float64").reshape(-1)
        return self._expected(f, _platforms(platform, len(f)))

    def percentile(self, engagement_rate, followers, platform) -> np.ndarray:
        """Percentile (0-100) of each rate among creators of the same platform and size."""
        self._check()
        er = np.asarray(engagement_rate, dtype="float64").reshape(-1)
        expected = self.expected(followers, platform)
        return self._percentile(er, expected, _platforms(platform, len(er)))

    def _arrays(self) -> _CurveArrays:
        """The fitted state as NumPy arrays, made once per fitted state rather than per call.

        The state is frozen after fitting; a new fit (or a new dict assigned) makes new arrays.
        For a handful of creators, converting the lists on every call cost about as much as
        evaluating the curves.
        """
        state = (self.curves_, self.residual_quantiles_, self.quantile_levels_)
        cached = self.__dict__.get("_arrays_cache")
        if cached is None or any(a is not b for a, b in zip(cached.state, state, strict=True)):
            cached = _CurveArrays(
                state,
                {
                    k: (np.asarray(v["coef"]), *v["log10_followers_range"])
                    for k, v in self.curves_.items()
                },
                {k: np.asarray(v) for k, v in self.residual_quantiles_.items()},
                100.0 * np.asarray(self.quantile_levels_),
            )
            self._arrays_cache = cached
        return cached

    def _expected(self, f: np.ndarray, plat: np.ndarray) -> np.ndarray:
        """:meth:`expected` of float64 followers and platforms already made by ``_platforms``."""
        arrays = self._arrays()
        out = np.full(len(f), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(f > 0, np.log10(f), np.nan)
        names = _names(plat)
        for name in names:
            # One platform (always so for one creator): every row, with no mask to build.
            mask = plat == name if len(names) > 1 else slice(None)
            coef, lo, hi = arrays.curves[self._name(str(name))]
            out[mask] = 10.0 ** np.polyval(coef, np.clip(x[mask], lo, hi))
        return out

    def _percentile(self, er: np.ndarray, expected: np.ndarray, plat: np.ndarray) -> np.ndarray:
        """:meth:`percentile` of float64 rates, given their expected rates and the platforms
        made by ``_platforms``."""
        arrays = self._arrays()
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = np.log10(er) - np.log10(expected)
        resid[er < 0] = np.nan
        out = np.full(len(er), np.nan)
        names = _names(plat)
        for name in names:
            mask = plat == name if len(names) > 1 else slice(None)
            q = arrays.quantiles[self._name(str(name))]
            r = resid[mask]
            out[mask] = np.where(np.isnan(r), np.nan, np.interp(r, q, arrays.levels))
        return out

    # -- persistence -----------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Plain-JSON description of the fitted curve (parameters and learned state)."""
        self._check()
        return {
            "format": "creatorscore.engagement_curve/1",
            "params": {
                "degree": self.degree,
                "bin_width": self.bin_width,
                "min_bin_count": self.min_bin_count,
                "min_platform_count": self.min_platform_count,
            },
            "curves": {
                k: {
                    "coef": list(v["coef"]),
                    "log10_followers_range": list(v["log10_followers_range"]),
                }
                for k, v in self.curves_.items()
            },
            "residual_quantiles": {k: list(v) for k, v in self.residual_quantiles_.items()},
            "quantile_levels": list(self.quantile_levels_),
            "n_samples": dict(self.n_samples_),
        }

    @classmethod
    def from_dict(cls, data: dict) -> EngagementCurve:
        """Rebuild a curve saved with :meth:`to_dict`."""
        if data.get("format") != "creatorscore.engagement_curve/1":
            raise ValueError(f"not an engagement curve: format {data.get('format')!r}")
        curve = cls(**data["params"])
        curve.curves_ = {
            k: {
                "coef": [float(c) for c in v["coef"]],
                "log10_followers_range": [float(b) for b in v["log10_followers_range"]],
            }
            for k, v in data["curves"].items()
        }
        curve.residual_quantiles_ = {
            k: [float(q) for q in v] for k, v in data["residual_quantiles"].items()
        }
        curve.quantile_levels_ = [float(q) for q in data["quantile_levels"]]
        curve.n_samples_ = {k: int(v) for k, v in data["n_samples"].items()}
        if _POOLED not in curve.curves_:
            raise ValueError("engagement curve has no pooled curve")
        return curve

    @classmethod
    def prior(cls, spread_dex: float = 0.25) -> EngagementCurve:
        """A default curve from published benchmarks, usable before any training.

        - Instagram: about 3.5% at 5k followers falling to about 0.4% at 2M, a straight line in
          log-log between those points, constant outside (untapper 2026 average bands: 3-5% nano
          to 0.7-1.2% mega; HypeAuditor 2026 via eMarketer: 1.78% at 1-10k to 0.33% at 1M+).
        - TikTok: 1.31% per follower (Influencer Hero, median over 150M accounts).
        - YouTube: 0.54% per subscriber (median of published vendor benchmarks).
        - X, other and unknown platforms: the Instagram curve (the contract's default platform).

        The residual spread is a normal of ``spread_dex`` decades (0.25: the 10th-90th percentile
        band spans about x0.48 to x2.1, the factor between the vendors' figures for one tier).
        """
        lo, hi = np.log10(5_000.0), np.log10(2_000_000.0)
        slope = (np.log10(0.004) - np.log10(0.035)) / (hi - lo)
        instagram = {
            "coef": [float(slope), float(np.log10(0.035) - slope * lo)],
            "log10_followers_range": [float(lo), float(hi)],
        }

        def flat(rate: float) -> dict:
            return {
                "coef": [float(np.log10(rate))],
                "log10_followers_range": [float(lo), float(hi)],
            }

        curve = cls()
        curve.curves_ = {
            _POOLED: dict(instagram),
            "instagram": dict(instagram),
            "tiktok": flat(0.0131),
            "youtube": flat(0.0054),
        }
        normal = NormalDist(0.0, spread_dex)
        quantiles = [float(normal.inv_cdf(q)) for q in QUANTILE_LEVELS]
        curve.residual_quantiles_ = {k: list(quantiles) for k in curve.curves_}
        curve.quantile_levels_ = [float(q) for q in QUANTILE_LEVELS]
        curve.n_samples_ = {k: 0 for k in curve.curves_}
        return curve


def _evaluate(curve: dict, x: np.ndarray) -> np.ndarray:
    lo, hi = curve["log10_followers_range"]
    return np.polyval(np.asarray(curve["coef"]), np.clip(x, lo, hi))


# From this many creators on, a median over a subset of each creator's posts sorts the subset's
# rows only; below, every post with NaN outside the subset (fewer NumPy calls for a handful of
# creators). A median ignores NaN, so both give the same numbers.
_SUBSET_ROWS_MIN_CREATORS = 64


def _subsets(seg: Segments, *subsets) -> list[tuple[Segments, np.ndarray]]:
    """``(segments, values)`` pairs for medians over subsets of the rows of ``seg``.

    Each subset is ``(mask, (values, ...))``: one pair per value array, for a median of its
    values over the mask's rows. With many creators a pair holds the mask's rows only, in
    segments coded by segment number of ``seg``; otherwise it is ``seg`` and the values with
    NaN outside the mask. :func:`_per_segment` gives the medians one per segment of ``seg``.
    """
    if len(seg) < _SUBSET_ROWS_MIN_CREATORS:
        return [(seg, np.where(mask, v, np.nan)) for mask, values in subsets for v in values]
    number = seg.row_segment()
    out = []
    for mask, values in subsets:
        rows = np.flatnonzero(mask)
        sub = Segments.of(number[rows])
        out.extend((sub, v[rows]) for v in values)
    return out


def _per_segment(sub: Segments, med: np.ndarray, n_segments: int) -> np.ndarray:
    """The medians of a :func:`_subsets` pair, one per segment (NaN: no row in the subset)."""
    if n_segments < _SUBSET_ROWS_MIN_CREATORS:  # the pair was not narrowed
        return med
    out = np.full(n_segments, np.nan)
    out[sub.codes] = med
    return out


def engagement_features(
    posts: pd.DataFrame | None,
    creators: pd.DataFrame,
    history: pd.DataFrame | None,
    as_of: pd.Series,
    curve: EngagementCurve | None = None,
    *,
    prepared: PreparedHistory | None = None,
) -> pd.DataFrame:
    """Engagement features, one row per creator.

    Parameters
    ----------
    posts : DataFrame or None
        The loaded ``posts`` table.
    creators : DataFrame
        The loaded ``creators`` table (followers and platform); output order.
    history : DataFrame or None
        The loaded ``follower_history``: followers at posting time, and the largest jump.
    as_of : Series
        Snapshot day per creator_id; posts count if ``posted_at < as_of + 1 day``.
    curve : EngagementCurve, optional
        Frozen expected-rate curve; default :meth:`EngagementCurve.prior`.
    prepared : PreparedHistory, optional
        ``features.growth.prepare_history(history, creators, as_of)`` when already made (by
        ``features.build`` for the growth builder too); made here otherwise.

    Returns
    -------
    DataFrame
        Indexed by creator_id, the columns of ``FEATURES`` in order, float64. Without posts every
        column is NaN except ``eng_er_expected``, which needs only the creators row.

    Examples
    --------
    >>> creators = pd.DataFrame({"creator_id": ["a"], "platform": ["instagram"],
    ...                          "followers": [10_000.0]})
    >>> posts = pd.DataFrame({"creator_id": "a", "post_id": ["1", "2", "3"],
    ...                       "posted_at": pd.to_datetime(["2024-01-01", "2024-01-03",
    ...                                                    "2024-01-05"]),
    ...                       "likes": [190.0, 290.0, 390.0], "comments": [10.0, 10.0, 10.0]})
    >>> as_of = pd.Series({"a": pd.Timestamp("2024-01-05")})
    >>> out = engagement_features(posts, creators, None, as_of)
    >>> out.loc["a", ["eng_n_posts", "eng_er_median", "eng_posts_per_week"]].tolist()
    [3.0, 0.03, 3.5]
    """
    curve = curve if curve is not None else EngagementCurve.prior()
    curve._check()
    # The prepared history's creator index, when it was made for these creators, is this
    # builder's too: no second Index to build, and its look-up table is already made.
    prep = _matching(prepared, creators)
    ids = prep.ids if prep is not None else creator_index(creators)
    n = len(ids)
    block = np.full((len(_NAMES), n), np.nan)
    platform = _platforms(
        creators["platform"].to_numpy(dtype=object) if "platform" in creators.columns else None,
        n,
    )
    followers_now = creators["followers"].to_numpy(dtype="float64")

    def put(s: Segments, name: str, values: np.ndarray) -> None:
        block[_ROW[name], s.codes] = values

    def finish(size_fallback: np.ndarray | None = None) -> pd.DataFrame:
        # Size for the expected rate: the snapshot count, else followers at the recent posts.
        size = followers_now
        if size_fallback is not None:
            size = np.where(np.isfinite(followers_now), followers_now, size_fallback)
        expected = curve._expected(size, platform)
        block[_ROW["eng_er_expected"]] = expected
        er = block[_ROW["eng_er_median"]]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = er / expected
            block[_ROW["eng_er_vs_expected"]] = ratio
            block[_ROW["eng_er_log_ratio"]] = np.where(ratio > 0, np.log(ratio), np.nan)
        block[_ROW["eng_er_percentile"]] = curve._percentile(er, expected, platform)
        return block_frame(block, _COLUMNS, ids.view())

    if posts is None or len(posts) == 0:
        return finish()

    # -- select, sort and window the posts ------------------------------------------------
    # The prepared history's as_of days, when it was made with this very as_of.
    if prep is not None and prep.as_of is as_of:
        asd = prep.obs.as_of_day
    else:
        asd = _as_of_days(as_of, ids)
    code = creator_codes(ids, posts["creator_id"])
    t = fractional_days(posts["posted_at"].to_numpy())
    likes = posts["likes"].to_numpy(dtype="float64")
    comments = posts["comments"].to_numpy(dtype="float64")
    views = (
        posts["views"].to_numpy(dtype="float64")
        if "views" in posts.columns
        else np.full(len(posts), np.nan)
    )
    sponsored = (
        _flags(posts["is_sponsored"])
        if "is_sponsored" in posts.columns
        else np.full(len(posts), np.nan)
    )
    with np.errstate(invalid="ignore"):
        keep = (code >= 0) & np.isfinite(t) & np.isfinite(likes) & (np.floor(t) <= asd[code])
    if not keep.all():
        code, t, likes, comments, views, sponsored = (
            a[keep] for a in (code, t, likes, comments, views, sponsored)
        )
    if len(code) > 1:
        ordered = (code[1:] > code[:-1]) | ((code[1:] == code[:-1]) & (t[1:] > t[:-1]))
        if not ordered.all():
            # Posts at the same time are ordered by their numbers, so the result never depends
            # on input row order (which post is among the last 30, which is the most liked).
            order = grouped_lexsort((sponsored, views, comments, likes, t, code))
            code, t, likes, comments, views, sponsored = (
                a[order] for a in (code, t, likes, comments, views, sponsored)
            )
    seg = Segments.of(code)
    if len(seg) == 0:
        return finish()
    ref = asd.astype("float64")
    last_day = seg.scatter(np.floor(t[seg.ends]), n)
    ref = np.where(asd == NO_AS_OF, last_day, ref)
    keep = t >= ref[code] + 1.0 - POST_WINDOW_DAYS
    if not keep.all():
        code, t, likes, comments, views, sponsored = (
            a[keep] for a in (code, t, likes, comments, views, sponsored)
        )
        seg = Segments.of(code)

    # -- the recent posts ------------------------------------------------------------------
    from_end = seg.spread(seg.lengths) - 1 - seg.offset()
    recent = from_end < RECENT_POSTS
    rc, rt, rl, rcm, rv = (a[recent] for a in (code, t, likes, comments, views))
    rs = Segments.of(rc)
    top = rs.first_argmax(rl)

    # -- followers at posting time, and around each creator's most-liked recent post ------
    # One look-up for the three sets of points: each point is answered on its own.
    if prep is None:
        prep = prepare_history(history, creators, as_of)
    obs = prep.obs
    m = len(code)
    at = _followers_at_obs(
        obs,
        np.concatenate([code, rs.codes, rs.codes]),
        np.concatenate([t, rt[top] - 1.0, rt[top] + SPIKE_FOLLOW_DAYS]),
        np.concatenate([np.full(m, FOLLOWERS_EXTRAPOLATION_DAYS), np.ones(2 * len(rs))]),
    )
    fol, before, after = at[:m], at[m : m + len(rs)], at[m + len(rs) :]
    fol = np.where(np.isfinite(fol), fol, followers_now[code])
    with np.errstate(divide="ignore", invalid="ignore"):
        er = np.where(fol > 0, (likes + comments) / fol, np.nan)
    rer, rf = er[recent], fol[recent]

    # -- before vs after the largest follower jump -----------------------------------------
    grid, jump = prep.grid, prep.jump
    jump_day = np.full(len(grid.seg), np.nan)
    has = jump.day_row >= 0
    jump_day[has] = grid.day_at(jump.day_row[has])
    jd = grid.seg.scatter(jump_day, n)[code]
    # The jump happens between the end of day jd - 1 and day jd: posts before day jd - 1 saw the
    # old audience, posts from day jd on the new one.
    pre = (t < jd - 1.0) & (t >= jd - 1.0 - JUMP_WINDOW_DAYS)
    post = (t >= jd) & (t < jd + JUMP_WINDOW_DAYS)

    # Every median of the builder in one call (see _medians): over the recent posts, then over
    # subsets of all posts in the window (sponsored vs organic, before vs after the jump).
    subsets = _subsets(
        seg,
        (sponsored == 1.0, (er,)),
        (sponsored == 0.0, (er,)),
        (pre, (er, likes)),
        (post, (er, likes)),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        has_views = np.isfinite(rv) & (rv > 0)
        (
            er_median,
            fol_median,
            med_likes,
            likes_per_view,
            views_per_follower,
            *subset_medians,
        ) = _medians(
            (rs, rer),
            (rs, rf),
            (rs, rl),
            (rs, np.where(has_views, rl / rv, np.nan)),
            (rs, np.where(has_views & (rf > 0), rv / rf, np.nan)),
            *subsets,
        )
    paid, organic, er_pre, lk_pre, er_post, lk_post = (
        _per_segment(sub, med, len(seg))
        for (sub, _), med in zip(subsets, subset_medians, strict=True)
    )

    put(rs, "eng_n_posts", rs.lengths.astype("float64"))
    put(rs, "eng_er_median", er_median)
    size_fallback = rs.scatter(fol_median, n)
    both = np.isfinite(rcm)
    with np.errstate(divide="ignore", invalid="ignore"):
        like_sum = rs.sum(np.where(both, rl, 0.0))
        put(
            rs,
            "eng_comments_per_like",
            np.where(like_sum > 0, rs.sum(np.where(both, rcm, 0.0)) / like_sum, np.nan),
        )
        count = rs.lengths.astype("float64")
        mean = rs.sum(rl) / count
        sd = np.sqrt(rs.sum((rl - rs.spread(mean)) ** 2) / (count - 1.0))
        put(rs, "eng_likes_cv", np.where((count >= 3) & (mean > 0), sd / mean, np.nan))
        put(rs, "eng_like_spike_ratio", np.where(med_likes > 0, rs.max(rl) / med_likes, np.nan))
        put(rs, "eng_spike_follower_growth_rel", np.where(before > 0, after / before - 1.0, np.nan))
        put(rs, "eng_likes_per_view", likes_per_view)
        put(rs, "eng_views_per_follower", views_per_follower)
        gaps = rt - lag(rt, 1, rs)
        n_gaps = rs.count(np.isfinite(gaps))
        span = rs.sum(gaps)
        put(rs, "eng_posts_per_week", np.where(span > 0, n_gaps / (span / 7.0), np.nan))
        gap_mean = span / n_gaps
        gap_sd = np.sqrt(rs.sum((gaps - rs.spread(gap_mean)) ** 2) / n_gaps)
        put(rs, "eng_gap_cv", np.where((n_gaps >= 2) & (gap_mean > 0), gap_sd / gap_mean, np.nan))
        put(seg, "eng_sponsored_er_ratio", np.where(organic > 0, paid / organic, np.nan))
        enough = (seg.count(pre) >= MIN_POSTS_PER_SIDE) & (seg.count(post) >= MIN_POSTS_PER_SIDE)
        put(seg, "eng_er_jump_ratio", np.where(enough & (er_pre > 0), er_post / er_pre, np.nan))
        put(seg, "eng_likes_jump_ratio", np.where(enough & (lk_pre > 0), lk_post / lk_pre, np.nan))
    return finish(size_fallback)
