"""Knowledge graph at scale on the embedded PostgreSQL: bulk sync of 1k/10k/100k jobs with two
edges per job, re-sync (idempotent), and depth-10 closure queries (a table by size). Prints numbers only.

Run: ``make bench`` or
``.venv/bin/python -m bench.kg_scale [--jobs 1000 10000 100000] [--edges-per-job 2] [--http 20000]``
(``--http N`` also times a full sync over HTTP from a simulator with N jobs).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from tools.store.db import embedded_url, open_pool
from tools.store.kg import KnowledgeGraph
from tools.store.migrate import upgrade
from tools.store.snapshot import PlanSnapshot


def synthetic(jobs: int, edges: int, seed: int = 7) -> PlanSnapshot:
    rng = random.Random(seed)
    now = datetime(2026, 3, 12, tzinfo=UTC)
    snap = PlanSnapshot()
    snap.workstations = [(f"w{i}", f"AGT{i}", "AGENT", "LINUX", True, True) for i in range(50)]
    streams = jobs // 10
    snap.streams = [(f"s{i}", f"STREAM_{i:05d}", f"/AGT{i % 50}", now, "EXEC", None, True) for i in range(streams)]
    statuses = ["SUCC"] * 6 + ["HOLD"] * 3 + ["ABEND"]
    snap.jobs = [
        (
            f"j{i}",
            f"JOB_{i:06d}",
            f"/AGT{i % 50}",
            f"s{i // 10}",
            f"STREAM_{i // 10:05d}",
            now + timedelta(seconds=i),
            rng.choice(statuses),
            None,
            rng.random() < 0.05,
            None,
            True,
        )
        for i in range(jobs)
    ]
    while len(snap.edges) < edges:
        succ = rng.randrange(1, jobs)
        pred = rng.randrange(max(0, succ - 400), succ)
        snap.edges.add(
            ("job", f"j{pred}", "job", f"j{succ}", "EXTERNAL_JOB" if pred // 10 != succ // 10 else "INTERNAL")
        )
    for i in range(1, streams, 7):
        snap.edges.add(("stream", f"s{rng.randrange(max(0, i - 50), i)}", "stream", f"s{i}", "EXTERNAL_JOBSTREAM"))
    return snap


async def main(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="resync-bench-"))
    server = embedded_url(root / "pg")
    rows = [await one_size(server, jobs, jobs * args.edges_per_job) for jobs in args.jobs]
    print("\njobs      edges     down p50   down p95   up p50   nodes down/up   kg_context")
    for jobs, edges, down, down95, up, nodes_down, nodes_up, context in rows:
        print(
            f"{jobs:<9} {edges:<9} {down:6.1f} ms  {down95:6.1f} ms  {up:6.1f} ms  "
            f"{nodes_down:>6}/{nodes_up:<6}   {context:6.1f} ms"
        )
    if args.http:
        await http_sync(args.http, root)


async def one_size(server: str, jobs: int, edges: int) -> tuple[int, int, float, float, float, int, int, float]:
    """Sync a synthetic plan of ``jobs`` jobs into a database of its own and time depth-10 closures."""
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE bench_{jobs}")
    pool = await open_pool(server.replace("/postgres?", f"/bench_{jobs}?"))
    await upgrade(pool)
    kg = KnowledgeGraph(pool)
    snap = synthetic(jobs, edges)
    print(f"graph: {len(snap.jobs)} jobs, {len(snap.streams)} streams, {len(snap.edges)} edges")

    started = time.perf_counter()
    first = await kg.apply(snap, full=True)
    print(
        f"full sync (insert)        {time.perf_counter() - started:7.2f} s  "
        f"jobs+{first['jobs'].inserted} edges+{first['edges'].inserted}"
    )
    started = time.perf_counter()
    second = await kg.apply(snap, full=True)
    print(
        f"full sync (unchanged)     {time.perf_counter() - started:7.2f} s  "
        f"changed={sum(c.changed for c in second.values())}"
    )
    rng = random.Random(1)
    for index in rng.sample(range(len(snap.jobs)), len(snap.jobs) // 100):
        row = list(snap.jobs[index])
        row[6] = "EXEC"
        snap.jobs[index] = tuple(row)
    started = time.perf_counter()
    third = await kg.apply(snap, full=False)
    print(f"incremental (1% changed)  {time.perf_counter() - started:7.2f} s  updated={third['jobs'].updated}")

    async with pool.connection() as conn:
        await conn.execute("VACUUM ANALYZE")  # what autovacuum leaves after a bulk load
    samples, sizes = [], []
    for job in rng.sample(range(jobs // 2), 20):
        started = time.perf_counter()
        nodes = await kg.downstream(f"j{job}", depth=10)
        samples.append(time.perf_counter() - started)
        sizes.append(len(nodes))
    down, down95 = statistics.median(samples) * 1000, sorted(samples)[int(len(samples) * 0.95) - 1] * 1000
    nodes_down = int(statistics.median(sizes))
    samples, sizes = [], []
    for job in rng.sample(range(jobs // 2, jobs), 20):
        started = time.perf_counter()
        sizes.append(len(await kg.upstream(f"j{job}", depth=10)))
        samples.append(time.perf_counter() - started)
    up, nodes_up = statistics.median(samples) * 1000, int(statistics.median(sizes))
    started = time.perf_counter()
    await kg.kg_context(f"j{jobs // 3}")
    context = (time.perf_counter() - started) * 1000
    await pool.close()
    return jobs, len(snap.edges), down, down95, up, nodes_down, nodes_up, context


async def http_sync(jobs: int, root: Path) -> None:
    from hwasim import SimConfig, build_plan, create_app
    from tests.live import LiveServer
    from tools.hwa import HWAClient, HWAClientConfig
    from tools.store.kg_sync import KnowledgeGraphSync

    server = embedded_url(root / "pg")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench_http")
    pool = await open_pool(server.replace("/postgres?", "/bench_http?"))
    await upgrade(pool)
    plan = build_plan(42, jobs)
    with LiveServer(create_app(SimConfig(jobs=jobs, clock="manual"), plan)) as sim:
        async with HWAClient(HWAClientConfig(sim.url, "admin", "admin", read_timeout=120)) as client:
            sync = KnowledgeGraphSync(client, KnowledgeGraph(pool))
            report = await sync.sync(full=True)
            print(f"HTTP full sync {jobs} jobs  {report.seconds:7.2f} s  ({report.details_fetched} detail GETs)")
            report = await sync.sync(full=False)
            print(f"HTTP incremental sync     {report.seconds:7.2f} s  changed={report.changed}")
    await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--edges-per-job", type=int, default=2)
    parser.add_argument("--http", type=int, default=0, help="also time an HTTP sync from a simulator of N jobs")
    asyncio.run(main(parser.parse_args()))
