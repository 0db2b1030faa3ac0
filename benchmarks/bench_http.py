"""Single-creator requests against a real ``creatorscore serve``.

``python bench_http.py [n] [threads] [model] [workers] [rate]`` starts the service on a free
loopback port with the benchmark bundle (see ``bench_score.py``; or the bundle folder
``model``) and ``workers`` scoring processes behind its one server process (``creatorscore
serve --workers``, default 1), then sends ``n`` POST /v1/score requests (default 2,000), each
one simulated creator with its history, posts, comments and audience sample, from ``threads``
client threads (default 4); prints requests/s, latency percentiles and the CPU seconds the
service (with its scoring processes) used per request. The service's settings come from the
environment as usual (``CREATORSCORE_BATCH_WAIT_MS``, ...). Prints, never asserts.

Without ``rate`` the threads send as fast as answers come back: the most the service takes, and
the latency at that saturation. With ``rate`` (requests/s) request ``i`` is due ``i / rate``
seconds after the start and its latency counts from then, not from when a thread got to send it
(a request kept waiting by busy threads or a slow answer before it counts its wait): the latency
at that offered load, as a service level is stated ("200 requests/s with p99 under 50 ms").
"""

from __future__ import annotations

import gc
import json
import os
import queue
import socket
import subprocess
import sys
import threading
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live children (Linux /proc)."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # the process ended meanwhile
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    tree, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        tree.add(parent)
        todo += [p for p, (ppid, _) in stats.items() if ppid == parent and p not in tree]
    return sum(stats[p][1] for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


def main(
    n: int = 2_000, threads: int = 4, model: str | None = None, workers: int = 1, rate: int = 0
) -> None:
    model = Path(model) if model else bundle(cache_dir() / "bundle")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = ["-m", "serving.cli", "serve", "--port", str(port), "--model", str(model)]
    proc = subprocess.Popen([sys.executable, *cmd, "--workers", str(workers)])
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
        # One client, so one keep-alive connection, per thread, opened and used before the
        # clock starts: a client's set-up (tens of ms of CPU) and a server process's first
        # requests are not the steady state, and with several server processes each one
        # takes its share of the connections, so every connection is warmed.
        opened = [httpx.Client(base_url=base, headers=headers, timeout=30) for _ in range(threads)]
        clients = queue.SimpleQueue()
        for client in opened:
            for p in payloads[:10]:
                client.post("/v1/score", content=p).raise_for_status()
            clients.put(client)
        local = threading.local()
        # Nor are the client's own collector passes over the simulated tables (a full pass
        # stalled every thread for about 60 ms): what is alive now stays.
        gc.collect()
        gc.freeze()

        def one(i: int) -> float:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = clients.get_nowait()
            if rate:
                t = t0 + i / rate  # due then: the latency counts from there
                time.sleep(max(0.0, t - time.perf_counter()))
            else:
                t = time.perf_counter()
            client.post("/v1/score", content=payloads[i % len(payloads)]).raise_for_status()
            return time.perf_counter() - t

        cpu0 = _cpu_seconds(proc.pid)
        client0 = time.process_time()
        t0 = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            lat = np.array(list(pool.map(one, range(n))))
        seconds = time.perf_counter() - t0
        cpu = _cpu_seconds(proc.pid) - cpu0
        client_cpu = time.process_time() - client0
        for client in opened:
            client.close()
    finally:
        proc.terminate()
        proc.wait()
    print(
        f"requests              {n:,} single-creator POST /v1/score, {threads} client threads, "
        f"{workers} scoring process{'es' if workers > 1 else ''}"
    )
    offered = f" at an offered {rate:,} requests/s" if rate else ""
    print(f"throughput            {n / seconds:,.0f} requests/s{offered}")
    p50, p90, p99 = np.percentile(lat * 1000, [50, 90, 99])
    print(f"latency               p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms")
    print(f"service CPU           {cpu / n * 1000:.1f} ms per request")
    print(f"client CPU            {client_cpu / n * 1000:.1f} ms per request (same machine)")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(*[int(a) for a in args[:2]], *args[2:3], *[int(a) for a in args[3:5]])
