"""Sync the knowledge graph and run history from the scheduler, through the one HWA client.

List queries give jobs, their runs and statuses but no dependencies (the v2 API fills those only on
``GET /plan/job/{id}``), so a full sync fetches every job's and stream's details (concurrently,
bounded); an incremental sync lists everything again but fetches details only of objects it has
not seen. Both are idempotent: a second sync of an unchanged plan writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tools.hwa import HWAClient, JobInPlan
from tools.hwa.models import Dependency, JobStreamInPlan

from .db import unbounded
from .kg import KnowledgeGraph
from .snapshot import MergeCounts, PlanSnapshot

log = logging.getLogger(__name__)
Edge = tuple[str, str, str, str, str]


@dataclass
class SyncReport:
    full: bool
    seconds: float = 0.0
    details_fetched: int = 0
    counts: dict[str, MergeCounts] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "seconds": round(self.seconds, 3),
            "details_fetched": self.details_fetched,
            "changed": self.changed,
            **{k: vars(v) for k, v in self.counts.items()},
        }


def dependency_edge(dep: Dependency, succ_kind: str, succ_id: str) -> Edge | None:
    """The edge a v2 dependency stands for (predecessor → this job/stream), or None if unusable."""
    kind = dep.dependency_type
    if kind in {"INTERNAL", "EXTERNAL_JOB"} and dep.job_id:
        return ("job", dep.job_id, succ_kind, succ_id, kind)
    if kind == "EXTERNAL_JOBSTREAM" and dep.job_stream_id:
        return ("stream", dep.job_stream_id, succ_kind, succ_id, kind)
    if kind == "RESOURCE" and dep.name:
        return ("resource", dep.name, succ_kind, succ_id, kind)
    if kind == "PROMPT" and (dep.prompt_name or dep.text):
        return ("prompt", dep.prompt_name or dep.text or "", succ_kind, succ_id, kind)
    if kind == "FILE" and dep.file and dep.file.get("name"):
        return ("file", str(dep.file["name"]), succ_kind, succ_id, kind)
    return None


def job_row(job: JobInPlan, detailed: bool) -> tuple[Any, ...]:
    options, limits = job.job_options, job.time_restrictions
    return (
        job.id,
        job.name,
        job.workstation,
        job.job_stream_id,
        job.job_stream_name,
        job.sched_time,
        job.status,
        job.return_code,
        bool(options and options.critical),
        limits.deadline_time if limits else None,
        detailed,
    )


def run_rows(job: JobInPlan) -> list[tuple[Any, ...]]:
    return [
        (
            run.id,
            job.id,
            job.name,
            job.workstation,
            job.job_stream_name,
            run.time_info.actual_start_time if run.time_info else None,
            run.time_info.actual_end_time if run.time_info else None,
            run.return_code,
            run.status or "UNKNOWN",
            run.rerun_type,
        )
        for run in job.jobruns
    ]


def stream_row(stream: JobStreamInPlan, detailed: bool) -> tuple[Any, ...]:
    deadline = stream.time_restrictions.deadline_time if stream.time_restrictions else None
    return (stream.id, stream.name, stream.workstation, stream.sched_time, stream.status, deadline, detailed)


class KnowledgeGraphSync:
    def __init__(self, client: HWAClient, kg: KnowledgeGraph, concurrency: int = 16) -> None:
        self.client = client
        self.kg = kg
        self.concurrency = concurrency

    async def sync(self, full: bool = True) -> SyncReport:
        started = time.perf_counter()
        report = SyncReport(full=full)
        snapshot = PlanSnapshot()
        stations = await self.client.query_workstations(limit=10_000)
        snapshot.workstations = [(w.id, w.name, w.type, w.os, w.linked, w.running) for w in stations.results]
        streams = [s async for s in self.client.iter_job_streams()]
        jobs = [j async for j in self.client.iter_jobs()]
        if full:
            want_jobs, want_streams = {j.id for j in jobs}, {s.id for s in streams}
        else:
            want_jobs = await self.kg.ids("jobs", without_details=True) | (
                {j.id for j in jobs} - await self.kg.ids("jobs")
            )
            want_streams = await self.kg.ids("job_streams", without_details=True) | (
                {s.id for s in streams} - await self.kg.ids("job_streams")
            )
        # objects the engine reports without dependencies need no detail call
        no_deps = {j.id for j in jobs if not j.has_dependencies} | {s.id for s in streams if not s.has_dependencies}
        snapshot.detailed_jobs |= want_jobs & no_deps
        snapshot.detailed_streams |= want_streams & no_deps
        detailed_jobs = await self._bounded(self.client.get_job, want_jobs - no_deps)
        detailed_streams = await self._bounded(self.client.get_job_stream, want_streams - no_deps)
        report.details_fetched = len(detailed_jobs) + len(detailed_streams)
        for job in detailed_jobs:
            snapshot.edges |= {e for d in job.dependencies or [] if (e := dependency_edge(d, "job", job.id))}
            snapshot.detailed_jobs.add(job.id)
        for stream in detailed_streams:
            snapshot.edges |= {e for d in stream.dependencies or [] if (e := dependency_edge(d, "stream", stream.id))}
            snapshot.detailed_streams.add(stream.id)
        snapshot.jobs = [job_row(j, j.id in snapshot.detailed_jobs) for j in jobs]
        snapshot.streams = [stream_row(s, s.id in snapshot.detailed_streams) for s in streams]
        snapshot.runs = [row for job in jobs for row in run_rows(job)]
        in_plan = {j.id for j in jobs} | {s.id for s in streams}
        snapshot.edges = {e for e in snapshot.edges if e[0] not in {"job", "stream"} or e[1] in in_plan}
        with unbounded():  # a whole plan written in bulk takes what it takes
            report.counts = await self.kg.apply(snapshot, full=full)
        report.seconds = time.perf_counter() - started
        return report

    async def _bounded(self, fetch: Callable[[str], Awaitable[Any]], ids: set[str]) -> list[Any]:
        """``fetch`` every id with ``concurrency`` workers pulling from one queue: at most that many calls
        in flight and that many tasks alive, however many ids (a 100k-job plan creates no 100k tasks)."""
        pending = iter(sorted(ids))
        results: list[Any] = []

        async def worker() -> None:
            for identifier in pending:  # one shared iterator: each id taken by exactly one worker
                results.append(await fetch(identifier))

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(ids))):
                    group.create_task(worker())
        except ExceptionGroup as failed:  # the first failure, as the caller would see it from one call
            raise failed.exceptions[0] from None
        return results


async def sync_periodically(
    sync: KnowledgeGraphSync,
    interval_seconds: float,
    stop: asyncio.Event,
    on_report: Callable[[SyncReport], None] | None = None,
    wait_first: bool = False,
) -> None:
    """Background incremental sync; failures are logged and retried at the next interval
    (``wait_first``: the first one an interval from now — right after a full sync there is nothing new)."""
    if wait_first:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
    while not stop.is_set():
        try:
            report = await sync.sync(full=False)
            if on_report:
                on_report(report)
        except Exception:  # the loop must outlive a bad sync; the next one retries
            log.exception("incremental knowledge-graph sync failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
