"""End-to-end batch scoring through the CLI: ``python benchmarks/bench_score.py [n] [jobs]``.

Generates ``n`` simulated creators (default 1,000,000; about 180 history days, 30 posts and 100
audience accounts each) to parquet once, in blocks, cached under ``$CREATORSCORE_BENCH_DIR``
(default ``~/.cache/creatorscore-bench``); trains a bundle once with the training pipeline;
then runs ``creatorscore score`` on it and prints creators/s, the CPU time of the whole process
tree (the command and its workers), the peak resident memory of that tree (sampled from /proc
every 0.2 s) and the share of chunk time spent in LightGBM prediction (with reasons). Prints,
never asserts.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

BLOCK = 20_000
TABLES = ("creators", "follower_history", "posts", "comments", "audience_sample", "brands")


def cache_dir() -> Path:
    return Path(os.environ.get("CREATORSCORE_BENCH_DIR", Path.home() / ".cache/creatorscore-bench"))


def generate(n: int, folder: Path) -> Path:
    """Write ``n`` creators in blocks of 20,000 (ids prefixed per block), once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from training.simulate import simulate

    done = folder / "DONE"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    writers: dict[str, pq.ParquetWriter] = {}
    t0 = time.perf_counter()
    for b, start in enumerate(range(0, n, BLOCK)):
        world = simulate(min(BLOCK, n - start), seed=1000 + b)
        for name in TABLES:
            df = world.tables[name]
            if name == "brands":
                if b == 0:
                    df.to_parquet(folder / "brands.parquet", index=False)
                continue
            df = df.assign(creator_id=f"b{b:03d}-" + df["creator_id"].astype(str))
            table = pa.Table.from_pandas(df, preserve_index=False)
            for col in ("created_at", "snapshot_at", "date"):
                if col in table.column_names:
                    i = table.schema.get_field_index(col)
                    table = table.set_column(i, col, table.column(col).cast(pa.date32()))
            if name not in writers:
                writers[name] = pq.ParquetWriter(folder / f"{name}.parquet", table.schema)
            writers[name].write_table(table.cast(writers[name].schema))
        print(
            f"  generated {start + len(world.tables['creators']):,} creators "
            f"({time.perf_counter() - t0:,.0f} s)",
            flush=True,
        )
    for w in writers.values():
        w.close()
    done.write_text(str(n))
    return folder


BUNDLE_CREATORS, BUNDLE_SEED = 3_000, 7


def _training_digest() -> str:
    """Digest of what decides the bench bundle: package version and every training default."""
    import hashlib
    import json
    from importlib.metadata import version

    from models.account import ACCOUNT_PARAMS, MAX_TREES
    from training.config import TrainConfig

    settings = {
        "package": version("creatorscore"),
        "train": TrainConfig().to_dict(),
        "account_params": ACCOUNT_PARAMS,
        "account_max_trees": MAX_TREES,
        "world": [BUNDLE_CREATORS, BUNDLE_SEED],
    }
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _account_trees(folder: Path) -> int:
    """Trees in the bundle's account booster (LightGBM text model: one ``Tree=`` per tree)."""
    booster = folder / "account" / "booster.txt"
    if not booster.exists():
        return 0
    with booster.open() as fh:
        return sum(line.startswith("Tree=") for line in fh)


def bundle(folder: Path) -> Path:
    """A bundle trained once by the training pipeline on 3,000 simulated creators.

    The folder is reused only while it was trained with the current settings (the sibling file
    ``<folder>.trained-with`` holds their digest; the bundle folder itself must hold only what
    its manifest lists) and its account model respects ``models.account.MAX_TREES``; otherwise
    it is retrained, so speed figures never come from a bundle the pipeline no longer makes.
    """
    import shutil

    from models.account import MAX_TREES

    digest = _training_digest()
    stamp = folder.with_name(folder.name + ".trained-with")
    if (
        (folder / "manifest.json").exists()
        and stamp.exists()
        and stamp.read_text().strip() == digest
        and 0 < _account_trees(folder) <= MAX_TREES
    ):
        return folder
    from features.dataset import load
    from training.pipeline import fit_bundle
    from training.simulate import simulate

    if folder.exists():
        print(f"  retraining the stale bundle in {folder}", flush=True)
        shutil.rmtree(folder)
    stamp.unlink(missing_ok=True)
    world = simulate(BUNDLE_CREATORS, seed=BUNDLE_SEED)
    fit_bundle(load(world.tables), world.labels).bundle.save(folder)
    stamp.write_text(digest + "\n")
    return folder


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parents.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier += kids
    return sum(rss.get(p, 0) for p in tree)


def _lightgbm_share(data: Path, model: Path, chunk_size: int) -> float:
    """Share of one chunk's scoring time inside LightGBM's predict (every model), profiled."""
    import cProfile
    import pstats

    from serving.batch import _repeated_in, _score_chunk, iter_chunks
    from serving.predict import Scorer

    scorer = Scorer.load(model)
    chunk = next(iter_chunks(data, chunk_size))
    args = (str(scorer.folder), scorer.model_version, chunk, _repeated_in(chunk, {}), "flagged")
    _score_chunk(*args)  # warm the worker cache (bundle load) outside the profile
    prof = cProfile.Profile()
    prof.runcall(_score_chunk, *args)
    stats = pstats.Stats(prof).stats
    total = max(v[3] for v in stats.values())
    inner = sum(v[2] for k, v in stats.items() if "inner_predict" in k[2])
    return inner / total


def main(n: int = 1_000_000, jobs: int = 2, chunk_size: int = 5_000) -> None:
    root = cache_dir()
    data = generate(n, root / f"data-{n}")
    model = bundle(root / "bundle")
    out = root / f"scores-{n}.parquet"
    cmd = [
        sys.executable,
        "-m",
        "serving.cli",
        "score",
        "--data",
        str(data),
        "--out",
        str(out),
        "--model",
        str(model),
        "--jobs",
        str(jobs),
        "--chunk-size",
        str(chunk_size),
    ]
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0

    def watch() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    output = proc.communicate()[0]
    seconds = time.perf_counter() - t0
    watcher.join()
    # Workers are reaped by the command before it exits, so their time is counted here too.
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(cpu1, f) - getattr(cpu0, f) for f in ("ru_utime", "ru_stime"))
    if proc.returncode:
        print(output)
        raise SystemExit(proc.returncode)
    share = re.search(r"\((\d+%)\)", output)
    lgb_share = _lightgbm_share(data, model, chunk_size)
    print(f"creators              {n:,} (jobs {jobs}, chunk size {chunk_size:,})")
    print(
        f"wall time             {seconds:,.1f} s  ({n / seconds:,.0f} creators/s, CLI start "
        f"and bundle load included)"
    )
    print(f"CPU time (tree)       {cpu:,.1f} s  ({cpu / n * 1e6:,.0f} us per creator)")
    print(f"peak memory (tree)    {peak / 2**30:.2f} GiB")
    print(
        f"LightGBM prediction   {share.group(1) if share else '?'} of chunk time in the fraud "
        f"model; {lgb_share:.0%} of one profiled chunk in all models (account model included)"
    )
    print(output.strip().splitlines()[-1] if output.strip() else "")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
