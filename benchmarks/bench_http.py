"""Single-creator requests against a real ``creatorscore serve``: ``python bench_http.py [n]``.

Starts the service on a free loopback port with the benchmark bundle (see ``bench_score.py``),
then sends ``n`` POST /v1/score requests, each one simulated creator with its history, posts,
comments and audience sample, from 4 client threads; prints requests/s and latency percentiles.
Prints, never asserts.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_score import bundle, cache_dir  # noqa: E402


def bodies(n_creators: int = 200) -> list[bytes]:
    from training.simulate import simulate

    tables = simulate(n_creators, seed=99).tables
    out = []
    groups = {
        t: dict(tuple(tables[t].groupby("creator_id")))
        for t in ("follower_history", "posts", "comments", "audience_sample")
    }
    for i, cid in enumerate(tables["creators"]["creator_id"]):
        body = {
            "creators": json.loads(
                tables["creators"].iloc[[i]].to_json(orient="records", date_format="iso")
            )
        }
        for t, g in groups.items():
            if cid in g:
                body[t] = json.loads(g[cid].to_json(orient="records", date_format="iso"))
        out.append(json.dumps(body).encode())
    return out


def main(n: int = 2_000, threads: int = 4) -> None:
    model = bundle(cache_dir() / "bundle")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "serving.cli", "serve", "--port", str(port), "--model", str(model)]
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        payloads = bodies()
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as warm:
            for p in payloads[:20]:
                warm.post("/v1/score", content=p).raise_for_status()

        def one(i: int) -> float:
            with_client = clients[i % threads]
            t = time.perf_counter()
            with_client.post("/v1/score", content=payloads[i % len(payloads)]).raise_for_status()
            return time.perf_counter() - t

        clients = [httpx.Client(base_url=base, headers=headers, timeout=30) for _ in range(threads)]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            lat = np.array(list(pool.map(one, range(n))))
        seconds = time.perf_counter() - t0
        for c in clients:
            c.close()
    finally:
        proc.terminate()
        proc.wait()
    print(f"requests              {n:,} single-creator POST /v1/score, {threads} client threads")
    print(f"throughput            {n / seconds:,.0f} requests/s")
    p50, p90, p99 = np.percentile(lat * 1000, [50, 90, 99])
    print(f"latency               p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main(*[int(a) for a in sys.argv[1:]])
