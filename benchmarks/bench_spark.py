"""Spark engine speed: ``python benchmarks/bench_spark.py [n]`` (default 200,000 creators).

Scores the same simulated parquet world (generated once, cached like ``bench_score.py``) three
ways, each in its own process: the pandas batch path (``score --engine pandas``, one worker),
Spark ``local[1]`` and Spark ``local[2]``. Prints seconds and creators/s of each (Spark timed
after its session is up, its start printed apart), the local[2] / local[1] speed-up and the
Spark overhead against pandas. Prints, never asserts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_score import bundle, cache_dir, generate  # noqa: E402


def run_one(engine: str, data: Path, model: Path, out: Path) -> dict:
    """Score ``data`` once in this process; returns the timings as a dict."""
    from serving.predict import Scorer

    scorer = Scorer.load(model)
    if engine == "pandas":
        from serving.batch import score_folder

        t0 = time.perf_counter()
        summary = score_folder(data, out / "scores.parquet", scorer, chunk_size=5_000, jobs=1)
        return {"start": 0.0, "seconds": time.perf_counter() - t0, "rows": summary.n_rows}
    from serving.spark import score_folder_spark, spark_session

    t0 = time.perf_counter()
    spark = spark_session(engine, {"spark.ui.enabled": "false"})
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()
    start = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = score_folder_spark(spark, data, out / "scores", scorer)
    seconds = time.perf_counter() - t0
    spark.stop()
    return {"start": start, "seconds": seconds, "rows": rows}


def main(n: int = 200_000) -> None:
    root = cache_dir()
    data = generate(n, root / f"world-{n}")
    model = bundle(root / "bundle")
    results = {}
    for engine in ("pandas", "local[1]", "local[2]"):
        out = root / f"out-spark-{n}"
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        code = (
            "import json, sys; from pathlib import Path; sys.path.insert(0, 'benchmarks'); "
            "from bench_spark import run_one; "
            f"print('RESULT', json.dumps(run_one({engine!r}, Path({str(data)!r}), "
            f"Path({str(model)!r}), Path({str(out)!r}))))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
        results[engine] = json.loads(line[len("RESULT ") :])
        r = results[engine]
        print(
            f"{engine:>9}: {r['seconds']:8.1f} s for {r['rows']:,} creators "
            f"({r['rows'] / r['seconds']:,.0f}/s)"
            + (f", session start {r['start']:.1f} s" if r["start"] else ""),
            flush=True,
        )
    one, two, pd_ = (results[k]["seconds"] for k in ("local[1]", "local[2]", "pandas"))
    print(f"speed-up local[2] / local[1]: {one / two:.2f}x")
    print(f"Spark local[1] against pandas (1 worker): {one / pd_:.2f}x the time")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:2]))
