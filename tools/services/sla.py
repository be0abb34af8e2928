"""SLA and critical-path risk: each job's duration estimated from its recent runs (the median of the
last ``RECENT`` successful ones — robust to the odd slow night), and each deadline projected along the
job's critical path in the knowledge graph: a job ends when its latest predecessor ends plus its own
duration (running: what is left of it; failed: a rerun from now). A deadline the projection passes
is at risk; the jobs on the path that decide the finish are the drivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..hwa.models import FAILED_STATUSES
from ..store.deadlines import DONE, DeadlineReads, PathJob
from ..store.kg import KnowledgeGraph

RECENT = 10
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PAST = timedelta(hours=24)  # deadlines missed longer ago than this are history, not risk
DEFAULT_SECONDS = 300.0  # a job never seen to succeed: five minutes (said so in the answer)
MAX_JOBS, MAX_STREAMS = 200, 50  # targets a projection covers, earliest deadlines first


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
    found = await DeadlineReads(kg.pool).durations(names, before, RECENT)
    return {name: Estimate(seconds, runs) for name, (seconds, runs) in found.items()}


async def sla_risk(kg: KnowledgeGraph, now: datetime, within: timedelta = timedelta(hours=24)) -> list[Projection]:
    """Every job (and job stream) with a deadline within ``within`` that has not finished, projected."""
    reads = DeadlineReads(kg.pool)
    targets, streams, stream_jobs = await reads.targets(now - PAST, now + within, MAX_JOBS, MAX_STREAMS)
    wanted = {t["id"] for t in targets} | {j for jobs in stream_jobs.values() for j in jobs}
    if not wanted:
        return []
    rows = await reads.paths(wanted, RECENT)  # with the estimates of the jobs not done (a done one's end is known)
    durations = {row.name: Estimate(row.median, row.runs or 0) for row in rows if row.median is not None}
    path = _Paths({row.id: row for row in rows}, {row.id: row.preds for row in rows if row.preds}, durations, now)
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
    """Expected finishes over the jobs that lead to the targets (the waiting part of their upstream).
    Each job is settled once, keeping its end and the predecessor that decided it; the path of
    drivers is rebuilt only for the targets."""

    def __init__(
        self,
        jobs: dict[str, PathJob],
        preds: dict[str, list[str]],
        durations: dict[str, Estimate],
        now: datetime,
    ) -> None:
        self.jobs, self.preds, self.durations = jobs, preds, durations
        self.now = _micros(now)  # times are whole microseconds since the epoch: a 100k-job plan settles
        # tens of thousands of jobs per projection, and datetime arithmetic was half of its time
        self.memo: dict[str, tuple[int, str | None]] = {}  # job id → (expected end, deciding predecessor)

    def finish(self, job_id: str) -> tuple[datetime, list[dict[str, Any]]]:
        """(expected end, the path of jobs that decides it, first job first). Iterative (no recursion
        limit on long chains); a predecessor on a cycle counts as ending now."""
        memo, preds = self.memo, self.preds
        stack: list[tuple[str, bool]] = [(job_id, False)]
        on_path: set[str] = set()
        while stack:
            node, expanded = stack.pop()
            if node in memo:
                continue
            if expanded:
                on_path.discard(node)
                memo[node] = self._end_of(node)
            elif node not in on_path:
                on_path.add(node)
                stack.append((node, True))
                for pred in preds.get(node, ()):
                    if pred not in memo and pred not in on_path:
                        stack.append((pred, False))
        return EPOCH + timedelta(microseconds=memo[job_id][0]), self._drivers(job_id)

    def _estimate(self, job: PathJob) -> Estimate:
        return self.durations.get(job.name, Estimate(DEFAULT_SECONDS, 0))

    def _end_of(self, job_id: str) -> tuple[int, str | None]:
        job, now = self.jobs.get(job_id), self.now
        if job is None:
            return now, None
        if job.status in DONE:
            return (_micros(job.ended_at) if job.ended_at else now), None
        duration = round(self._estimate(job).seconds * 1_000_000)
        if job.status == "EXEC" and job.started_at:
            return max(_micros(job.started_at) + duration, now + 60_000_000), None
        start, via, memo = now, None, self.memo
        for index, pred in enumerate(self.preds.get(job_id, ())):  # the first latest predecessor decides
            settled = memo.get(pred)
            end = settled[0] if settled is not None else now  # not settled: on a cycle
            if index == 0 or end > start:
                start, via = end, pred if settled is not None else None
        return max(start, now) + duration, via

    def _drivers(self, job_id: str) -> list[dict[str, Any]]:
        """The jobs that decide ``job_id``'s end, first job first (none for a finished one)."""
        path: list[dict[str, Any]] = []
        node: str | None = job_id
        while node is not None and (job := self.jobs.get(node)) is not None and job.status not in DONE:
            estimate = self._estimate(job)
            step = {
                "job": job.name,
                "status": job.status,
                "expected_minutes": round(estimate.seconds / 60, 1),
                "estimated_from_runs": estimate.runs,
            }
            if job.status in FAILED_STATUSES:
                step["note"] = "failed: a rerun from now"
            path.append(step)
            running = job.status == "EXEC" and job.started_at
            node = None if running else self.memo[node][1]
        return path[::-1]


def _micros(moment: datetime) -> int:
    """Whole microseconds since the epoch (exact: no float rounding)."""
    return (moment - EPOCH) // timedelta(microseconds=1)
