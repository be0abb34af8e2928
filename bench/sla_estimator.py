"""How good the SLA duration estimate is: a seeded simulator with 14 days of history synced into the
knowledge graph; each job's last successful run is held out and predicted from the runs before it
(``tools.services.sla.estimates``: the median of the last 10 successful runs) and, for comparison, from their
mean. Prints the error (minutes and relative).

Run: ``.venv/bin/python -m bench.sla_estimator [--jobs 300] [--days 14]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path

import psycopg

from hwasim import SimConfig, build_plan, create_app
from hwasim.durations import late, night_of
from hwasim.engine import Plan
from tests.live import LiveServer
from tools.hwa import HWAClient, HWAClientConfig
from tools.services.sla import estimates, sla_risk
from tools.store.db import embedded_url, open_pool
from tools.store.kg import KnowledgeGraph
from tools.store.kg_sync import KnowledgeGraphSync
from tools.store.migrate import upgrade


def report(name: str, errors: list[tuple[float, float]]) -> None:
    absolute = [abs(p - a) / 60 for p, a in errors]
    relative = sorted(abs(p - a) / a for p, a in errors if a > 0)
    print(
        f"{name:<22} n={len(errors):<5} MAE {statistics.mean(absolute):6.1f} min   "
        f"median error {statistics.median(relative) * 100:5.1f} %   "
        f"p90 error {relative[int(len(relative) * 0.9)] * 100:5.1f} %"
    )


async def main(jobs: int, days: int) -> None:
    server = embedded_url(Path(tempfile.mkdtemp(prefix="resync-bench-sla-")) / "pg")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench_sla")
    pool = await open_pool(server.replace("/postgres?", "/bench_sla?"))
    await upgrade(pool)
    kg = KnowledgeGraph(pool)
    plan = build_plan(42, jobs, days=days)
    with LiveServer(create_app(SimConfig(jobs=jobs, seed=42, days=days, clock="manual"), plan)) as sim:
        async with HWAClient(HWAClientConfig(sim.url, "admin", "admin", read_timeout=120)) as client:
            await KnowledgeGraphSync(client, kg).sync(full=True)
    async with pool.connection() as conn:  # each job's last successful run is held out
        cur = await conn.execute(
            "SELECT job_name, started_at, ended_at, extract(epoch FROM ended_at - started_at) AS seconds FROM job_runs "
            "WHERE status = 'SUCC' AND ended_at > started_at ORDER BY job_name, started_at"
        )
        runs: dict[str, list[dict[str, object]]] = {}
        for row in await cur.fetchall():
            runs.setdefault(row["job_name"], []).append(dict(row))
    median_errors, mean_errors = [], []
    for name, history in runs.items():
        if len(history) < 4:
            continue  # too little history to judge a prediction on
        last, before = history[-1], history[:-1]
        found = await estimates(kg, [name], before=last["started_at"])  # type: ignore[arg-type]
        actual = float(last["seconds"])  # type: ignore[arg-type]
        median_errors.append((found[name].seconds, actual))
        mean_errors.append((statistics.mean(float(r["seconds"]) for r in before), actual))  # type: ignore[arg-type]
    print(f"{jobs} jobs, {days} days of history; held out: each job's last successful run ({len(median_errors)} jobs")
    print("with at least 3 successful runs before it), predicted from the runs before it")
    report("median of last 10", median_errors)
    report("mean of all before", mean_errors)
    await risk_against_the_night(kg, plan)
    await pool.close()


async def risk_against_the_night(kg: KnowledgeGraph, plan: Plan) -> None:
    """Today's job streams with a deadline, unfinished at the sync: the ones ``sla_risk`` flags
    (slack < 0) against the ones that really end late when the simulator's clock runs 24 hours on
    (nobody acting: a stream stopped by a failure stays late)."""
    synced_at = plan.now
    flagged = {p.name for p in await sla_risk(kg, synced_at) if p.kind == "stream" and p.slack_minutes < 0}
    open_ = [s for s in plan.streams if s.day == 0 and s.deadline is not None and s.end is None]
    slow = {s.name for s in open_ if night_of(plan.builder.slow_nights, 0, s.name) is not None}
    plan.advance(synced_at + timedelta(hours=24))
    truly = {s.name for s in open_ if late(s, plan.now)}
    candidates = {s.name for s in open_}
    hits = len(flagged & truly)
    precision = hits / len(flagged & candidates) if flagged & candidates else 0.0
    recall = hits / len(truly) if truly else 0.0
    print(
        f"today's open streams with a deadline: {len(candidates)}; late by the end: {len(truly)} "
        f"({len(truly & slow)} on the slow night); flagged at risk: {len(flagged & candidates)}; "
        f"precision {precision:.2f} recall {recall:.2f}"
    )
    for name in sorted(truly - flagged):
        print(f"  missed: {name}{' (slow night)' if name in slow else ''}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()
    asyncio.run(main(args.jobs, args.days))
