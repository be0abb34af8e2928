"""SLA and critical-path risk: each job's duration estimated from its recent runs (the median of the
last ``RECENT`` successful ones — robust to the odd slow night), and each deadline projected along the
job's critical path in the knowledge graph: a job ends when its latest predecessor ends plus its own
duration (running: what is left of it; failed: a rerun from now). A deadline the projection passes
is at risk; the jobs on the path that decide the finish are the drivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .hwa.models import FAILED_STATUSES
from .store.kg import KnowledgeGraph

RECENT = 10
PAST = timedelta(hours=24)  # deadlines missed longer ago than this are history, not risk
DEFAULT_SECONDS = 300.0  # a job never seen to succeed: five minutes (said so in the answer)
DONE = {"SUCC", "CANCL", "CANCEL", "SUPPR"}  # the engine says CANCL; SUPPR: suppressed, will not run


@dataclass
class Estimate:
    seconds: float
    runs: int  # successful runs it is based on (0: the default)


@dataclass
class Projection:
    kind: str  # job | stream
    name: str
    job_stream: str | None
    deadline: datetime
    expected_finish: datetime
    status: str | None
    drivers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def slack_minutes(self) -> float:
        return round((self.deadline - self.expected_finish).total_seconds() / 60, 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "job_stream": self.job_stream,
            "deadline": self.deadline,
            "expected_finish": self.expected_finish,
            "slack_minutes": self.slack_minutes,
            "status": self.status,
            "drivers": self.drivers,
        }


async def estimates(kg: KnowledgeGraph, names: list[str], before: datetime | None = None) -> dict[str, Estimate]:
    """Median duration of each job's last ``RECENT`` successful runs (ended before ``before`` if given)."""
    async with kg.pool.connection() as conn:
        cur = await conn.execute(
            """
            SELECT job_name, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median, count(*) AS n
              FROM (SELECT job_name, extract(epoch FROM ended_at - started_at) AS seconds,
                           row_number() OVER (PARTITION BY job_name ORDER BY ended_at DESC) AS recent
                      FROM job_runs
                     WHERE job_name = ANY(%(names)s) AND status = 'SUCC' AND started_at IS NOT NULL
                       AND ended_at > started_at AND (%(before)s::timestamptz IS NULL OR ended_at < %(before)s)) r
             WHERE recent <= %(recent)s
             GROUP BY job_name
            """,
            {"names": names, "before": before, "recent": RECENT},
        )
        return {row["job_name"]: Estimate(float(row["median"]), int(row["n"])) for row in await cur.fetchall()}


async def sla_risk(kg: KnowledgeGraph, now: datetime, within: timedelta = timedelta(hours=24)) -> list[Projection]:
    """Every job (and job stream) with a deadline within ``within`` that has not finished, projected."""
    async with kg.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, name, job_stream_id, job_stream_name, status, deadline FROM kg_jobs WHERE deadline IS NOT NULL "
            "AND deadline <= %s AND deadline >= %s "
            "AND coalesce(status, '') NOT IN ('SUCC', 'CANCL', 'CANCEL', 'SUPPR') "
            "ORDER BY deadline LIMIT 200",
            (now + within, now - PAST),
        )
        targets = [dict(r) for r in await cur.fetchall()]
        cur = await conn.execute(
            "SELECT id, name, deadline FROM kg_job_streams WHERE deadline IS NOT NULL AND deadline <= %s "
            "AND deadline >= %s AND coalesce(status, '') NOT IN ('SUCC', 'CANCL', 'CANCEL', 'SUPPR') "
            "ORDER BY deadline LIMIT 50",
            (now + within, now - PAST),
        )
        streams = [dict(r) for r in await cur.fetchall()]
        stream_jobs: dict[str, list[str]] = {}
        if streams:
            cur = await conn.execute(
                "SELECT id, job_stream_id FROM kg_jobs WHERE job_stream_id = ANY(%s)", ([s["id"] for s in streams],)
            )
            for row in await cur.fetchall():
                stream_jobs.setdefault(row["job_stream_id"], []).append(row["id"])
    wanted = {t["id"] for t in targets} | {j for jobs in stream_jobs.values() for j in jobs}
    if not wanted:
        return []
    path = _Paths(kg, now)
    await path.load(wanted)
    out = []
    for target in targets:
        finish, drivers = path.finish(target["id"])
        out.append(
            Projection(
                "job", target["name"], target["job_stream_name"], target["deadline"], finish, target["status"], drivers
            )
        )
    for stream in streams:
        ends = [path.finish(job) for job in stream_jobs.get(stream["id"], [])]
        if ends:
            finish, drivers = max(ends, key=lambda e: e[0])
            out.append(Projection("stream", stream["name"], stream["name"], stream["deadline"], finish, None, drivers))
    return sorted(out, key=lambda p: p.slack_minutes)


class _Paths:
    """Expected finishes over the jobs that lead to the targets (their upstream closures)."""

    def __init__(self, kg: KnowledgeGraph, now: datetime) -> None:
        self.kg, self.now = kg, now
        self.jobs: dict[str, dict[str, Any]] = {}
        self.preds: dict[str, list[str]] = {}
        self.durations: dict[str, Estimate] = {}
        self.memo: dict[str, tuple[datetime, list[dict[str, Any]]]] = {}

    async def load(self, targets: set[str]) -> None:
        ids = set(targets)
        for target in targets:
            ids |= {n.id for n in await self.kg.upstream(target, depth=25) if n.kind == "job"}
        async with self.kg.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT j.id, j.name, j.status, "
                "(SELECT r.started_at FROM job_runs r WHERE r.job_id = j.id ORDER BY r.started_at DESC NULLS LAST "
                "LIMIT 1) AS started_at, "
                "(SELECT r.ended_at FROM job_runs r WHERE r.job_id = j.id ORDER BY r.started_at DESC NULLS LAST "
                "LIMIT 1) AS ended_at FROM kg_jobs j WHERE j.id = ANY(%s)",
                (list(ids),),
            )
            self.jobs = {row["id"]: dict(row) for row in await cur.fetchall()}
            cur = await conn.execute(
                "SELECT pred_id, succ_id FROM kg_edges WHERE pred_kind = 'job' AND succ_kind = 'job' "
                "AND succ_id = ANY(%s) AND pred_id = ANY(%s)",
                (list(ids), list(ids)),
            )
            for row in await cur.fetchall():
                self.preds.setdefault(row["succ_id"], []).append(row["pred_id"])
            cur = await conn.execute(  # a job's stream waits for a stream: the job waits for that stream's jobs
                "SELECT j.id AS succ_id, p.id AS pred_id FROM kg_jobs j JOIN kg_edges e ON e.succ_kind = 'stream' "
                "AND e.succ_id = j.job_stream_id AND e.pred_kind = 'stream' JOIN kg_jobs p ON p.job_stream_id = "
                "e.pred_id WHERE j.id = ANY(%s) AND p.id = ANY(%s)",
                (list(ids), list(ids)),
            )
            for row in await cur.fetchall():
                self.preds.setdefault(row["succ_id"], []).append(row["pred_id"])
        self.durations = await estimates(self.kg, sorted({j["name"] for j in self.jobs.values()}))

    def finish(self, job_id: str) -> tuple[datetime, list[dict[str, Any]]]:
        """(expected end, the path of jobs that decides it, first job first). Iterative (no recursion
        limit on long chains); a predecessor on a cycle counts as ending now."""
        stack, on_path = [(job_id, False)], set()
        while stack:
            node, expanded = stack.pop()
            if node in self.memo:
                continue
            if expanded:
                on_path.discard(node)
                self.memo[node] = self._finish_of(node)
            elif node not in on_path:
                on_path.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in self.preds.get(node, []) if p not in self.memo and p not in on_path)
        return self.memo[job_id]

    def _finish_of(self, job_id: str) -> tuple[datetime, list[dict[str, Any]]]:
        job = self.jobs.get(job_id)
        if job is None:
            return self.now, []
        estimate = self.durations.get(job["name"], Estimate(DEFAULT_SECONDS, 0))
        step = {
            "job": job["name"],
            "status": job["status"],
            "expected_minutes": round(estimate.seconds / 60, 1),
            "estimated_from_runs": estimate.runs,
        }
        if job["status"] in DONE:
            return job.get("ended_at") or self.now, []
        if job["status"] == "EXEC" and job.get("started_at"):
            return max(job["started_at"] + timedelta(seconds=estimate.seconds), self.now + timedelta(minutes=1)), [step]
        before = [self.memo.get(p, (self.now, [])) for p in self.preds.get(job_id, [])]
        start, path = max(before, key=lambda b: b[0]) if before else (self.now, [])
        if job["status"] in FAILED_STATUSES:
            step["note"] = "failed: a rerun from now"
        return max(start, self.now) + timedelta(seconds=estimate.seconds), [*path, step]
