"""A bad night (issue 27, item 2): ``resync serve`` (its own process, its own full sync) on a simulator
of N jobs (another process) and an embedded PostgreSQL; once the graph is synced, F failed runs that
ended within the last hour are staged on distinct jobs (``POST /admin/runs``, realistic stdlists of
the simulator's failure kinds). Prints how long until the watcher has investigated every one
(diagnosis, cascade root, severity), the notifications it queued, and the latency of the API
(failed jobs, investigations, health) sampled the whole time.

Run: ``.venv/bin/python -m bench.bad_night [--jobs 100000] [--failures 1000]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench.sync_scale import free_port, simulator
from server.keys import hash_key
from tools.store.db import embedded_url

KEY = "bench-bad-night-key-123"
KINDS = ["missing_file", "cat_no_such_file", "deadlock", "ora_deadlock", "sftp_remote_missing", "java_file_not_found"]
ROUTES = ["/api/v2/jobs/failed", "/api/v2/investigations?limit=50", "/api/v2/system/health"]


def serve(url: str, database: str, data: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    log = data / "serve.log"
    env = {
        **os.environ,
        "TWS_BASE_URL": url,
        "TWS_USERNAME": "admin",
        "TWS_PASSWORD": "admin",
        "DATABASE_URL": database,
        "DATA_DIR": str(data),
        "EMBEDDINGS": "hashing",
        "API_KEYS": f"{hash_key(KEY)}:admin:bench",
        "RATE_LIMIT_PER_MINUTE": "0",
        "WATCH_INTERVAL_SECONDS": "5",
        "KG_SYNC_INTERVAL_SECONDS": "600",
        "NOTIFY_WEBHOOK_URL": "http://127.0.0.1:9/hook",  # queued per channel; delivery fails on loopback
        "LOG_LEVEL": "INFO",
    }
    command = [str(Path(sys.executable).parent / "resync"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    return process, f"http://127.0.0.1:{port}", log


def wait_for_text(log: Path, text: str, process: subprocess.Popen[bytes], seconds: float) -> float:
    started = time.monotonic()
    while text not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() - started > seconds:
            raise SystemExit(f"no {text!r}: {log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.5)
    return time.monotonic() - started


async def sample(api: str, stop: asyncio.Event, latencies: dict[str, list[float]]) -> None:
    """Each route about 4 times a second, one after another, until ``stop``."""
    async with httpx.AsyncClient(base_url=api, headers={"X-API-Key": KEY}, timeout=30) as http:
        while not stop.is_set():
            for route in ROUTES:
                started = time.perf_counter()
                response = await http.get(route)
                latencies[route].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
            await asyncio.sleep(0.25)


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


async def main(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="resync-bench-night-"))
    server = embedded_url(root / "pg")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench_night")
    database = server.replace("/postgres?", "/bench_night?")
    with simulator(args.jobs) as url:
        process, api, log = serve(url, database, root)
        try:
            synced = wait_for_text(log, "knowledge graph synced in full", process, 900)
            print(f"resync serve up and the graph synced in full in {synced:.0f} s ({args.jobs} jobs)")
            with psycopg.connect(database) as conn:
                names = [r[0] for r in conn.execute("SELECT DISTINCT name FROM kg_jobs WHERE status = 'SUCC'")]
            chosen = random.Random(7).sample(names, args.failures)
            latencies: dict[str, list[float]] = {route: [] for route in ROUTES}
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample(api, stop, latencies))
            started, staged_at = time.monotonic(), {}
            async with httpx.AsyncClient(base_url=url, timeout=30) as sim:
                for i, name in enumerate(chosen):
                    body = {"job": name, "kind": KINDS[i % len(KINDS)], "ended_minutes_ago": (i * 60) / args.failures}
                    (await sim.post("/admin/runs", json=body)).raise_for_status()
                    staged_at[name] = datetime.now(UTC)
            first = min(staged_at.values())
            print(f"{args.failures} failed runs staged in {time.monotonic() - started:.1f} s (the simulator's pace)")
            lags: list[float] = []
            seen: dict[str, tuple[datetime, bool]] = {}
            queued: tuple[int] | None = None
            while time.monotonic() - started < args.limit:
                with psycopg.connect(database) as conn:
                    rows = conn.execute(
                        "SELECT job_name, min(created_at), bool_or(root_run_id IS NOT NULL) FROM investigations"
                        " WHERE kind = 'failure' AND created_at >= %s GROUP BY job_name",
                        (first,),
                    ).fetchall()
                    queued = conn.execute("SELECT count(*) FROM notifications").fetchone()
                seen = {name: (created, rooted) for name, created, rooted in rows if name in staged_at}
                if len(seen) >= args.failures:
                    lags = [(created - staged_at[name]).total_seconds() for name, (created, _) in seen.items()]
                    break
                await asyncio.sleep(0.5)
            stop.set()
            await sampler
        finally:
            process.terminate()
            process.wait(timeout=30)
    if lags:
        rooted = sum(1 for _, r in seen.values() if r)
        print(
            f"every failure investigated; from its staging to its record: p50 {statistics.median(lags):.1f} s, "
            f"p95 {p95(lags):.1f} s, max {max(lags):.1f} s (the watcher looks every 5 s); "
            f"{rooted} pointed at a root failure; {queued[0] if queued else 0} notifications queued"
        )
    else:
        print(f"NOT every failure investigated within {args.limit:.0f} s: {len(seen)} of {args.failures}")
    for route, values in latencies.items():
        print(f"  {route}: p50 {statistics.median(values):.0f} ms, p95 {p95(values):.0f} ms over {len(values)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--failures", type=int, default=1000)
    parser.add_argument("--limit", type=float, default=600, help="seconds to wait for the investigations")
    asyncio.run(main(parser.parse_args()))
