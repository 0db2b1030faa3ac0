"""Posts, engagement (organic, viral, bought likes, pods) and the comment sample.

Private to :mod:`training.simulate` (see its docstring for every number and its source). All
arrays are one entry per post (or per sampled comment), in creator-then-time order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from training import _sim_text as text
from training._sim_creators import ER_LOG10F, PER_VIEW_LOG10F, curve
from training._sim_growth import PHI_REF

MEDIA = {
    "instagram": (("image", "carousel", "reel", "video"), (0.35, 0.3, 0.3, 0.05)),
    "tiktok": (("video",), (1.0,)),
    "youtube": (("video", "short"), (0.6, 0.4)),
}
VIDEO_TYPES = ("video", "reel", "short")


class Ids:
    """Unique user ids that look random: a counter passed through a bijection of 0..10^9-1."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, n: int) -> np.ndarray:
        k = np.arange(self.next, self.next + n, dtype=np.int64)
        self.next += n
        return k

    @staticmethod
    def fmt(k: np.ndarray) -> np.ndarray:
        # 3**18 is coprime with 10**9, so this is a permutation of 9-digit numbers.
        v = (k * 387_420_489 + 123_456_789) % 1_000_000_000
        return "u" + v.astype(str).astype(object)


def offsets(counts: np.ndarray) -> np.ndarray:
    """Start of each group in a flat array of groups with these sizes."""
    return np.cumsum(counts) - counts


def schedule(rng: np.random.Generator, c: dict, cfg) -> dict:
    """Post times and the viral post of each viral creator (before engagement is known)."""
    n, D = cfg.n_creators, cfg.history_days
    n_posts = rng.poisson(c["post_rate"] * D / 180.0)
    who = np.repeat(np.arange(n), n_posts)
    day = rng.integers(0, D, len(who))
    # Posting hour: evening-heavy, in UTC.
    sec = ((rng.normal(18.0, 4.0, len(who)) % 24.0) * 3600).astype(np.int64)
    order = np.lexsort((sec, day, who))
    day, sec = day[order], sec[order]
    start = offsets(n_posts)
    k = np.arange(len(who)) - start[who]

    # The viral post: any post at least 12 days before the snapshot (posts are sorted by day).
    early = np.bincount(who, weights=day <= D - 12, minlength=n).astype(np.int64)
    viral = c["viral"] & (early >= 1)
    pick = start + np.floor(rng.random(n) * np.maximum(early, 1)).astype(np.int64)
    viral_post = np.where(viral, pick, -1)
    viral_day = np.where(viral, day[np.clip(pick, 0, max(len(day) - 1, 0))] if len(day) else 0, -1)
    mult = np.exp(rng.uniform(np.log(5.0), np.log(50.0), n))
    er = curve(np.log10(c["size"]), c["platform"], ER_LOG10F) * c["er_mult"]
    gain = np.where(viral, np.clip(mult * er * rng.uniform(0.1, 0.5, n), 0.01, 0.5), 0.0)
    # A share of viral posts are giveaways: tag-a-friend comments, and followers leave after.
    giveaway = viral & (rng.random(n) < 0.3)
    return {
        "n_posts": n_posts,
        "who": who,
        "day": day,
        "sec": sec,
        "k": k,
        "viral_post": viral_post,
        "viral_day": viral_day,
        "viral_mult": np.where(viral, mult, 1.0),
        "viral_gain": gain,
        "giveaway": giveaway,
    }


def engagement(rng: np.random.Generator, c: dict, cfg, s: dict, g: dict) -> dict:
    """Likes, comments, views per post; bought likes and pod engagement with their events."""
    D = cfg.history_days
    who, day = s["who"], s["day"]
    m = len(who)
    phi = c["phi"]
    # Only real, organic followers at the time of the post engage; f4f followers barely do.
    base = g["organic"][who, day] * ((1 - phi) / (1 - PHI_REF))[who] + 0.05 * g["f4f"][who, day]
    er = curve(np.log10(np.maximum(g["organic_end"], 1.0)), c["platform"], ER_LOG10F)
    er = er * c["er_mult"]
    cr = c["comment_rate"]
    p_sponsor = np.clip(
        rng.uniform(0.02, 0.12, cfg.n_creators) + 0.02 * (np.log10(c["size"]) - 3), 0.0, 0.3
    )
    sponsored = rng.random(m) < p_sponsor[who]
    mult = np.exp(c["like_sigma"][who] * rng.standard_normal(m))
    mult = np.where(sponsored, 0.75 * mult, mult)
    viral_row = np.zeros(m, dtype=bool)
    vp = s["viral_post"][s["viral_post"] >= 0]
    viral_row[vp] = True
    mult = np.where(viral_row, mult * s["viral_mult"][who], mult)
    likes_org = rng.poisson(base * (er / (1 + cr))[who] * mult).astype(np.int64)
    comments = rng.poisson(likes_org * cr[who] * np.exp(rng.normal(0, 0.3, m))).astype(np.int64)
    # Giveaway posts collect "tag a friend" comments: 10-40 per 100 likes on top.
    give_row = viral_row & s["giveaway"][who]
    extra = rng.poisson(likes_org * rng.uniform(0.1, 0.4, m))
    comments += np.where(give_row, extra, 0).astype(np.int64)
    likes = likes_org.copy()
    ev = []

    # Bought likes: a near-constant level on every post after the purchase starts.
    n = cfg.n_creators
    start_l = np.where(rng.random(n) < 0.6, 0, rng.integers(0, max(1, D // 2), n))
    level = rng.uniform(2.5, 8.0, n) * g["organic_end"] * (1 - phi) / (1 - PHI_REF) * er / (1 + cr)
    cv = rng.uniform(0.03, 0.2, n)
    hit = c["has_likes"][who] & (day >= start_l[who])
    bought = np.where(
        hit, np.maximum(level[who] * (1 + cv[who] * rng.standard_normal(m)), 0.0), 0.0
    )
    bought = np.round(bought).astype(np.int64)
    likes += bought
    ev.append(("likes", np.flatnonzero(hit), bought[hit]))

    # Engagement pods: 20-200 members, a share of whom like and comment within the hour.
    pod_size = rng.integers(20, 201, n)
    start_p = np.where(rng.random(n) < 0.5, 0, rng.integers(0, max(1, D // 2), n))
    hit = c["has_pod"][who] & (day >= start_p[who]) & (rng.random(m) < 0.85)
    p_com = rng.uniform(0.1, 0.35, n)[who]
    p_like = rng.uniform(0.5, 0.9, n)[who]
    pod_com = np.where(hit, rng.binomial(pod_size[who], p_com), 0).astype(np.int64)
    pod_like = np.where(hit, rng.binomial(pod_size[who], p_like), 0).astype(np.int64)
    likes += pod_like
    comments += pod_com
    ev.append(("pod", np.flatnonzero(hit), (pod_like + pod_com)[hit]))

    plat = c["platform"][who]
    media = np.empty(m, dtype=object)
    u = rng.random(m)
    for name, (types, p) in MEDIA.items():
        rows = plat == name
        media[rows] = np.asarray(types, dtype=object)[
            np.searchsorted(np.cumsum(p), u[rows] * 0.999999)
        ]
    is_video = np.isin(media, VIDEO_TYPES)
    per_view = curve(np.log10(c["size"]), c["platform"], PER_VIEW_LOG10F)[who]
    views = likes_org / per_view * np.exp(rng.normal(0, 0.25, m))
    views = np.maximum(np.round(views), likes).astype(np.int64)
    return {
        "likes": likes,
        "likes_org": likes_org,
        "comments": comments,
        "pod_comments": pod_com,
        "views": pd.Series(views, dtype="Int64").mask(~is_video).array,
        "media": media,
        "sponsored": sponsored,
        "pod_size": pod_size,
        "giveaway_post": give_row,
        "events": ev,
    }


def post_text(rng: np.random.Generator, c: dict, s: dict, e: dict, handles, brand_handles):
    """Captions: three quarters about the creator's niche, the rest about a second one."""
    who = s["who"]
    m = len(who)
    niche = np.where(rng.random(m) < 0.75, c["niche"][who], c["niche2"][who])
    mention = np.where(rng.random(m) < 0.15, handles[rng.integers(0, len(handles), m)], "")
    sponsor = brand_handles[rng.integers(0, len(brand_handles), m)]
    return text.captions(rng, niche, c["lang"][who], e["sponsored"], mention, sponsor)


def comment_sample(
    rng: np.random.Generator,
    c: dict,
    cfg,
    s: dict,
    e: dict,
    ids: Ids,
    bot_pool: np.ndarray,
    handles: np.ndarray,
    end: pd.Timestamp,
) -> pd.DataFrame:
    """Up to ``comments_per_post`` comments on each creator's ``comment_posts`` latest posts."""
    who, k = s["who"], s["k"]
    n = cfg.n_creators
    last = (s["n_posts"][who] - 1 - k) < cfg.comment_posts
    n_take = np.where(last, np.minimum(e["comments"], cfg.comments_per_post), 0)
    post = np.repeat(np.arange(len(who)), n_take)
    cw = who[post]
    r = len(post)

    share_pod = e["pod_comments"][post] / np.maximum(e["comments"][post], 1)
    u = rng.random(r)
    is_pod = u < share_pod
    is_spam = ~is_pod & (rng.random(r) < c["spam_share"][cw])

    niche = np.where(rng.random(r) < 0.75, c["niche"][cw], c["niche2"][cw])
    txt = text.organic_comments(rng, niche, c["lang"][cw])
    spam = np.asarray(text.SPAM_COMMENTS, dtype=object)[rng.integers(0, len(text.SPAM_COMMENTS), r)]
    mention_only = "@" + handles[rng.integers(0, len(handles), r)]
    spam = np.where(rng.random(r) < 0.15, mention_only, spam)
    pod = np.asarray(text.POD_COMMENTS, dtype=object)[rng.integers(0, len(text.POD_COMMENTS), r)]
    # On giveaway posts most real followers just tag friends.
    tag = "@" + handles[rng.integers(0, len(handles), r)]
    tag = tag + np.where(rng.random(r) < 0.5, " @" + handles[rng.integers(0, len(handles), r)], "")
    txt = np.where(e["giveaway_post"][post] & (rng.random(r) < 0.6), tag, txt)
    txt = np.where(is_pod, pod, np.where(is_spam, spam, txt))

    # Commenters: loyal fans recur, most are one-off; spam comes from the shared bot pool; pod
    # members comment in much the same order on every post.
    fan_base = ids.take(40 * n).reshape(n, 40)
    pod_base = ids.take(200 * n).reshape(n, 200)
    fresh = ids.take(r)
    fan = rng.random(r) < 0.25
    org_id = np.where(fan, fan_base[cw, rng.integers(0, 40, r)], fresh)
    pod_rank = pd.Series(is_pod.astype(np.int64)).groupby(post).cumsum().to_numpy() - 1
    size = e["pod_size"][cw]
    member = np.where(rng.random(r) < 0.2, rng.integers(0, 200, r) % size, pod_rank % size)
    uid = np.where(is_pod, pod_base[cw, member], org_id)
    commenter = Ids.fmt(uid)
    if len(bot_pool):
        commenter = np.where(is_spam, bot_pool[rng.integers(0, len(bot_pool), r)], commenter)

    posted = s["posted_at"][post]
    delay_org = np.exp(rng.normal(np.log(3 * 3600), 1.3, r))
    delay_pod = 60 + (pod_rank + 1) * rng.uniform(15, 60, r)
    delay = np.where(is_pod, np.minimum(delay_pod, 3599), delay_org)
    created = posted + np.round(delay).astype(np.int64).astype("timedelta64[s]")
    cap = np.datetime64(end + pd.Timedelta(days=1) - pd.Timedelta(seconds=1), "ns")
    created = np.minimum(created.astype("datetime64[ns]"), cap)
    return pd.DataFrame(
        {
            "creator_id": c["creator_id"][cw],
            "post_id": s["post_id"][post],
            "text": txt,
            "commenter_id": commenter,
            "created_at": created,
        }
    )
