"""Speed and peak memory of ``features.build``: ``python benchmarks/bench_features.py``.

Simulates ``--creators`` creators (default 100,000) as worlds of 10,000 with different seeds,
creator ids made unique with a per-world prefix and brands dropped, and caches them as parquet
under ``benchmarks/.cache/`` so that reruns skip the simulation. Every world is loaded through
``features.dataset.load`` and the loaded tables are concatenated. A topic model and an account
model are fitted on the first world (not timed).

Then it times, with ``time.perf_counter``:

- ``features.build`` on all creators, text and account model included, with ``n_jobs=1`` and
  with ``--n-jobs`` (default 2: the families of each block of creators run on that many
  threads);
- each builder family called on its own, over the blocks of creators that ``build`` takes;
- a naive reference: a per-creator ``groupby("creator_id").apply(fn)`` implementation of a
  representative subset of the growth, engagement and comment features, on ``--naive-sample``
  creators, against the vectorised builders of the same families on the same sample and on all
  creators.

Peak memory is the process's peak resident set size (Linux ``VmHWM``, which covers every
thread), reset just before each timed call (``/proc/self/clear_refs``)
and shown above the resident size at the call's start, so that it belongs to that call and not
to the loading (``ru_maxrss`` since start where the reset is not available). tracemalloc is not
used: tracing every small allocation of the text and string work would slow the build
several-fold.

Prints plain lines that the README quotes; never asserts (machines are noisy: read the figures
as orders of magnitude).
"""

from __future__ import annotations

import argparse
import re
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

import features
from features.audience import audience_features
from features.comments import comment_features
from features.dataset import CreatorData, load
from features.engagement import EngagementCurve, engagement_features
from features.growth import growth_features
from features.profile import profile_features
from features.topics import TopicModel, creator_documents, topic_features
from models.account import MAX_TREES, AccountModel

CACHE = Path(__file__).parent / ".cache"
WORLD_SIZE = 10_000
INPUT_TABLES = ("creators", "follower_history", "posts", "comments", "audience_sample")
# The account model is fitted on the accounts of this many creators of the first world (about
# 50,000 accounts): enough for a model that reaches its cap of trees, whose scoring cost is what
# is measured here, and it keeps the untimed set-up short (2,000 creators took minutes).
ACCOUNT_FIT_CREATORS = 500
# Boosting rounds of the benchmark's account model: the model's own cap (models.account.MAX_TREES,
# what training produces). Scoring cost grows linearly with the rounds, so the accounts/s line
# lets the figures be scaled to any model.
ACCOUNT_ROUNDS = MAX_TREES


# -- memory ------------------------------------------------------------------------------------


def _reset_peak() -> bool:
    """Reset the process's peak resident size (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mib() -> float:
    """Peak resident size since the last reset (VmHWM), else since start (ru_maxrss), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_mib() -> float:
    """Current resident size in MiB (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


_CPU: dict[str, float] = {}


def _timed(fn):
    """Run ``fn()``; return its result, seconds, and peak RSS above the RSS at the start (MiB).

    The CPU seconds of the process (all threads) go to ``_CPU["last"]``: on a shared machine
    they say more than the wall clock.
    """
    _reset_peak()
    base = _current_mib()
    c0 = time.process_time()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    _CPU["last"] = time.process_time() - c0
    return out, seconds, _peak_mib() - base


# -- data --------------------------------------------------------------------------------------


def _world_dir(seed: int) -> Path:
    return CACHE / f"world_{WORLD_SIZE}_seed{seed}"


def _ensure_world(seed: int) -> Path:
    """Simulate world ``seed`` once and cache its input tables (and account labels) as parquet."""
    folder = _world_dir(seed)
    done = folder / "_complete"
    if done.exists():
        return folder
    from training.simulate import simulate

    world = simulate(WORLD_SIZE, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    prefix = f"w{seed}-"
    for name in INPUT_TABLES:
        table = world.tables[name].copy()
        table["creator_id"] = prefix + table["creator_id"].astype(str)
        table.to_parquet(folder / f"{name}.parquet", index=False)
    labels = world.labels["account_labels"]
    labels.to_parquet(folder / "account_labels.parquet", index=False)
    done.write_text("ok")
    return folder


def _subset(data: CreatorData, n: int) -> CreatorData:
    """The first ``n`` creators of ``data`` with their rows."""
    creators = data.creators.iloc[:n].reset_index(drop=True)
    keep = pd.Index(creators["creator_id"])

    def sub(t: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if t is None else t[t["creator_id"].isin(keep)].reset_index(drop=True)

    return CreatorData(
        creators=creators,
        follower_history=sub(data.follower_history),
        posts=sub(data.posts),
        comments=sub(data.comments),
        audience_sample=sub(data.audience_sample),
        brands=None,
        creator_ids=list(keep),
        errors=data.errors.iloc[:0],
        unscorable={},
    )


# -- the naive reference -----------------------------------------------------------------------
# Written the way a first notebook would: one Python function per creator, called by
# groupby().apply(). It computes a representative subset of the growth, engagement and comment
# features (same definitions, simplified: no gap resolution, no as_of window, no purge/step
# logic), which is enough to show what per-creator Python costs.


def _naive_growth(h: pd.DataFrame) -> pd.Series:
    s = h.set_index("date")["followers"].sort_index()
    s = s[~s.index.duplicated()]
    daily = s.resample("D").mean().interpolate("linear")
    last = daily.iloc[-1]
    out = {}
    for k in (7, 30, 90):
        before = daily.iloc[-1 - k] if len(daily) > k else np.nan
        out[f"growth_{k}d_rel"] = last / before - 1.0 if before > 0 else np.nan
    prev = daily.shift(1)
    rel = (daily - prev) / prev.where(prev > 0)
    out["growth_max_jump_1d_rel"] = rel.max()
    return pd.Series(out)


def _naive_engagement(p: pd.DataFrame, followers: float) -> pd.Series:
    p = p.sort_values("posted_at").tail(30)
    er = (p["likes"] + p["comments"]) / followers if followers > 0 else np.nan
    likes = p["likes"]
    return pd.Series(
        {
            "eng_er_median": np.nanmedian(er) if followers > 0 else np.nan,
            "eng_comments_per_like": p["comments"].sum() / likes.sum()
            if likes.sum() > 0
            else np.nan,
            "eng_likes_cv": likes.std() / likes.mean()
            if len(likes) >= 3 and likes.mean() > 0
            else np.nan,
        }
    )


_NAIVE_GENERIC = None


def _naive_comments(c: pd.DataFrame) -> pd.Series:
    global _NAIVE_GENERIC
    if _NAIVE_GENERIC is None:
        from features.comments import _GENERIC_RE, _NOT_WORDS, _REPEATS

        _NAIVE_GENERIC = (re.compile(_NOT_WORDS), re.compile(_REPEATS), re.compile(_GENERIC_RE))
    not_words, repeats, generic_re = _NAIVE_GENERIC
    generic = []
    for text in c["text"]:
        words = repeats.sub(r"\1", not_words.sub(" ", text.casefold())).strip()
        generic.append(bool(words) and generic_re.fullmatch(words) is not None)
    who = c["commenter_id"].dropna()
    top5 = who.value_counts().head(5).sum() / len(who) if len(who) else np.nan
    return pd.Series({"cmt_generic_share": np.mean(generic), "cmt_top5_commenter_share": top5})


def naive_features(data: CreatorData) -> pd.DataFrame:
    """The naive per-creator ``groupby().apply()`` reference for the subset above."""
    followers = data.creators.set_index("creator_id")["followers"]
    growth = data.follower_history.groupby("creator_id")[["date", "followers"]].apply(_naive_growth)
    eng = data.posts.groupby("creator_id")[["posted_at", "likes", "comments"]].apply(
        lambda p: _naive_engagement(p, followers[p.name])
    )
    cmt = data.comments.groupby("creator_id")[["text", "commenter_id"]].apply(_naive_comments)
    return pd.concat([growth, eng, cmt], axis=1)


# -- main --------------------------------------------------------------------------------------


def _account_rate(data: CreatorData, model) -> float:
    """Follower accounts scored per second by the account model (features excluded)."""
    from features.audience import _predict_fake, account_features

    acc = account_features(data.audience_sample.iloc[:200_000])[model.feature_names]
    t0 = time.perf_counter()
    _predict_fake(model, acc)
    return len(acc) / (time.perf_counter() - t0)


def _families(data: CreatorData, days, text_model, account_model, curve) -> dict:
    return {
        "profile": lambda: profile_features(data.creators, days),
        "growth": lambda: growth_features(data.follower_history, data.creators, days),
        "engagement": lambda: engagement_features(
            data.posts, data.creators, data.follower_history, days, curve
        ),
        "topics (text)": lambda: topic_features(data.creators, data.posts, days, text_model),
        "audience": lambda: audience_features(data.audience_sample, data.creators, account_model),
        "comments": lambda: comment_features(data.comments, data.posts, data.creators, days),
    }


def main() -> None:
    """Parse the flags, prepare the data and models, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--creators", type=int, default=100_000, help="creators to build (100,000)")
    ap.add_argument("--naive-sample", type=int, default=2_000, help="creators for the naive run")
    ap.add_argument(
        "--account-rounds",
        type=int,
        default=ACCOUNT_ROUNDS,
        help=f"most account model rounds ({ACCOUNT_ROUNDS})",
    )
    ap.add_argument("--n-jobs", type=int, default=2, help="n_jobs of the parallel run (2)")
    args = ap.parse_args()

    n_worlds = max(1, -(-args.creators // WORLD_SIZE))
    t0 = time.perf_counter()
    folders = [_ensure_world(seed) for seed in range(n_worlds)]
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    parts = [load(folder) for folder in folders]
    data = CreatorData.concat(parts)
    del parts
    if len(data.creators) > args.creators:
        data = _subset(data, args.creators)
    t_load = time.perf_counter() - t0
    n = len(data.creators)
    rows = {
        name: len(getattr(data, name)) for name in INPUT_TABLES if getattr(data, name) is not None
    }

    # Models on the first world only, untimed.
    t0 = time.perf_counter()
    first = _subset(data, min(n, WORLD_SIZE))
    first_days = features.resolve_as_of(first)
    text_model = TopicModel(n_topics=24).fit(
        creator_documents(first.creators, first.posts, first_days)
    )
    labels = pd.read_parquet(folders[0] / "account_labels.parquet")
    fit_ids = labels["creator_id"].drop_duplicates().iloc[:ACCOUNT_FIT_CREATORS]
    labels = labels[labels["creator_id"].isin(fit_ids)].reset_index(drop=True)
    account_model = AccountModel.fit_labels(
        labels, max_rounds=args.account_rounds, max_trees=args.account_rounds
    )
    t_models = time.perf_counter() - t0
    curve = EngagementCurve.prior()
    days = features.resolve_as_of(data)

    print(f"creators                 {n:,}")
    print("rows                     " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    print(
        f"set-up (untimed)         simulate/cache {t_sim:.0f} s, load {t_load:.0f} s, "
        f"models {t_models:.0f} s ({len(labels):,} labelled accounts)"
    )
    print(f"account model            {account_model.booster_.num_trees()} trees")
    print(f"resident after loading   {_current_mib():,.0f} MiB")

    def build(n_jobs: int):
        return features.build(
            data, text_model=text_model, account_model=account_model, curve=curve, n_jobs=n_jobs
        )

    # Warm imports, regex compilation and LightGBM on a few creators, outside the timing.
    features.build(_subset(data, 200), text_model=text_model, account_model=account_model)
    print(f"account scoring          {_account_rate(data, account_model):,.0f} accounts/s")

    full1, s1, m1 = _timed(lambda: build(1))
    print(
        f"build, n_jobs=1          {s1:7.1f} s  {n / s1:9,.0f} creators/s  "
        f"({_CPU['last']:.1f} CPU s)  "
        f"peak +{m1:,.0f} MiB over loaded data"
    )
    if args.n_jobs > 1:
        fullp, sp, mp = _timed(lambda: build(args.n_jobs))
        same = fullp.equals(full1)
        print(
            f"build, n_jobs={args.n_jobs}          {sp:7.1f} s  {n / sp:9,.0f} creators/s  "
            f"({_CPU['last']:.1f} CPU s)  "
            f"peak +{mp:,.0f} MiB; identical to n_jobs=1: {same}"
        )
    del full1

    # Each family over the blocks of creators that build() takes (all at once when few).
    size = features.BLOCK_CREATORS
    blocks = (features._blocks(data, size) if n > size else None) or [((0, n), data)]
    per_block = [
        _families(part, days.iloc[a:b], text_model, account_model, curve) for (a, b), part in blocks
    ]
    per_family = {}
    for name in per_block[0]:
        _, sec, mem = _timed(lambda name=name: [fams[name]() for fams in per_block])
        per_family[name] = sec
        print(
            f"  {name:<22} {sec:7.2f} s  {n / sec:9,.0f} creators/s  "
            f"({_CPU['last']:.1f} CPU s)  peak +{mem:,.0f} MiB"
        )

    # Naive reference against the vectorised builders of the same families.
    sample = _subset(data, min(args.naive_sample, n))
    sample_days = features.resolve_as_of(sample)
    k = len(sample.creators)
    _, s_naive, _ = _timed(lambda: naive_features(sample))
    sample_fams = _families(sample, sample_days, text_model, account_model, curve)
    s_vec = sum(_timed(sample_fams[f])[1] for f in ("growth", "engagement", "comments"))
    s_vec_full = sum(per_family[f] for f in ("growth", "engagement", "comments"))
    naive_rate = k / s_naive
    print(
        f"naive groupby-apply      {s_naive:7.2f} s  {naive_rate:9,.0f} creators/s  "
        f"(growth+engagement+comments subset, {k:,} creators)"
    )
    print(
        f"vectorised, same sample  {s_vec:7.2f} s  {k / s_vec:9,.0f} creators/s  "
        f"= {k / s_vec / naive_rate:,.0f}x naive (full families, more features)"
    )
    print(
        f"vectorised, all creators {s_vec_full:7.2f} s  {n / s_vec_full:9,.0f} creators/s  "
        f"= {n / s_vec_full / naive_rate:,.0f}x naive"
    )


if __name__ == "__main__":
    main()
