"""Shared helpers of the shipped tools: compact results, caching, resolving a job name to one job."""

from __future__ import annotations

import difflib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from tools.cache import Kind
from tools.context import ToolContext
from tools.hwa import JobInPlan
from tools.hwa.models import FAILED_STATUSES, JobRun
from tools.hwa.reads import prefetch
from tools.language import estimate_tokens
from tools.registry import ToolInputError


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def raw_tokens(*payloads: Any) -> int:
    """Estimated tokens of what the scheduler returned for a result (its JSON, its log text) before a
    tool compacted it: stored as ``_raw_tokens`` beside the result, the baseline the context sent to
    the model is measured against (keys starting with ``_`` never reach the model)."""
    total = 0
    for payload in payloads:
        if isinstance(payload, list | tuple):
            total += raw_tokens(*payload)
        elif isinstance(payload, BaseModel):
            total += estimate_tokens(payload.model_dump_json(by_alias=True, exclude_none=True))
        elif isinstance(payload, str):
            total += estimate_tokens(payload)
        else:
            total += estimate_tokens(json.dumps(payload, default=str))
    return total


def compact_job(job: JobInPlan) -> dict[str, Any]:
    """Only what an answer needs."""
    run = job.last_run
    info = run.time_info if run else None
    composite = job.last_run_composite_status
    return {
        "job": job.name,
        "id": job.id,
        "workstation": (job.workstation or "").lstrip("/"),
        "job_stream": job.job_stream_name,
        "status": job.status,
        "substatus": composite.substatus if composite else None,
        "common_status": job.last_run_common_status,
        "return_code": job.return_code,
        "scheduled": iso(job.sched_time),
        "started": iso(info.actual_start_time if info else None),
        "ended": iso(info.actual_end_time if info else None),
        "runs": len(job.jobruns),
        "run_id": run.id if run else None,
        "failed_before": [  # this instance's earlier runs that failed (a rerun followed each)
            {"status": r.status, "return_code": r.return_code, "ended": iso(_ended(r))}
            for r in job.jobruns
            if r is not run and r.status in FAILED_STATUSES
        ][:5],
        "critical": bool(job.job_options and job.job_options.critical),
    }


def pick_run(
    found: list[JobInPlan], run_id: str | None, day: tuple[datetime, datetime] | None = None, failed: bool = False
) -> tuple[JobInPlan | None, JobRun | None]:
    """The job instance and run whose log is asked for: a run by id, else the newest started run of the
    instance scheduled in ``day`` (a production day's [start, end); None: the current instance) — its
    newest failed run when ``failed`` and it has one (why it failed, though a rerun followed)."""
    if run_id:
        for job in found:
            for run in job.jobruns:
                if run.id == run_id:
                    return job, run
        return None, None
    started = [j for j in found if j.last_run and j.last_run.time_info and j.last_run.time_info.actual_start_time]
    if day is not None:
        started = on_day(started, day)
    if not started:
        return None, None
    job = current_instances(started)[0]
    failures = [r for r in job.jobruns if r.status in FAILED_STATUSES] if failed else []
    return job, failures[-1] if failures else job.last_run


def on_day(jobs: list[JobInPlan], day: tuple[datetime, datetime]) -> list[JobInPlan]:
    """The instances scheduled in a production day's [start, end)."""
    return [j for j in jobs if j.sched_time and day[0] <= j.sched_time < day[1]]


def _ended(run: JobRun) -> datetime | None:
    return run.time_info.actual_end_time if run.time_info else None


def failed_runs(jobs: list[JobInPlan], since: datetime) -> list[dict[str, Any]]:
    """One entry per run that ended ABEND/FAIL after ``since``: the job, that run (status, return code,
    times), the run after it (a rerun and how it ended) and whether the job is still failed now."""
    out = []
    for job in jobs:
        ordered = sorted(job.jobruns, key=lambda r: _ended(r) or datetime.min.replace(tzinfo=UTC))
        for index, run in enumerate(ordered):
            ended = _ended(run)
            if run.status not in FAILED_STATUSES or ended is None or ended < since:
                continue
            after = ordered[index + 1] if index + 1 < len(ordered) else None
            info = run.time_info
            out.append(
                {
                    **compact_job(job),
                    "run_id": run.id,
                    "status": run.status,
                    "return_code": run.return_code,
                    "started": iso(info.actual_start_time if info else None),
                    "ended": iso(ended),
                    "still_failed": after is None and job.is_failed,
                    "next": None
                    if after is None
                    else {
                        "run_id": after.id,
                        "status": after.status,
                        "rerun_type": after.rerun_type,
                        "started": iso(after.time_info.actual_start_time if after.time_info else None),
                    },
                }
            )
    return sorted(out, key=lambda r: r["ended"] or "", reverse=True)


async def cached(ctx: ToolContext, key: str, kind: Kind, fetch: Callable[[], Awaitable[Any]]) -> Any:
    if ctx.cache is None:
        return await fetch()
    return await ctx.cache.get_or_fetch(key, kind, fetch)


async def prefetch_job(ctx: ToolContext, job_name: str, log: bool = False, depth: int | None = None) -> None:
    """Start the reads a job's tool will make once the scheduler names the instance — guessed from the
    knowledge graph (the instance's id, its newest run) — so they travel with the find instead of after
    it. The tool still asks with what the scheduler returned; a stale guess costs one request, and the
    answer never comes from the guess (only a read the tool itself makes with the same arguments joins it)."""
    client, kg = ctx.client, ctx.kg
    if ctx.memo is None or kg is None:
        return
    prefetch(client, "find_jobs", job_name)
    if await client.breaker_state() != "closed":
        return  # the engine is failing: no guesses that would only add to its load
    try:
        guess = await ctx.memo.call(f"kg:latest_instance:{job_name}", lambda: kg.latest_instance(job_name))
    except Exception:  # a busy or absent database costs the speed-up, never the answer
        return
    if guess is None:
        return
    job_id, run_id = guess
    if log and run_id:
        prefetch(client, "job_log", run_id)
    if depth is not None:
        prefetch(client, "get_job", job_id)
        prefetch(client, "job_predecessors", job_id, depth)
        prefetch(client, "job_successors", job_id, depth)


def current_instances(jobs: list[JobInPlan]) -> list[JobInPlan]:
    """The newest instance per (workstation, job stream): the one operators mean by a job's name."""
    newest: dict[tuple[str | None, str | None], JobInPlan] = {}
    for job in jobs:
        key = (job.workstation, job.job_stream_name)
        held = newest.get(key)
        if held is None or (job.sched_time and held.sched_time and job.sched_time > held.sched_time):
            newest[key] = job
    return sorted(newest.values(), key=lambda j: j.sched_time or datetime.min.replace(tzinfo=UTC), reverse=True)


async def closest(ctx: ToolContext, job_name: str) -> str:
    """ "; closest: A, B" — the plan's names nearest to a name it does not have (never used silently)."""
    if ctx.kg is None:
        return ""
    jobs, _, _ = await ctx.kg.known_names()
    near = difflib.get_close_matches(job_name.upper(), jobs, n=3, cutoff=0.6)
    return f"; closest: {', '.join(near)}" if near else ""


async def resolve_job(
    ctx: ToolContext, job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None
) -> JobInPlan:
    """Exactly one job in the plan, or a ToolInputError that lists the candidates to choose from."""
    if job_id:
        job = await ctx.client.get_job(job_id)
        if job.name.upper() != job_name.upper():
            raise ToolInputError(f"job id {job_id} is {job.name}, not {job_name}")
        return job
    found = await ctx.client.find_jobs(job_name, workstation=workstation, job_stream=job_stream)
    if not found and job_name != job_name.upper():
        found = await ctx.client.find_jobs(job_name.upper(), workstation=workstation, job_stream=job_stream)
    if not found:
        where = f" on {workstation}" if workstation else ""
        raise ToolInputError(f"no job named {job_name} in the plan{where}{await closest(ctx, job_name)}")
    candidates = current_instances(found)
    if len(candidates) > 1:
        listing = "; ".join(
            f"{c.qualified_name} scheduled {iso(c.sched_time)} status {c.status} (job_id {c.id})" for c in candidates
        )
        raise ToolInputError(f"{job_name} is ambiguous: which one? {listing}")
    return await ctx.client.get_job(candidates[0].id)
