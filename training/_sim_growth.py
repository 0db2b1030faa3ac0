"""Follower and following curves of the synthetic world, with bought followers and sampling.

Private to :mod:`training.simulate` (see its docstring for every number and its source). Daily
latent paths are ``(n_creators, history_days)`` matrices; purchases are expanded to per-day rows
and added with ``np.add.at``, so no Python loop runs per creator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Round packages sold by follower shops (FACTS: "often a round size (1k, 5k)").
PACKAGES = np.array([1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000])
# Typical organic share of bots; engagement curves are calibrated for an audience like this.
PHI_REF = 0.15


def _expand(start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row index into the events and day offset, one row per (event, day in its span)."""
    rows = np.repeat(np.arange(len(start)), length)
    first = np.repeat(np.cumsum(length) - length, length)
    return rows, np.arange(len(rows)) - first


def _add(inc: np.ndarray, who: np.ndarray, day: np.ndarray, amount: np.ndarray) -> None:
    keep = (day >= 0) & (day < inc.shape[1])
    np.add.at(inc, (who[keep], day[keep]), amount[keep])


def _triangle(x: np.ndarray) -> np.ndarray:
    """Triangle wave in [-1, 1] with period 1."""
    return 4.0 * np.abs(x - np.floor(x) - 0.5) - 1.0


def _purge(rng, inc, who, after, bought, p_purge, lo, hi, events) -> None:
    """Remove a share of ``bought`` over some weeks starting some days after ``after``."""
    D = inc.shape[1]
    has = rng.random(len(who)) < p_purge
    who, after, bought = who[has], after[has], bought[has]
    share = rng.uniform(lo, hi, len(who))
    start = after + rng.integers(7, 31, len(who))
    length = rng.integers(14, 43, len(who))
    visible = start < D
    who, start, length, share, bought = (a[visible] for a in (who, start, length, share, bought))
    rows, off = _expand(start, length)
    per_day = share * bought / length
    _add(inc, who[rows], start[rows] + off, -per_day[rows])
    seen = np.minimum(length, D - start)
    events.append(
        {
            "who": who,
            "kind": np.full(len(who), "purge", dtype=object),
            "start": start,
            "end": start + seen - 1,
            "size": np.round(per_day * seen).astype(np.int64),
        }
    )


def follower_paths(rng: np.random.Generator, c: dict, cfg, viral_day, viral_gain, giveaway) -> dict:
    """Latent daily followers and following, observed values, purchase events.

    Parameters
    ----------
    rng : random generator of this stage.
    c : creator arrays from ``draw_creators``.
    cfg : the world configuration.
    viral_day, viral_gain : day index of each creator's viral post (-1 for none) and the
        followers it brings as a share of the creator's organic followers.
    giveaway : whether the viral post was a giveaway (30-60% of its followers leave after).
    """
    n, D = cfg.n_creators, cfg.history_days
    d = np.arange(D)
    size = c["size"]
    events: list[dict] = []

    # Organic drift with a weekly rhythm and day-to-day noise, in log space, ending at 1.
    drift = np.log1p(c["growth_month"]) / 30.44
    phase = rng.uniform(0, 7, n)
    weekly = 1.0 + 0.6 * np.sin(2 * np.pi * (d[None, :] + phase[:, None]) / 7.0)
    step = drift[:, None] * weekly + rng.normal(0.0, 0.0015, (n, D))
    logo = np.cumsum(step, axis=1)
    organic_rel = np.exp(logo - logo[:, -1:])
    del weekly, step, logo  # the (n, days) temporaries dominate memory at 10k+ creators

    # Viral events: followers arrive over the days after the post, with the engagement.
    tau = rng.uniform(1.5, 5.0, n)
    since = d[None, :] - viral_day[:, None]
    viral_rel = np.where(
        (viral_day[:, None] >= 0) & (since >= 0),
        viral_gain[:, None] * (1.0 - np.exp(-(since + 1) / tau[:, None])),
        0.0,
    )
    leave = viral_day + rng.integers(7, 15, n)
    leave_len = rng.integers(7, 22, n)
    lost_share = np.where(giveaway, rng.uniform(0.3, 0.6, n), 0.0)
    gone = np.clip((d[None, :] - leave[:, None] + 1) / leave_len[:, None], 0.0, 1.0)
    viral_rel -= np.where(viral_day[:, None] >= 0, (lost_share * viral_gain)[:, None] * gone, 0.0)
    del since, gone

    # Bought followers: daily increments of the bought stock.
    inc = np.zeros((n, D))
    burst = np.flatnonzero(c["has_burst"])
    if burst.size:
        n_steps = rng.choice([1, 2, 3, 4], burst.size, p=[0.55, 0.2, 0.15, 0.1])
        share = rng.uniform(0.1, 0.5, burst.size)
        want = share * size[burst] / n_steps
        pkg = PACKAGES[np.clip(np.searchsorted(PACKAGES, want, side="right") - 1, 0, None)]
        first = rng.integers(10, max(11, D - 40), burst.size)
        rows, k = _expand(first, n_steps)
        gap = np.where(k == 0, 0, rng.integers(7, 31, len(rows)))
        day = first[rows] + pd.Series(gap).groupby(rows).cumsum().to_numpy()
        who = burst[rows]
        size_k = pkg[rows]
        ok = day < D - 2
        who, day, size_k = who[ok], day[ok], size_k[ok]
        two = rng.random(len(who)) < 0.5
        frac = np.where(two, rng.uniform(0.5, 0.9, len(who)), 1.0)
        _add(inc, who, day, size_k * frac)
        _add(inc, who, day + 1, size_k * (1.0 - frac))
        events.append(
            {
                "who": who,
                "kind": np.full(len(who), "burst", dtype=object),
                "start": day,
                "end": day + two.astype(np.int64),
                "size": size_k.astype(np.int64),
            }
        )
        # Partial purge of 3-80% of the bought stock in the weeks after the last step.
        total = pd.Series(size_k).groupby(who).sum()
        last = pd.Series(day).groupby(who).max()
        _purge(
            rng,
            inc,
            total.index.to_numpy(),
            last.to_numpy(),
            total.to_numpy(dtype=float),
            0.8,
            0.03,
            0.8,
            events,
        )

    drip = np.flatnonzero(c["has_drip"])
    if drip.size:
        length = rng.integers(14, 43, drip.size)
        start = rng.integers(0, np.maximum(1, D - length - 1))
        total = rng.uniform(0.1, 0.4, drip.size) * size[drip]
        rows, off = _expand(start, length)
        daily = (total / length)[rows] * np.clip(rng.normal(1.0, 0.05, len(rows)), 0.8, 1.2)
        _add(inc, drip[rows], start[rows] + off, daily)
        seen = np.minimum(length, D - start)
        events.append(
            {
                "who": drip,
                "kind": np.full(drip.size, "drip", dtype=object),
                "start": start,
                "end": start + seen - 1,
                "size": np.round(total).astype(np.int64),
            }
        )
        _purge(rng, inc, drip, start + length, total, 0.3, 0.03, 0.3, events)
    bought = np.cumsum(inc, axis=1)

    # Follow-for-follow: following seesaws above 1,500; followers gained follow back.
    following_rel = np.exp(np.cumsum(rng.normal(0.0, 0.004, (n, D)), axis=1))
    following = c["following0"][:, None] * following_rel / following_rel[:, -1:]
    f4f_rel = np.zeros((n, D))
    ff = np.flatnonzero(c["has_f4f"])
    f4f_end = np.zeros(n)
    if ff.size:
        start = rng.integers(0, max(1, D // 2), ff.size)
        period = rng.uniform(6.0, 20.0, ff.size)
        amp = rng.uniform(0.15, 0.45, ff.size)
        base = np.maximum(rng.uniform(1500, 6000, ff.size), 1550 / (1 - amp))
        wave = _triangle((d[None, :] - start[:, None]) / period[:, None])
        active = d[None, :] >= start[:, None]
        following[ff] = np.where(active, base[:, None] * (1 + amp[:, None] * wave), following[ff])
        ramp = np.clip((d[None, :] - start[:, None] + 1) / (D - start[:, None]), 0.0, 1.0)
        f4f_rel[ff] = ramp * (1.0 + 0.05 * wave)
        f4f_end[ff] = rng.uniform(0.1, 0.35, ff.size) * size[ff]
        events.append(
            {
                "who": ff,
                "kind": np.full(ff.size, "f4f", dtype=object),
                "start": start,
                "end": np.full(ff.size, D - 1),
                "size": np.round(f4f_end[ff]).astype(np.int64),
            }
        )

    bought_end = bought[:, -1]
    organic_end = np.maximum(size - bought_end - f4f_end, 0.3 * size) / (1.0 + viral_rel[:, -1])
    organic = organic_end[:, None] * (organic_rel + viral_rel)
    f4f = f4f_end[:, None] * f4f_rel
    total = organic + bought + f4f

    obs = np.round(total)
    # Some scrapers read the displayed count ("12.3k"): three significant digits.
    big = c["display_round"][:, None] & (obs >= 10_000)
    unit = 10.0 ** (np.floor(np.log10(np.maximum(obs, 1.0))) - 2)
    obs = np.where(big, np.round(obs / unit) * unit, obs).astype(np.int64)
    following = np.round(following).astype(np.int64)

    return {
        "organic": organic,
        "f4f": f4f,
        "bought": bought,
        "observed": obs,
        "following": following,
        "organic_end": organic[:, -1],
        "bought_end": np.maximum(bought_end, 0.0),
        "f4f_end": f4f_end,
        "events": _events_frame(events),
        "viral_followers": organic_end * viral_gain,
        "viral_end": viral_day + np.ceil(3 * tau).astype(np.int64),
    }


def _events_frame(events: list[dict]) -> pd.DataFrame:
    cols = ("who", "kind", "start", "end", "size")
    if not events:
        return pd.DataFrame({k: np.array([], dtype=np.int64) for k in cols})
    return pd.DataFrame({k: np.concatenate([e[k] for e in events]) for k in cols})


def history_mask(rng: np.random.Generator, n: int, D: int) -> np.ndarray:
    """Which days were observed: irregular, with gaps, a handful of points, or none at all.

    The snapshot day (the last) is observed whenever a creator has any history, so the creators
    table's follower count is the last history value.
    """
    kind = rng.choice(3, n, p=[0.05, 0.10, 0.85])  # none, handful, regular-but-messy
    mask = rng.random((n, D)) < rng.uniform(0.2, 1.0, n)[:, None]
    d = np.arange(D)
    for p_gap in (0.4, 0.15):
        has = rng.random(n) < p_gap
        g0 = rng.integers(0, D, n)
        glen = rng.integers(7, 36, n)
        mask &= ~(has[:, None] & (d[None, :] >= g0[:, None]) & (d[None, :] < (g0 + glen)[:, None]))
    late = rng.random(n) < 0.2
    first = np.where(late, rng.integers(0, max(1, D - 30), n), 0)
    mask &= d[None, :] >= first[:, None]
    # A handful of points: the k best of random scores per row.
    k = rng.integers(2, 9, n)
    order = np.argsort(rng.random((n, D)), axis=1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(d, (n, D)), axis=1)
    mask = np.where((kind == 1)[:, None], rank < k[:, None], mask)
    mask[:, -1] = True
    mask[kind == 0] = False
    return mask
