"""SLA risk on a real PostgreSQL with a known DAG: durations are the median of recent successful runs,
a failed job is rerun from now, and a deadline the projected critical path passes is at risk with the
jobs that drive it."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

from tests.test_kg import T0, job, known_dag
from tools.services.sla import estimates, sla_risk
from tools.store.kg import KnowledgeGraph


async def add_runs(pool: Any, job: str, minutes: list[int], status: str = "SUCC") -> None:
    async with pool.connection() as conn:
        for day, length in enumerate(minutes, start=1):
            start = T0 - timedelta(days=day)
            await conn.execute(
                "INSERT INTO job_runs (run_id, job_id, job_name, started_at, ended_at, status)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (uuid.uuid4().hex, f"old-{job}", job, start, start + timedelta(minutes=length), status),
            )


async def test_a_deadline_behind_a_failed_job_is_at_risk(pool: Any) -> None:
    kg = KnowledgeGraph(pool)
    await kg.apply(known_dag(), full=True)  # a ABEND → x (critical, deadline T0 + 2 h, HOLD)
    await add_runs(pool, "A", [60, 58, 62, 600])  # one slow night: the median does not care
    await add_runs(pool, "X", [30, 30, 31])
    await add_runs(pool, "X", [1], status="ABEND")  # failed runs are not durations
    found = await estimates(kg, ["A", "X", "NEVER_RAN"])
    assert round(found["A"].seconds / 60) == 61 and found["A"].runs == 4
    assert round(found["X"].seconds / 60) == 30 and "NEVER_RAN" not in found

    early = {p.name: p for p in await sla_risk(kg, T0, timedelta(hours=6))}
    assert early["X"].slack_minutes > 0  # a rerun of A now (61 min) then X (30 min): 29 min to spare
    late = {p.name: p for p in await sla_risk(kg, T0 + timedelta(hours=1), timedelta(hours=6))}
    at_risk = late["X"]
    assert at_risk.slack_minutes < 0 and at_risk.kind == "job"
    assert [d["job"] for d in at_risk.drivers] == ["A", "X"] and "rerun" in at_risk.drivers[0]["note"]
    assert abs((at_risk.expected_finish - (T0 + timedelta(hours=1, minutes=91))).total_seconds()) < 90


async def test_a_stream_waiting_for_a_stream_waits_for_its_jobs(pool: Any) -> None:
    """s2 follows s1 (a stream dependency): d in s2 cannot start before s1's jobs end, so the failed A
    of s1 drives d's deadline."""
    kg = KnowledgeGraph(pool)
    snap = known_dag()
    snap.jobs = [(*j[:9], T0 + timedelta(minutes=30), *j[10:]) if j[0] == "d" else j for j in snap.jobs]
    await kg.apply(snap, full=True)
    await add_runs(pool, "A", [60, 60, 60])
    [d] = [p for p in await sla_risk(kg, T0, timedelta(hours=6)) if p.name == "D"]
    assert d.slack_minutes < 0 and "A" in [step["job"] for step in d.drivers]


async def test_the_walk_follows_waiting_chains_to_their_end_and_stops_at_finished_jobs(pool: Any) -> None:
    """A chain of 40 waiting jobs (deeper than any fixed depth) behind a failed one: every link counts.
    Above a finished job nothing is read: its end is known, so a failure further up does not move it."""
    kg = KnowledgeGraph(pool)
    snap = known_dag()
    chain = [f"w{i}" for i in range(40)]
    snap.jobs = [j for j in snap.jobs if j[0] != "x"] + [job(n, "s3") for n in chain[:-1]]
    snap.jobs.append(job(chain[-1], "s3", critical=True, deadline=T0 + timedelta(hours=3)))
    snap.edges |= {("job", "a", "job", chain[0], "INTERNAL")}
    snap.edges |= {("job", p, "job", s, "INTERNAL") for p, s in itertools.pairwise(chain)}
    snap.jobs += [job("done", "s3", "SUCC"), job("late", "s3", critical=True, deadline=T0 + timedelta(hours=3))]
    snap.edges |= {("job", "a", "job", "done", "INTERNAL"), ("job", "done", "job", "late", "INTERNAL")}
    await kg.apply(snap, full=True)
    await add_runs(pool, "A", [60, 60, 60])
    for name in chain:
        await add_runs(pool, name.upper(), [5, 5, 5])
    found = {p.name: p for p in await sla_risk(kg, T0, timedelta(hours=6))}
    tail = found[chain[-1].upper()]
    assert abs((tail.expected_finish - (T0 + timedelta(minutes=60 + 40 * 5))).total_seconds()) < 90
    assert [d["job"] for d in tail.drivers] == ["A", *(n.upper() for n in chain)]
    late = found["LATE"]  # behind a finished job: only its own duration (the default: it never ran)
    assert late.drivers == [{"job": "LATE", "status": "HOLD", "expected_minutes": 5.0, "estimated_from_runs": 0}]
