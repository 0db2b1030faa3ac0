"""The synthetic creator world: the embedded default data for the demo, training and tests.

``simulate(n_creators, seed)`` builds every input table of the data contract (creators,
follower_history, posts, comments, audience_sample, brands; columns per ``features.schema``)
plus label tables, fully vectorised and deterministic for a seed. Models trained on it must
work on real accounts, so every number below is either taken from ``FACTS.md`` (public
benchmarks, cited by source) or marked **assumption** with the reason it was chosen.

Population
----------
- Platforms: instagram 60%, tiktok 25%, youtube 15% (assumption: the vetting market is
  Instagram-first).
- Followers at the snapshot: truncated Pareto ``P(F > x) ~ x**-0.32`` on 1k to 5M (assumption:
  the issue's "heavy-tailed from about 1k to 5M"; measured tiers: about 55% nano, 27% micro,
  10% mid, 3% macro and 5% mega, so every tier has training rows; real populations are even
  more nano-heavy). Tiers follow ``features.schema.tier_of`` (10k / 100k / 500k / 1M).
- Niches: 12, uniform (fitness, beauty, fashion, travel, food, gaming, tech, parenting, finance,
  music, pets, outdoor); a quarter of each creator's posts are about a second niche (assumption:
  creators drift off-topic, which makes topic learning non-trivial).
- Language: 90% English; 10% other (issue): Spanish 30%, German 20%, Portuguese 20%, Japanese
  15%, Chinese 15% of those (assumption). Countries follow the language (e.g. en: US 50%, GB 20%,
  CA/AU/IN 10% each; zh: CN, TW 40%, SG 20%; assumption).
- Verified: 1% of nano rising to 90% of the largest (assumption). Account age 210 days to 12
  years (assumption). Organic following: log-normal, median 400, sigma 0.9, so about 7% of honest
  creators follow more than 1,500 accounts (assumption: overlap with follow-for-follow).

Follower history (``follower_history``, 180 days ending at the snapshot, 2026-11-01)
---------------------------------------------------------------------------------
- Organic growth 6-8% a month for small accounts, 2-5% for established ones (FACTS, "healthy
  growth"): mean 7% at 1k falling 1.2 points per decade of followers to 2.5%, sd 1.2 points.
- A weekly rhythm (+-60% of the daily drift) and daily log-noise with sd 0.15% (assumption).
- Viral events, the hard negatives: 8% of honest creators (5% of fraudulent ones; issue). One
  post gets 5-50x the engagement (log-uniform; issue), and followers rise over the following days
  (time constant 1.5-5 days) by ``multiplier x engagement rate x U(0.1, 0.5)`` of the organic
  audience, clipped to 1-50% (assumption; FACTS: a legitimate spike comes with an engagement
  event). 30% of these are giveaways (assumption): the post also collects 10-40 "tag a friend"
  comments per 100 likes (60% of its sampled organic comments are @mentions) and 30-60% of the
  new followers leave over 1-3 weeks starting 1-2 weeks later (FACTS: "giveaway followers leave
  after the draw").
- Messy sampling: 5% of creators have no history, 10% only 2-8 points, the rest are observed on a
  per-creator 20-100% of days with a gap of 7-35 days (40% of creators, a second for 15%) and a
  late start for 20% (assumption). The snapshot day is always observed, so ``creators.followers``
  is the last history value. 10% of creators are read from the displayed count, rounded to three
  significant digits above 10k ("12.3k"; assumption).

Fraud (``fraud_labels``: bought followers *or* engagement; 17% of creators, issue 15-20%)
-----------------------------------------------------------------------------------------
Kinds among fraudulent creators (assumption): burst 30%, drip 14%, likes 14%, pod 12%, f4f 12%,
burst+likes 8%, drip+likes 4%, burst+pod 6%. Fraud is independent of size (assumption).

- ``burst``: 1-4 equal steps ("staircase", 55/20/15/10%) of a round package (1k, 2k, 5k, 10k,
  20k, 50k, ... 500k: the largest not above the wanted size; FACTS: "often a round size (1k, 5k)";
  "repeated equal steps") adding 10-50% of the audience in total (assumption), each arriving
  within 1-2 days (FACTS), steps 7-30 days apart. 80% of buyers then lose 3-80% of the bought
  stock over 2-6 weeks starting 1-4 weeks after the last step (FACTS: the 2014 Instagram purge
  removed 3% to 83%; "slow loss as platforms remove fakes").
- ``drip``: 10-40% of the audience bought at a near-constant daily rate (+-5%) over 2-6 weeks
  (issue); 30% later lose 3-30% of it (assumption).
- ``likes``: bought likes at a level of 2.5-8x the organic median, per-post CV 3-20%, on every
  post (60%) or every post after a start in the first half (assumption), so likes have CV under
  0.4 (FACTS, trendHERO: under 0.4 suggests bought likes); comments stay organic, so comments per
  100 likes fall far below 2 (FACTS). Bought likes add no views.
- ``pod``: 20-200 members (FACTS, Weerasinghe et al. 2020); on 85% of posts after the start
  10-35% of members comment and 50-90% like; their comments are generic, come within the first
  hour and from the same members in much the same order (FACTS).
- ``f4f``: following jumps to 1,500-6,000 and seesaws (period 6-20 days, amplitude 15-45%,
  never below 1,500; FACTS: "a seesaw means follow/unfollow automation", mass follower above
  1,500); 10-35% of the audience are follow-backs, real accounts that engage at 5% of the normal
  rate and follow many accounts themselves (assumption).
- Bought followers never engage (issue).

Engagement (``posts``)
----------------------
- Rate (likes + comments) / followers by platform and size, interpolated in log10(followers) and
  applied to the *organic, real* followers at the time of the post, scaled for the creator's
  share of bots relative to a typical 15%. Instagram: 4.2% at 1k, 2.4% at 10k, 1.3% at 100k,
  0.75% at 500k, 0.5% at 1M, 0.36% at 5M (FACTS: untapper 2026 nano 3-5%; HypeAuditor 2026 1M+
  0.33%; Statista 2023 1-10k 2.19%; issue: nano 2-5% down to mega 0.3-0.5%). TikTok 2.55% at 1k
  to 0.8% at 5M (FACTS: median 1.31% per follower, Influencer Hero); YouTube 1.03% to 0.35%
  (FACTS: median 0.54% per subscriber); both curves were scaled until the simulated medians
  matched. Creator-level spread: log-normal sigma 0.3 (assumption). Measured medians of the
  per-creator median (likes + comments) / followers at 10k creators: Instagram nano 2.4%, micro
  1.4%, mid 0.8%, macro 0.5%, mega 0.34%; TikTok 1.33%; YouTube 0.55%.
- Niche factors (FACTS, Statista 2023 relative to about 1.7%): travel 1.35, beauty 1.12, fitness
  (sports) 0.95, fashion 0.9, tech (education) 0.75, others 1.
- Post-to-post spread: log-normal with sigma 0.42-0.75 per creator, i.e. CV 0.45-0.85 (FACTS:
  CV 0.4-1.0 normal); sponsored posts get 75% of the usual engagement (assumption); counts are
  Poisson draws around the rate.
- Comments: 2.1-4.8 per 100 likes per creator (log-normal around 3.2, FACTS: about 2-5), with
  per-post log-normal noise sigma 0.3.
- Views for video, reel and short posts: likes / likes-per-view, with likes per view 9% at 1k to
  1.3% at 5M on TikTok (FACTS: 6-10% nano to 1-2% mega), 5.4% to 2% on YouTube (FACTS: 5.4%
  under 10k; the rest assumption), 6% to 1.5% for Instagram video (assumption).
- Posts: Poisson with a gamma-distributed creator rate, mean 30 per 180 days (issue), evening-
  heavy hours; media types: instagram image 35%, carousel 30%, reel 30%, video 5%; tiktok video;
  youtube video 60%, short 40% (assumption). Sponsored: 2-12% of posts plus 2 points per decade
  of followers (assumption), tagged #ad or its local form and the brand's @handle.

Comments (``comments``)
-----------------------
Up to 10 comments on each creator's 10 latest posts. A sampled comment is a pod comment with
probability pod comments / all comments on that post; otherwise spam with probability
``0.03 + 0.25 x bot share`` (FACTS, HypeAuditor: 1-3 of 20 suspicious is normal; bot-heavy
audiences spam more), else organic text in the creator's language. Spam is English whatever the
creator writes (FACTS: language mismatch is a signal): "nice pic", "wow", emoji-only, "follow
back", and 15% mention-only. 25% of organic comments come from a fixed set of 40 loyal fans;
spam comes from the shared bot pool; organic delays are log-normal with median 3 hours and sigma
1.3 (spread over days), pod delays within the first hour (assumption except the pod hour, FACTS).

Audience (``audience_sample``, ``account_labels``, ``audience_truth``)
----------------------------------------------------------------------
- Organic bot share per creator, bimodal and unrelated to size (FACTS, SRF 2017: about 30%
  fake on average, median 14-20%, bimodal): 72% from Beta(2, 15) (mean 0.12), 28% from a
  high-fake cluster Beta(8, 5) (mean 0.62). Honest creators in that cluster are the "bots follow
  everyone" negatives (FACTS). Buyers add their bought stock, so the true fake share is
  ``(bot share x organic + bought) / all followers``. Measured at 10k creators: mean 0.28,
  median 0.17, no trend with size.
- 100 sampled followers per creator, none for 5% (issue). Mass followers (following 1,500-7,500)
  are 4% of real followers plus all f4f follow-backs (FACTS: mass follower threshold 1,500).
- Fake accounts come from a pool of ``max(2000, 10 x creators)`` bots shared by all creators.
  Distributions follow the labelled public sets (InstaFake 2019, the 2019 Kaggle fake/spammer set
  and SRF Data's 2017 hand-labelled followers): bots have median 40 followers (sets: 30-110),
  70% follow a median 1,800 accounts and 30% a median 90 (sets: 1,450-2,100 and Kaggle's 70),
  55% have no posts (sets: 50-60% at 0-1 posts), 60% a profile picture (sets: 41-93%), 75% an
  empty bio (sets: 74%), half have 1-6 digits in the user name (sets: 46-55%), 40% gibberish
  names. Real people: median 400 followers, 480 following, 70 posts, 99% pictures, 40% empty
  bios, 17% digits (sets: 345-660, 420-600, 30-74, 99%, 39%, 11-17%). Overlap both ways: 5% of
  bots copy real profiles and 8% of real people are dormant (no posts, no bio, 30% no picture).
  A tenth of the other non-spam bots are aged mass followers (median 600 followers, 3,500
  following, 8 posts): learnt from the SRF set, where the fakes the model missed (a third of
  them) were of this kind (median 690 followers, 4,300 following, 8 posts) and looked like real
  mass followers to a model that had never seen them. The copied-profile share was 10% until,
  with the aged bots in, the model flagged fewer simulated fakes (74% out of fold) than fakes
  of any real set (78-87%) at the same threshold. Both were set by looking at the real sets, so
  the synthetic-trained model's figures on them are no longer blind (docs/evaluation.md).

Brands and fit (``brands``, ``fit_labels``)
-------------------------------------------
- ``max(5, creators // 50)`` brands (:data:`CREATORS_PER_BRAND`), each with one niche, an
  English (80%), Spanish or German brief naming product, audience and values, target countries
  (none for 20% of English brands), a size window (micro-focused, nano+micro, mid+macro, 500k+,
  or open) and 0-2 excluded unrelated niches phrased as topics (assumption). Briefs name the
  wanted niche with its hashtags, say which related interests the audience also has in a
  sentence of its own, and tag excluded topics with their niche's hashtag, as real briefs do
  (see ``_sim_brands``).
  One brand per 50 creators, still five times fewer brands per creator than the published
  benchmark (FACTS.md, Gan et al. 2019: 360 brands for 3,748 micro-influencers, one per ten): a
  marketplace has many briefs, and with few the fit ranker is short of training brands
  (held-out NDCG@10 0.76 with 20 training brands, 0.83 with 40, 0.84 with 80; with the
  10,000-creator training world's 160 training brands and ``fit_near_topic_share``, 0.858 on
  the 100 brands of another 10,000-creator world against 0.849 with 80).
- 60-100 creators per brand, half from the brand's niche or related ones. Outcome 0-3 from
  ``2.2 topic + 0.7 country + 0.6 in-window - 0.8 decades outside - 2.5 excluded - 1.4 fraud
  - 1.0 excess fake share + 0.4 engagement quality + N(0, 0.45)`` cut at 1.0, 2.0, 2.9, where
  topic is 1 for the same niche and 0.55 for a related or secondary one (assumption; FACTS, Gan
  et al. 2019: content predicts fit, popularity does not, so size enters only as the window).

Labels
------
``fraud_labels`` (creator_id, bought_followers, source="simulator", labeled_at, fraud_kind),
``fraud_events`` (creator_id, kind, start_date, end_date, size, post_id: one row per burst step,
drip, purge and f4f period, and per post with bought likes or pod engagement; size is followers
bought or removed, likes bought, or pod likes + comments), ``fit_labels``, ``account_labels``
(one row per audience_sample row, with is_fake), ``audience_truth`` (creator_id, fake_share
among *all* followers, niche, language) and ``organic_events`` (same columns as fraud_events: one
row per viral post or giveaway, size = followers it brought; the honest spikes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from features.schema import TABLES
from training import _sim_audience, _sim_brands, _sim_creators, _sim_growth, _sim_posts
from training import _sim_text as text

__all__ = ["WorldConfig", "World", "simulate", "write_world", "FORMATS", "CREATORS_PER_BRAND"]

FORMATS = ("parquet", "csv", "jsonl")
#: Default brands per world: one per this many creators (at least 5); see "Brands and fit".
CREATORS_PER_BRAND = 50
# Date-typed columns of the label extensions (contract tables take theirs from the schema).
_EXTRA_DATES = {
    "fraud_events": ("start_date", "end_date"),
    "organic_events": ("start_date", "end_date"),
}


@dataclass(frozen=True)
class WorldConfig:
    """Settings of one synthetic world; the module docstring explains each default."""

    n_creators: int = 1_000
    seed: int = 0
    n_brands: int | None = None  # default max(5, n_creators // CREATORS_PER_BRAND)
    end_date: str = "2026-11-01"
    history_days: int = 180
    mean_posts: float = 30.0
    audience_size: int = 100
    comment_posts: int = 10
    comments_per_post: int = 10
    fraud_share: float = 0.17
    other_language_share: float = 0.10
    viral_share: float = 0.08
    bot_cluster_share: float = 0.28
    no_audience_share: float = 0.05
    min_followers: float = 1_000.0
    max_followers: float = 5_000_000.0
    size_alpha: float = 0.32
    fit_creators: tuple[int, int] = (60, 100)

    def __post_init__(self) -> None:
        if self.n_creators < 1:
            raise ValueError(f"n_creators must be at least 1, got {self.n_creators}")
        if self.history_days < 30:
            raise ValueError(f"history_days must be at least 30, got {self.history_days}")
        for name in (
            "fraud_share",
            "other_language_share",
            "viral_share",
            "bot_cluster_share",
            "no_audience_share",
        ):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {v}")
        if not 0 < self.min_followers < self.max_followers:
            raise ValueError("need 0 < min_followers < max_followers")

    @property
    def brands(self) -> int:
        """Number of brands: ``n_brands`` or ``max(5, n_creators // CREATORS_PER_BRAND)``."""
        if self.n_brands is not None:
            return self.n_brands
        return max(5, self.n_creators // CREATORS_PER_BRAND)


@dataclass
class World:
    """A simulated world: contract input tables, label tables and the config that made them."""

    config: WorldConfig
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    labels: dict[str, pd.DataFrame] = field(default_factory=dict)


def _rng(seed: int, stage: int) -> np.random.Generator:
    # One independent stream per stage, so changing one stage leaves the others' draws alone.
    return np.random.default_rng(np.random.SeedSequence([seed, stage]))


def _handles(rng: np.random.Generator, c: dict) -> np.ndarray:
    n = len(c["size"])
    first = np.asarray(text.FIRST_NAMES, dtype=object)[rng.integers(0, len(text.FIRST_NAMES), n)]
    # The first twelve handle words follow NICHES ("fit", "glow", "style", ...).
    word = np.asarray(text.HANDLE_WORDS, dtype=object)[c["niche"]]
    other = np.asarray(text.HANDLE_WORDS, dtype=object)[rng.integers(0, len(text.HANDLE_WORDS), n)]
    word = np.where(rng.random(n) < 0.6, word, other)
    sep = np.asarray(["", ".", "_"], dtype=object)[rng.integers(0, 3, n)]
    num = np.where(rng.random(n) < 0.25, rng.integers(1, 100, n).astype(str).astype(object), "")
    h = pd.Series(first + sep + word + num)
    # Handles are unique: a handle seen before gets the creator number appended.
    dup = h.duplicated().to_numpy()
    h[dup] = h[dup] + "_" + pd.Series(np.arange(n)[dup] + 1, index=h.index[dup]).astype(str)
    return h.to_numpy(dtype=object)


def simulate(n_creators: int, seed: int = 0, **overrides) -> World:
    """Simulate a world of ``n_creators`` creators, deterministic for ``seed``.

    Parameters
    ----------
    n_creators : number of creators.
    seed : random seed; the same seed and settings give identical tables.
    **overrides : any other :class:`WorldConfig` field (e.g. ``fraud_share=0.3``).

    Returns
    -------
    World
        ``tables`` holds creators, follower_history, posts, comments, audience_sample and brands;
        ``labels`` holds fraud_labels, fraud_events, organic_events, fit_labels,
        account_labels and audience_truth.

    Examples
    --------
    >>> world = simulate(50, seed=1)
    >>> sorted(world.tables)[:2], len(world.tables["creators"])
    (['audience_sample', 'brands'], 50)
    """
    cfg = WorldConfig(n_creators=n_creators, seed=seed, **overrides)
    n, D = cfg.n_creators, cfg.history_days
    end = pd.Timestamp(cfg.end_date).normalize()
    start = end - pd.Timedelta(days=D - 1)

    c = _sim_creators.draw_creators(_rng(seed, 1), cfg)
    handles = _handles(_rng(seed, 2), c)
    s = _sim_posts.schedule(_rng(seed, 3), c, cfg)
    g = _sim_growth.follower_paths(
        _rng(seed, 4), c, cfg, s["viral_day"], s["viral_gain"], s["giveaway"]
    )
    e = _sim_posts.engagement(_rng(seed, 5), c, cfg, s, g)

    who = s["who"]
    s["posted_at"] = (
        np.datetime64(start, "ns") + (s["day"] * 86_400 + s["sec"]).astype("timedelta64[s]")
    ).astype("datetime64[ns]")
    s["post_id"] = (
        c["creator_id"][who] + "_p" + np.char.zfill((s["k"] + 1).astype(str), 3)
    ).astype(object)

    brand_frame, facts = _sim_brands.brands(_rng(seed, 6), cfg.brands)
    brand_handles = np.asarray([nm.lower() for nm in brand_frame["name"]], dtype=object)
    caption = _sim_posts.post_text(_rng(seed, 7), c, s, e, handles, brand_handles)

    ids = _sim_posts.Ids()
    pool = _sim_audience.bot_pool(_rng(seed, 8), n, ids)
    comments = _sim_posts.comment_sample(
        _rng(seed, 9), c, cfg, s, e, ids, pool["follower_id"].to_numpy(), handles, end
    )
    sample, account_labels, fake_share = _sim_audience.audience(
        _rng(seed, 10), c, cfg, g, pool, ids
    )

    rng = _rng(seed, 11)
    followers = g["observed"][:, -1]
    extra_posts = rng.poisson(s["n_posts"] / D * (c["age_days"] - D) * rng.uniform(0.3, 1.0, n))
    bio = text.bios(rng, c["niche"], c["lang"])
    creators = pd.DataFrame(
        {
            "creator_id": c["creator_id"],
            "platform": c["platform"],
            "handle": handles,
            "followers": followers.astype(np.int64),
            "following": g["following"][:, -1].astype(np.int64),
            "posts_count": (s["n_posts"] + extra_posts).astype(np.int64),
            "bio": np.where(bio == "", None, bio),
            "is_verified": c["verified"].astype(bool),
            "country": c["country"],
            "created_at": end - pd.to_timedelta(c["age_days"], unit="D"),
            "snapshot_at": np.full(n, end, dtype="datetime64[ns]"),
        }
    )
    mask = _sim_growth.history_mask(_rng(seed, 12), n, D)
    hc, hd = np.nonzero(mask)
    history = pd.DataFrame(
        {
            "creator_id": c["creator_id"][hc],
            "date": (np.datetime64(start, "ns") + hd.astype("timedelta64[D]")).astype(
                "datetime64[ns]"
            ),
            "followers": g["observed"][hc, hd].astype(np.int64),
            "following": g["following"][hc, hd].astype(np.int64),
        }
    )
    posts = pd.DataFrame(
        {
            "creator_id": c["creator_id"][who],
            "post_id": s["post_id"],
            "posted_at": s["posted_at"],
            "likes": e["likes"].astype(np.int64),
            "comments": e["comments"].astype(np.int64),
            "views": e["views"],
            "caption": caption,
            "is_sponsored": e["sponsored"].astype(bool),
            "media_type": e["media"],
        }
    )

    fraud = pd.DataFrame(
        {
            "creator_id": c["creator_id"],
            "bought_followers": c["fraud_kind"] != "none",
            "source": "simulator",
            "labeled_at": np.full(n, end, dtype="datetime64[ns]"),
            "fraud_kind": c["fraud_kind"],
        }
    )
    events = _fraud_events(c, g["events"], s, e, start)
    fit = _sim_brands.fit_labels(
        _rng(seed, 13),
        c,
        followers,
        fake_share,
        brand_frame["brand_id"].to_numpy(),
        facts,
        *cfg.fit_creators,
    )
    organic_events = _organic_events(c, s, g, start)
    truth = pd.DataFrame(
        {
            "creator_id": c["creator_id"],
            "fake_share": fake_share,
            "niche": np.asarray(text.NICHES, dtype=object)[c["niche"]],
            "language": np.asarray(text.LANGUAGES, dtype=object)[c["lang"]],
        }
    )
    tables = {
        "creators": creators,
        "follower_history": history,
        "posts": posts,
        "comments": comments,
        "audience_sample": sample,
        "brands": brand_frame,
    }
    labels = {
        "fraud_labels": fraud,
        "fraud_events": events,
        "organic_events": organic_events,
        "fit_labels": fit,
        "account_labels": account_labels,
        "audience_truth": truth,
    }
    return World(config=cfg, tables=tables, labels=labels)


def _fraud_events(c: dict, ev: pd.DataFrame, s: dict, e: dict, start: pd.Timestamp):
    """One row per follower event and per post with bought likes or pod engagement."""
    day0 = np.datetime64(start, "ns")

    def days(d):
        return (day0 + np.asarray(d, dtype=np.int64).astype("timedelta64[D]")).astype(
            "datetime64[ns]"
        )

    parts = [
        pd.DataFrame(
            {
                "creator_id": c["creator_id"][ev["who"].to_numpy(dtype=np.int64)],
                "kind": ev["kind"].to_numpy(dtype=object),
                "start_date": days(ev["start"]),
                "end_date": days(ev["end"]),
                "size": ev["size"].to_numpy(dtype=np.int64),
                "post_id": None,
            }
        )
    ]
    for kind, rows, size in e["events"]:
        parts.append(
            pd.DataFrame(
                {
                    "creator_id": c["creator_id"][s["who"][rows]],
                    "kind": kind,
                    "start_date": days(s["day"][rows]),
                    "end_date": days(s["day"][rows]),
                    "size": size.astype(np.int64),
                    "post_id": s["post_id"][rows],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["post_id"] = out["post_id"].astype(object)
    return out.sort_values(["creator_id", "start_date", "kind"], kind="stable").reset_index(
        drop=True
    )


def _organic_events(c: dict, s: dict, g: dict, start: pd.Timestamp) -> pd.DataFrame:
    """One row per viral post or giveaway: the honest spikes a fraud model must not flag."""
    who = np.flatnonzero(s["viral_post"] >= 0)
    day0 = np.datetime64(start, "ns")
    end = np.minimum(g["viral_end"][who], len(g["observed"][0]) - 1)
    return pd.DataFrame(
        {
            "creator_id": c["creator_id"][who],
            "kind": np.where(s["giveaway"][who], "giveaway", "viral").astype(object),
            "start_date": day0 + s["viral_day"][who].astype("timedelta64[D]"),
            "end_date": day0 + end.astype("timedelta64[D]"),
            "size": np.round(g["viral_followers"][who]).astype(np.int64),
            "post_id": s["post_id"][s["viral_post"][who]],
        }
    ).astype({"start_date": "datetime64[ns]", "end_date": "datetime64[ns]"})


def _typed_columns(table: str, df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Date and timestamp columns of a table (schema types, plus label extensions)."""
    types = {col.name: col.type for col in TABLES.get(table, ())}
    dates = [k for k, t in types.items() if t == "date" and k in df]
    dates += [k for k in _EXTRA_DATES.get(table, ()) if k in df]
    stamps = [k for k, t in types.items() if t == "timestamp" and k in df]
    stamps += [
        k
        for k in df.columns
        if k not in dates and k not in stamps and pd.api.types.is_datetime64_any_dtype(df[k])
    ]
    return dates, stamps


def _write_table(name: str, df: pd.DataFrame, path: Path, fmt: str) -> None:
    dates, stamps = _typed_columns(name, df)
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        tbl = pa.Table.from_pandas(df, preserve_index=False)
        for col in dates:
            i = tbl.schema.get_field_index(col)
            tbl = tbl.set_column(i, col, tbl.column(col).cast(pa.date32()))
        pq.write_table(tbl, path)
        return
    out = df.copy()
    for col in dates:
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    for col in stamps:
        out[col] = out[col].dt.strftime("%Y-%m-%dT%H:%M:%S")
    if fmt == "csv":
        for col in out.columns:
            if pd.api.types.is_bool_dtype(out[col]):
                out[col] = np.where(out[col].to_numpy(dtype=bool), "true", "false")
        out.to_csv(path, index=False, lineterminator="\n")
    else:
        out.to_json(path, orient="records", lines=True, force_ascii=False)


def write_world(
    world: World, out_dir: str | Path, labels_out_dir: str | Path, fmt: str = "parquet"
) -> list[Path]:
    """Write input tables to ``out_dir`` and label tables to ``labels_out_dir``.

    Each table becomes ``<table>.<ext>`` (``.parquet``, ``.csv`` or ``.jsonl``). Dates are
    written as days (parquet ``date32``, ISO ``YYYY-MM-DD`` in text), timestamps as naive UTC.

    Returns
    -------
    list of Path
        The files written, inputs first.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    written = []
    for folder, tables in ((Path(out_dir), world.tables), (Path(labels_out_dir), world.labels)):
        folder.mkdir(parents=True, exist_ok=True)
        for name, df in tables.items():
            path = folder / f"{name}.{fmt}"
            _write_table(name, df, path, fmt)
            written.append(path)
    return written
