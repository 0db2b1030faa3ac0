"""How sure a score is: an interval for the audience fake share and a grade for fraud risk.

Two questions a vetting user asks of every number (FACTS.md, "What users of the audit tools
complain about": scores that cannot be checked, numbers that change from run to run):

- **How precise is ``audience_fake_share``?** :func:`likelihood_share_interval` gives a
  two-sided interval for the maximum-likelihood share
  (``features.audience.likelihood_fake_share``): its standard error from the creator's own
  sample, combined with the uncertainty of the account model, which was itself measured on a
  finite held-out set of accounts. :func:`fake_share_interval` does the same for the flag-count
  estimate (``features.audience.estimate_fake_share``) with a Wilson interval.
- **Is the audience low-quality?** :func:`low_quality_share` and :func:`audience_band` give the
  ``low_quality_audience`` signal, a separate question from buying: it happens to honest creators
  too, because bots follow everyone.
- **How much evidence does ``fraud_risk`` rest on?** :func:`fraud_confidence` grades each
  creator high / medium / low from the evidence present: follower-history days and points, posts,
  and sampled comments (the tables the purchase signals come from).

Everything here is closed-form and vectorised: the same inputs give the same numbers on every
run, on any chunk of creators.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from statistics import NormalDist

import numpy as np
import pandas as pd

__all__ = [
    "AUDIENCE_BANDS",
    "CONFIDENCE_GRADES",
    "EVIDENCE_LEVELS",
    "account_rate_counts",
    "audience_band",
    "fake_share_interval",
    "fraud_confidence",
    "likelihood_share_bounds",
    "likelihood_share_interval",
    "low_quality_share",
    "wilson_interval",
]

#: Grades of :func:`fraud_confidence`, weakest first.
CONFIDENCE_GRADES: tuple[str, ...] = ("low", "medium", "high")

#: (partial, full) amount of each kind of evidence behind ``fraud_risk``. History: a purchase is
#: a step within 1-2 days that must be seen against weeks of normal growth, and the losses come
#: 1-6 weeks later (FACTS.md, "Bought followers in the growth curve"), so 60 days observed at
#: 30 points or more pin both down; 14 days and 5 points can still show a step. Posts: the
#: spread of likes (CV) and comments per like need a dozen posts to be stable (the engagement
#: features use up to the last 30); 4 give a rough rate. Comments: pods and bought comments show
#: in repeated commenters across posts, which needs comments on several posts (the common
#: sample is 10 comments on each of 10 posts).
EVIDENCE_LEVELS: dict[str, tuple[float, float]] = {
    "history_days": (14.0, 60.0),
    "history_points": (5.0, 30.0),
    "posts": (4.0, 12.0),
    "comments": (10.0, 50.0),
}


def wilson_interval(k, n, level: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion ``k / n``, elementwise.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and keeps its coverage near 0
    and 1, where most creators' flag rates sit. NaN where ``n`` is NaN or 0.

    >>> lo, hi = wilson_interval(0, 100, 0.9)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.0, 0.0263)
    """
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    z = NormalDist().inv_cdf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_ok = np.where(n > 0, n, np.nan)
        r = k / n_ok
        denom = 1.0 + z**2 / n_ok
        centre = (r + z**2 / (2 * n_ok)) / denom
        half = z / denom * np.sqrt(r * (1 - r) / n_ok + z**2 / (4 * n_ok**2))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def account_rate_counts(metrics: Mapping[str, float]) -> tuple[float, float]:
    """Fake and real accounts the account model's ``tpr``/``fpr`` were measured on.

    Read from its out-of-fold metrics (``n_rows`` and ``positive_rate``); NaN when absent, which
    :func:`fake_share_interval` treats as "rates known exactly".
    """
    n = float(metrics.get("n_rows", np.nan))
    pos = float(metrics.get("positive_rate", np.nan))
    if not (np.isfinite(n) and np.isfinite(pos)):
        return float("nan"), float("nan")
    return round(n * pos), round(n * (1 - pos))


def fake_share_interval(
    n,
    n_flagged,
    tpr: float,
    fpr: float,
    n_fake_heldout: float = np.nan,
    n_real_heldout: float = np.nan,
    level: float = 0.9,
) -> pd.DataFrame:
    """Interval for the error-corrected audience fake share of each creator.

    The estimate is ``p = (r - fpr) / (tpr - fpr)`` with ``r = n_flagged / n`` the observed flag
    rate (adjusted classify-and-count). Two things make it uncertain:

    1. *The creator's sample.* ``n_flagged`` is binomial around ``r``. A Wilson interval
       ``[r_lo, r_hi]`` for ``r`` maps through the (linear) correction to ``[p_lo, p_hi]``.
    2. *The account model's error rates.* ``tpr`` and ``fpr`` were measured on
       ``n_fake_heldout`` fake and ``n_real_heldout`` real held-out accounts, so they carry
       binomial errors of their own. By the delta method, since ``dp/dfpr = (p - 1) / (tpr -
       fpr)`` and ``dp/dtpr = -p / (tpr - fpr)``, they add a variance of
       ``((1 - p)^2 Var(fpr) + p^2 Var(tpr)) / (tpr - fpr)^2`` to the estimate, evaluated at each
       end of the interval (the far end is where it matters most).

    Each side's half-width is the two combined in quadrature, around the mapped Wilson centre;
    the result is clipped to [0, 1] and always contains the clipped point estimate.

    Parameters
    ----------
    n : accounts scored per creator (NaN or 0: unknown; gives NaN bounds).
    n_flagged : accounts at or above the model's threshold.
    tpr, fpr : the account model's held-out rates at its threshold (``0 <= fpr < tpr <= 1``).
    n_fake_heldout, n_real_heldout : held-out fake and real accounts behind ``tpr`` and ``fpr``
        (:func:`account_rate_counts`); NaN ignores the rates' uncertainty.
    level : two-sided coverage, e.g. 0.9.

    Returns
    -------
    DataFrame (index of ``n`` when it is a Series) with float64 ``fake_share`` (clipped point
    estimate), ``low`` and ``high``.

    Examples
    --------
    >>> out = fake_share_interval([100.0], [31.0], tpr=0.8, fpr=0.1)
    >>> [round(float(v), 3) for v in out.iloc[0]]
    [0.3, 0.2, 0.415]
    """
    tpr, fpr = _checked(tpr, fpr, level)
    index = n.index if isinstance(n, pd.Series) else None
    n_arr = np.asarray(n, dtype="float64")
    k_arr = np.asarray(n_flagged, dtype="float64")
    gap = tpr - fpr
    z = _z(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = n_arr > 0
        rate = np.where(ok, k_arr / np.where(ok, n_arr, 1.0), np.nan)
        point = np.clip((rate - fpr) / gap, 0.0, 1.0)
        r_lo, r_hi = wilson_interval(k_arr, n_arr, level)
        z2n = z**2 / np.where(ok, n_arr, np.nan)
        centre = (rate + z2n / 2) / (1 + z2n)
    p_centre = (centre - fpr) / gap
    p_lo, p_hi = (r_lo - fpr) / gap, (r_hi - fpr) / gap
    rates = (tpr, fpr, n_fake_heldout, n_real_heldout)
    low = p_centre - np.hypot(p_centre - p_lo, z * np.sqrt(_rates_variance(p_lo, *rates)))
    high = p_centre + np.hypot(p_hi - p_centre, z * np.sqrt(_rates_variance(p_hi, *rates)))
    low = np.minimum(np.clip(low, 0.0, 1.0), point)
    high = np.maximum(np.clip(high, 0.0, 1.0), point)
    return pd.DataFrame({"fake_share": point, "low": low, "high": high}, index=index)


def likelihood_share_interval(
    share,
    se,
    tpr: float,
    fpr: float,
    n_fake_heldout: float = np.nan,
    n_real_heldout: float = np.nan,
    level: float = 0.9,
) -> pd.DataFrame:
    """Interval for the maximum-likelihood audience fake share of each creator.

    Two things make the estimate uncertain:

    1. *The creator's sample*: ``se``, from the observed information of its likelihood
       (``features.audience.likelihood_fake_share``).
    2. *The account model*, measured on ``n_fake_heldout`` fake and ``n_real_heldout`` real
       held-out accounts. How well it separates fakes from reals is summarised by its error
       rates at its threshold, so their binomial errors stand in for the model's: by the delta
       method on ``p = (r - fpr) / (tpr - fpr)`` they add ``((1 - p)^2 Var(fpr) + p^2 Var(tpr))
       / (tpr - fpr)^2``, evaluated at the point estimate.

    The half-width is ``z`` times the two combined in quadrature (a Wald interval), clipped to
    [0, 1]; it always contains the point estimate, and a share estimated at 0 or 1 keeps the
    width on its open side.

    Parameters
    ----------
    share : the estimate per creator (NaN: unknown; gives NaN bounds).
    se : its standard error from the sample.
    tpr, fpr : the account model's held-out rates at its threshold (``0 <= fpr < tpr <= 1``).
    n_fake_heldout, n_real_heldout : held-out fake and real accounts behind ``tpr`` and ``fpr``
        (:func:`account_rate_counts`); NaN ignores the model's uncertainty.
    level : two-sided coverage, e.g. 0.9.

    Returns
    -------
    DataFrame (index of ``share`` when it is a Series) with float64 ``fake_share``, ``low`` and
    ``high``.

    Examples
    --------
    >>> out = likelihood_share_interval([0.3], [0.05], tpr=0.8, fpr=0.1)
    >>> [round(float(v), 3) for v in out.iloc[0]]
    [0.3, 0.218, 0.382]
    """
    index = share.index if isinstance(share, pd.Series) else None
    p, low, high = likelihood_share_bounds(
        share, se, tpr, fpr, n_fake_heldout, n_real_heldout, level
    )
    return pd.DataFrame({"fake_share": p, "low": low, "high": high}, index=index)


def likelihood_share_bounds(
    share,
    se,
    tpr: float,
    fpr: float,
    n_fake_heldout: float = np.nan,
    n_real_heldout: float = np.nan,
    level: float = 0.9,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`likelihood_share_interval` as three float64 arrays ``(fake_share, low, high)``.

    The same numbers without building a frame (the scorer's per-request fixed cost).

    >>> [round(float(v[0]), 3) for v in likelihood_share_bounds([0.3], [0.05], 0.8, 0.1)]
    [0.3, 0.218, 0.382]
    """
    tpr, fpr = _checked(tpr, fpr, level)
    p = np.asarray(share, dtype="float64")
    se = np.asarray(se, dtype="float64")
    model_var = _rates_variance(p, tpr, fpr, n_fake_heldout, n_real_heldout)
    half = _z(level) * np.sqrt(se**2 + model_var)
    low = np.minimum(np.clip(p - half, 0.0, 1.0), p)
    high = np.maximum(np.clip(p + half, 0.0, 1.0), p)
    return p, low, high


def _checked(tpr: float, fpr: float, level: float) -> tuple[float, float]:
    """``tpr`` and ``fpr`` as floats, after checking them and ``level``."""
    tpr, fpr = float(tpr), float(fpr)
    if not (0.0 <= fpr < tpr <= 1.0):
        raise ValueError(f"need 0 <= fpr < tpr <= 1, got tpr={tpr}, fpr={fpr}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    return tpr, fpr


def _rates_variance(
    p: np.ndarray, tpr: float, fpr: float, n_fake_heldout: float, n_real_heldout: float
) -> np.ndarray:
    """Variance a share ``p`` gets from the held-out error rates (delta method):
    ``((1 - p)^2 Var(fpr) + p^2 Var(tpr)) / (tpr - fpr)^2``, 0 for unknown held-out counts."""
    var_fpr = fpr * (1 - fpr) / n_real_heldout if n_real_heldout > 0 else 0.0
    var_tpr = tpr * (1 - tpr) / n_fake_heldout if n_fake_heldout > 0 else 0.0
    q = np.clip(p, 0.0, 1.0)
    return ((1 - q) ** 2 * var_fpr + q**2 * var_tpr) / (tpr - fpr) ** 2


@functools.cache
def _z(level: float) -> float:
    """The standard normal quantile of a two-sided ``level`` interval."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def _level(values: np.ndarray, partial: float, full: float) -> np.ndarray:
    """0 (none or too little), 1 (partial) or 2 (full) per value; NaN counts as none."""
    v = np.nan_to_num(np.asarray(values, dtype="float64"), nan=0.0)
    return (v >= partial).astype("int64") + (v >= full).astype("int64")


def fraud_confidence(counts: pd.DataFrame) -> np.ndarray:
    """Confidence grade (``"high"``, ``"medium"``, ``"low"``) of each creator's fraud risk.

    The grade says how much of the evidence a purchase leaves behind was there to look at, not
    how far the risk is from 0 or 1: a low risk from a creator with no history and three posts
    is "low" confidence, because a purchase would not have been visible.

    - **high**: full follower history (:data:`EVIDENCE_LEVELS`: 60 days, 30 points) *and* full
      posts (12), and at least partial comments;
    - **medium**: at least partial history and at least partial posts, or full history or full
      posts alone;
    - **low**: anything less.

    The audience sample does not count: a low-quality audience is not evidence of buying (bots
    follow everyone), and the fraud model does not read it.

    Parameters
    ----------
    counts : DataFrame with the columns of :data:`EVIDENCE_LEVELS` (``history_days``,
        ``history_points``, ``posts``, ``comments``); NaN counts as none.

    Examples
    --------
    >>> c = pd.DataFrame({"history_days": [180, 179, 0], "history_points": [150, 4, 0],
    ...                   "posts": [30, 30, 2], "comments": [100, 0, 0]})
    >>> fraud_confidence(c).tolist()
    ['high', 'medium', 'low']
    """
    history = np.minimum(
        _level(counts["history_days"], *EVIDENCE_LEVELS["history_days"]),
        _level(counts["history_points"], *EVIDENCE_LEVELS["history_points"]),
    )
    posts = _level(counts["posts"], *EVIDENCE_LEVELS["posts"])
    comments = _level(counts["comments"], *EVIDENCE_LEVELS["comments"])
    high = (history == 2) & (posts == 2) & (comments >= 1)
    medium = ((history >= 1) & (posts >= 1)) | (history == 2) | (posts == 2)
    grade = np.where(high, 2, np.where(medium, 1, 0))
    return np.asarray(CONFIDENCE_GRADES, dtype=object)[grade]


#: Lower bound of each ``low_quality_audience`` band on the estimated share of low-quality
#: followers: vendors raise the alarm at an audience credibility under 75% (Modash) and under
#: 60% (IG Audit), i.e. more than 25% and more than 40% fake (FACTS.md, "Follower accounts").
AUDIENCE_BANDS: tuple[tuple[str, float], ...] = (("low", 0.0), ("medium", 0.25), ("high", 0.40))


def low_quality_share(fake_share, mass_follower_share) -> np.ndarray:
    """Share of followers that add no audience: fake-looking, or following over 1,500 accounts.

    Mass followers see about 10% of posts (FACTS.md), so for reach they count like fakes; the
    two groups overlap (most fakes are mass followers), so the larger share is taken, a lower
    bound on their union. NaN only where both are unknown.

    >>> low_quality_share([0.1, np.nan, 0.5], [0.3, 0.2, np.nan]).tolist()
    [0.3, 0.2, 0.5]
    """
    return np.fmax(
        np.asarray(fake_share, dtype="float64"), np.asarray(mass_follower_share, dtype="float64")
    )


def audience_band(share) -> np.ndarray:
    """``low_quality_audience`` band per low-quality share (``None`` where unknown).

    >>> audience_band([0.1, 0.25, 0.62, np.nan]).tolist()
    ['low', 'medium', 'high', None]
    """
    p = np.asarray(share, dtype="float64")
    names = np.asarray([name for name, _ in AUDIENCE_BANDS], dtype=object)
    bounds = np.asarray([low for _, low in AUDIENCE_BANDS[1:]], dtype="float64")
    out = names[np.searchsorted(bounds, p, side="right")]
    return np.where(np.isnan(p), None, out)
