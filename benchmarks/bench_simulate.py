"""Speed and peak memory of the synthetic world: ``python benchmarks/bench_simulate.py [n]``.

Prints creators per second and peak memory (the process's peak resident size, before and after
the run; tracemalloc is not used because tracing every string allocation slows the simulator
several-fold) for simulating and for writing parquet. Never asserts: machines are noisy, read
the figures as orders of magnitude.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from pathlib import Path

from training.simulate import simulate, write_world


def main(n_creators: int = 10_000, seed: int = 0) -> None:
    """Simulate ``n_creators`` creators once, write them as parquet, print the figures."""
    simulate(50, seed=seed)  # warm imports and caches outside the timing

    # ru_maxrss is in KiB on Linux.
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    world = simulate(n_creators, seed=seed)
    t_sim = time.perf_counter() - t0
    rss_sim = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_world(world, Path(tmp) / "in", Path(tmp) / "labels", fmt="parquet")
        t_write = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*.parquet"))

    rows = {name: len(df) for name, df in {**world.tables, **world.labels}.items()}
    rss_write = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"creators              {n_creators:,}")
    print(f"simulate              {t_sim:.2f} s  ({n_creators / t_sim:,.0f} creators/s)")
    print(f"write parquet         {t_write:.2f} s  ({size / 2**20:.1f} MiB on disk)")
    print(
        f"peak resident memory  {rss_before:.0f} MiB before, {rss_sim:.0f} MiB after simulate, "
        f"{rss_write:.0f} MiB after writing"
    )
    for name, count in rows.items():
        print(f"  {name:<18} {count:>10,} rows")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
