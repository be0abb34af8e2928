"""SLA risk at scale (issue 27, item 3): the projection behind ``/api/v2/sla/risk`` over the earliest
200 critical jobs and 50 job streams with a deadline in the next 24 hours, on a 100,000-job graph with
three recent runs per job, in the embedded PostgreSQL. Prints the median and worst of several runs.

Run: ``.venv/bin/python -m bench.sla_scale [--jobs 100000] [--repeat 7]``
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import psycopg

from bench.kg_scale import synthetic
from tools.services.sla import MAX_JOBS, MAX_STREAMS, sla_risk
from tools.store.db import embedded_url, open_pool, unbounded
from tools.store.kg import KnowledgeGraph
from tools.store.migrate import upgrade
from tools.store.snapshot import PlanSnapshot

DONE = {"SUCC"}


def with_deadlines(snap: PlanSnapshot, rng: random.Random) -> PlanSnapshot:
    """Deadlines on unfinished jobs and streams (more than the projection covers), and three
    successful runs of every job in the last days (the estimates' history)."""
    now = snap.jobs[0][5]
    jobs = []
    for row in snap.jobs:
        unfinished = row[6] not in DONE
        deadline = now + timedelta(minutes=rng.randrange(10, 20 * 60)) if unfinished and rng.random() < 0.02 else None
        jobs.append((*row[:8], deadline is not None or row[8], deadline, row[10]))
    snap.jobs = jobs
    snap.streams = [
        (*row[:5], now + timedelta(minutes=rng.randrange(30, 22 * 60)) if rng.random() < 0.01 else None, row[6])
        for row in snap.streams
    ]
    snap.runs = []
    for job_id, name, station, _sid, stream, sched, *_ in snap.jobs:
        for day in (1, 2, 3):
            start = sched - timedelta(days=day)
            seconds = rng.randrange(60, 1800)
            snap.runs.append(
                (
                    f"r{job_id}-{day}",
                    job_id,
                    name,
                    station,
                    stream,
                    start,
                    start + timedelta(seconds=seconds),
                    0,
                    "SUCC",
                    None,
                )
            )
    return snap


async def main(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="resync-bench-sla-"))
    server = embedded_url(root / "pg")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench_sla")
    pool = await open_pool(server.replace("/postgres?", "/bench_sla?"))
    await upgrade(pool)
    kg = KnowledgeGraph(pool)
    rng = random.Random(11)
    snap = with_deadlines(synthetic(args.jobs, args.jobs * 2), rng)
    started = time.perf_counter()
    with unbounded():
        await kg.apply(snap, full=True)
        async with pool.connection() as conn:  # steady state: a running system's tables are vacuumed
            await conn.execute("VACUUM (ANALYZE) kg_jobs, kg_job_streams, kg_edges, job_runs")
    deadlines = sum(1 for j in snap.jobs if j[9]), sum(1 for s in snap.streams if s[5])
    print(
        f"graph: {len(snap.jobs)} jobs ({deadlines[0]} with a deadline), {len(snap.streams)} streams "
        f"({deadlines[1]} with a deadline), {len(snap.edges)} edges, {len(snap.runs)} runs "
        f"— loaded in {time.perf_counter() - started:.1f} s"
    )
    now = snap.jobs[0][5]
    times, found = [], []
    for _ in range(args.repeat):
        began = time.perf_counter()
        found = await sla_risk(kg, now)
        times.append((time.perf_counter() - began) * 1000)
    jobs = sum(1 for p in found if p.kind == "job")
    print(f"targets projected: {jobs} jobs (cap {MAX_JOBS}), {len(found) - jobs} streams (cap {MAX_STREAMS})")
    print(f"sla_risk: median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms over {args.repeat} runs")
    print(f"goal: ≤ 500 ms → {'met' if statistics.median(times) <= 500 else 'NOT met'}")
    await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    asyncio.run(main(parser.parse_args()))
