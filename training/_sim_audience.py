"""Follower accounts of the synthetic world: real people, mass followers and bots.

Private to :mod:`training.simulate` (see its docstring for every number and its source). The
per-kind distributions are shaped after the labelled public data sets described there, with
overlap both ways: dormant real accounts look bot-like and one bot in twenty looks real.

Checked against the public sets (a model trained on these accounts scores them), which added:
real lurkers (10% of real people: a few followers, following few, few or no posts, as SRF's
hand-labelled real followers show: 10% of them have fewer than 37 followers), a wider spread of
how many accounts real people follow (27% of SRF's real followers follow more than 1,500), spam
bots that post a lot (SRF's fakes: a third with no posts, a tenth with hundreds), and a missing
full name as common among bots as among people (9% of both in the Kaggle set), so that an
unknown full name says nothing about an account. Later: aged mass-following bots (a tenth of the
non-spam bots), the kind of SRF's fakes the model still missed, and fewer bots that copy a real
profile (5%, was 10%): a model trained here flagged a smaller share of fakes than on any of the
three real sets, so the simulated bots were harder to tell than real ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training import _sim_text as text
from training._sim_posts import Ids

REAL, MASS, BOT = 0, 1, 2
# Share of the fake-looking bots (not spam) that are aged mass followers; see accounts().
AGED_SHARE = 0.10
_FIRST = np.asarray(text.FIRST_NAMES, dtype=object)
_LAST = np.asarray(text.LAST_NAMES, dtype=object)
_WORD = np.asarray(text.HANDLE_WORDS, dtype=object)
_FIRST_T = np.asarray([x.title() for x in text.FIRST_NAMES], dtype=object)
_LAST_T = np.asarray([x.title() for x in text.LAST_NAMES], dtype=object)


def _lognormal(rng, median: float, sigma: float, n: int) -> np.ndarray:
    return np.exp(rng.normal(np.log(median), sigma, n))


def _letters(rng: np.random.Generator, n_pool: int) -> np.ndarray:
    """A small pool of random lower-case strings (bot user names are often gibberish)."""
    lengths = rng.integers(5, 13, n_pool)
    chars = rng.integers(0, 26, (n_pool, 12)) + ord("a")
    return np.array(
        [bytes(row[:k].astype(np.uint8)).decode() for row, k in zip(chars, lengths, strict=True)],
        dtype=object,
    )


def _digit_strings(rng: np.random.Generator, n_dig: np.ndarray) -> np.ndarray:
    """A string of exactly ``n_dig[i]`` random digits per row (empty for 0)."""
    out = np.full(len(n_dig), "", dtype=object)
    # A pool of random numbers per length is far cheaper than formatting a million integers.
    for k in range(1, int(n_dig.max(initial=0)) + 1):
        rows = np.flatnonzero(n_dig == k)
        if rows.size:
            pool = rng.integers(0, 10**k, 2_000) + 10**k  # leading "1" keeps leading zeros
            pool = np.array([str(v)[1:] for v in pool], dtype=object)
            out[rows] = pool[rng.integers(0, len(pool), rows.size)]
    return out


def accounts(rng: np.random.Generator, kind: np.ndarray) -> dict[str, np.ndarray]:
    """Profile columns of the contract's audience_sample for accounts of the given kinds."""
    n = len(kind)
    bot = kind == BOT
    mass = kind == MASS
    # 5% of bots copy real profiles; 8% of real people are dormant and look bot-like, and
    # 10% are lurkers: few followers, few followed, little posted (SRF's real followers).
    looks_real = ~bot | (rng.random(n) < 0.05)
    u_real = rng.random(n)
    dormant = (kind == REAL) & (u_real < 0.08)
    lurker = (kind == REAL) & (u_real >= 0.08) & (u_real < 0.18)
    # A tenth of the fake-looking bots are spam accounts that post a lot and follow many.
    spam = bot & ~looks_real & (rng.random(n) < 0.10)
    # Aged mass-following bots: hundreds of followers (bot networks follow each other), thousands
    # followed and a handful of posts. The third of SRF's hand-labelled fakes that a model
    # without them missed look like this (median 690 followers, 4,300 following, 8 posts): to
    # such a model they were real mass followers.
    aged = bot & ~looks_real & ~spam & (rng.random(n) < AGED_SHARE)

    gib = _letters(rng, 400)[rng.integers(0, 400, n)]
    first = _FIRST[rng.integers(0, len(_FIRST), n)]
    u = rng.random(n)
    second = np.where(
        u < 0.5,
        _LAST[rng.integers(0, len(_LAST), n)],
        np.where(u < 0.7, _WORD[rng.integers(0, len(_WORD), n)], ""),
    )
    sep = np.asarray(["", ".", "_"], dtype=object)[rng.integers(0, 3, n)]
    name = first + np.where(second != "", sep, "") + second
    base = np.where(bot & (rng.random(n) < 0.4), gib, name)
    n_dig = np.where(
        bot & ~looks_real,
        np.where(rng.random(n) < 0.5, rng.integers(1, 7, n), 0),
        np.where(rng.random(n) < 0.17, rng.choice([1, 2, 2, 4], n), 0),
    )
    digits = _digit_strings(rng, n_dig)
    username = base + digits
    ulen = pd.Series(username).str.len().to_numpy(dtype=np.int64)

    full = (
        _FIRST_T[rng.integers(0, len(_FIRST_T), n)]
        + " "
        + _LAST_T[rng.integers(0, len(_LAST_T), n)]
    )
    fake_name = np.where(rng.random(n) < 0.55, _FIRST_T[rng.integers(0, len(_FIRST_T), n)], gib)
    # No full name for 9% of bots and people alike (Kaggle set): unknown carries no signal.
    full = np.where(rng.random(n) < 0.09, None, np.where(looks_real, full, fake_name))

    fake = ~looks_real
    followers = np.where(
        fake,
        np.where(spam, _lognormal(rng, 250, 1.2, n), _lognormal(rng, 40, 1.6, n)),
        np.where(mass, _lognormal(rng, 900, 1.2, n), _lognormal(rng, 400, 1.3, n)),
    )
    followers = np.where(lurker, _lognormal(rng, 15, 1.1, n), followers)
    followers = np.where(aged, _lognormal(rng, 600, 0.9, n), followers)
    mass_bot = spam | (rng.random(n) < 0.7)
    following = np.where(
        fake,
        np.where(mass_bot, _lognormal(rng, 1800, 0.8, n), _lognormal(rng, 90, 1.0, n)),
        np.where(mass, rng.uniform(1500, 7500, n), _lognormal(rng, 480, 1.15, n)),
    )
    following = np.where(lurker, _lognormal(rng, 60, 0.9, n), following)
    following = np.where(aged, _lognormal(rng, 3500, 0.5, n), following)
    media = np.where(
        fake,
        np.where(
            spam,
            _lognormal(rng, 200, 1.0, n),
            np.where(rng.random(n) < 0.55, 0.0, _lognormal(rng, 3, 1.3, n)),
        ),
        np.where(
            mass,
            _lognormal(rng, 150, 1.2, n),
            np.where(rng.random(n) < 0.04, 0.0, _lognormal(rng, 70, 1.3, n)),
        ),
    )
    media = np.where(lurker, np.where(rng.random(n) < 0.4, 0.0, _lognormal(rng, 3, 1.2, n)), media)
    media = np.where(dormant, 0.0, media)
    media = np.where(aged, _lognormal(rng, 8, 1.0, n), media)
    bio_len = np.where(
        fake,
        np.where(rng.random(n) < 0.75, 0.0, _lognormal(rng, 15, 0.8, n)),
        np.where(rng.random(n) < np.where(mass, 0.3, 0.4), 0.0, _lognormal(rng, 35, 0.7, n)),
    )
    bio_len = np.where(dormant | (lurker & (rng.random(n) < 0.7)), 0.0, np.minimum(bio_len, 150))
    pic = rng.random(n) < np.where(
        fake, np.where(spam, 0.95, 0.6), np.where(dormant, 0.7, np.where(mass, 0.97, 0.99))
    )
    private = rng.random(n) < np.where(fake, 0.3, np.where(mass, 0.2, 0.38))
    url = rng.random(n) < np.where(fake, 0.02, np.where(mass, 0.2, 0.12))
    url &= bio_len > 0
    return {
        "username": username,
        "username_length": ulen,
        "username_digit_count": n_dig.astype(np.int64),
        "full_name": full,
        "has_profile_pic": pic,
        "is_private": private,
        "biography_length": np.round(bio_len).astype(np.int64),
        "has_external_url": url,
        "media_count": np.round(media).astype(np.int64),
        "followers": np.round(followers).astype(np.int64),
        "following": np.minimum(np.round(following), 7500).astype(np.int64),
    }


def bot_pool(rng: np.random.Generator, n_creators: int, ids: Ids) -> pd.DataFrame:
    """Bots shared across creators: the same account follows (and spams) many creators."""
    n = max(2_000, 10 * n_creators)
    cols = accounts(rng, np.full(n, BOT))
    return pd.DataFrame({"follower_id": Ids.fmt(ids.take(n)), **cols})


def audience(rng, c: dict, cfg, g: dict, pool: pd.DataFrame, ids: Ids):
    """Audience sample, account labels and each creator's true fake share.

    Returns
    -------
    (audience_sample, account_labels, fake_share) where fake_share is one value per creator.
    """
    n = cfg.n_creators
    real_org = g["organic_end"] * (1 - c["phi"])
    fakes = g["organic_end"] * c["phi"] + g["bought_end"]
    total = g["organic_end"] + g["bought_end"] + g["f4f_end"]
    fake_share = fakes / total
    # Among real followers: f4f follow-backs plus the few mass followers everyone has.
    mass_share = (g["f4f_end"] + 0.04 * real_org) / np.maximum(total - fakes, 1.0)

    has = rng.random(n) >= cfg.no_audience_share
    size = np.where(has, np.minimum(cfg.audience_size, np.round(total)).astype(np.int64), 0)
    cw = np.repeat(np.arange(n), size)
    r = len(cw)
    is_fake = rng.random(r) < fake_share[cw]
    kind = np.where(is_fake, BOT, np.where(rng.random(r) < mass_share[cw], MASS, REAL))

    bot_idx = rng.integers(0, len(pool), r)
    # A bot drawn twice for one creator is one follower.
    key = np.where(is_fake, cw.astype(np.int64) * len(pool) + bot_idx, -1 - np.arange(r))
    keep = ~pd.Series(key).duplicated().to_numpy()
    cw, is_fake, kind, bot_idx = cw[keep], is_fake[keep], kind[keep], bot_idx[keep]

    people = np.flatnonzero(~is_fake)
    bots = np.flatnonzero(is_fake)
    fresh = accounts(rng, kind[people])
    fresh["follower_id"] = Ids.fmt(ids.take(len(people)))
    columns = {"creator_id": c["creator_id"][cw]}
    for col in pool.columns:
        values = pool[col].to_numpy()
        out = np.empty(len(cw), dtype=values.dtype)
        out[people] = fresh[col]
        out[bots] = values[bot_idx[bots]]
        columns[col] = out
    both = pd.DataFrame(columns)
    sample = both.copy()
    both["is_fake"] = is_fake
    return sample, both, fake_share
