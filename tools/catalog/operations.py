"""Read-only tools of the shift's questions: long runners, what waits on a workstation, prompts
waiting for a reply, a job stream's state, and which jobs got a message id. Each reads the plan
through the client (never writes) and returns what an answer names."""

from __future__ import annotations

import asyncio
import statistics
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from tools.cache import static_key
from tools.context import ToolContext
from tools.diagnosis import diagnose
from tools.hwa import JobInPlan, oql
from tools.hwa.models import FAILED_STATUSES
from tools.registry import ToolInputError, ToolPermission, tool

from . import waits
from .common import cached, compact_job, iso, now_iso, on_day, raw_tokens
from .schemas import LongRunnersInput, MessageInput, NoInput, StreamInput, WorkstationNameInput

STREAM_DONE = {"SUCC", "CANCL"}  # a job stream that will not run further: it cannot be late
LISTED = 12  # waiting jobs a workstation's list names, each with the engine's reason
RUN_STATUS = "jobruns.compositeStatus.status"  # a job's own status is its runs' (v2 has no top-level one)


def _minutes(run_start: datetime | None, run_end: datetime | None) -> float | None:
    if run_start is None or run_end is None:
        return None
    return (run_end - run_start).total_seconds() / 60


def usual_minutes(instances: list[JobInPlan], skip: str) -> list[float]:
    """Minutes of the job's runs that ended SUCC, the run ``skip`` left out."""
    out = []
    for job in instances:
        for run in job.jobruns:
            info = run.time_info
            took = _minutes(info.actual_start_time, info.actual_end_time) if info else None
            if run.id != skip and run.status == "SUCC" and took is not None:
                out.append(took)
    return out


@tool(permission=ToolPermission.READ_ONLY, input_schema=LongRunnersInput, tags=["monitoring", "duration"])
async def get_long_runners(factor: float, ctx: ToolContext) -> dict[str, Any]:
    """Jobs running now (EXEC) for longer than ``factor`` times their usual duration (the median of
    their successful runs in the plan), with how long they have run and what is usual."""

    async def fetch() -> dict[str, Any]:
        now = datetime.now(UTC)
        running = [j async for j in ctx.client.iter_jobs(oql.query(oql.field(RUN_STATUS).eq("EXEC")))]
        running = [j for j in running if j.status == "EXEC"]
        histories = await asyncio.gather(*(ctx.client.find_jobs(j.name) for j in running[:40]))
        long, checked = [], []
        for job, instances in zip(running, histories, strict=False):
            run = job.last_run
            started = run.time_info.actual_start_time if run and run.time_info else None
            usual = usual_minutes(instances, run.id if run else "")
            if started is None or not usual:
                continue
            elapsed, median = (now - started).total_seconds() / 60, statistics.median(usual)
            entry = compact_job(job) | {"elapsed_min": round(elapsed), "usual_min": round(median)}
            checked.append(entry)
            if elapsed > factor * median:
                long.append(entry | {"times_usual": round(elapsed / median, 1)})
        return {
            "running": len(running),
            "compared": len(checked),
            "factor": factor,
            "long_runners": sorted(long, key=lambda e: -e["times_usual"])[:15],
            "_fetched_at": now_iso(),
            "_raw_tokens": raw_tokens(running, histories),
        }

    result: dict[str, Any] = await cached(ctx, static_key(f"long:{factor}"), "job_status", fetch)
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=WorkstationNameInput, tags=["monitoring", "workstation"])
async def get_waiting_jobs(name: str, ctx: ToolContext) -> dict[str, Any]:
    """Today's jobs on a workstation that have not started, each with the reason the engine gives
    (predecessor, time, file, resource, prompt, operator hold), most-blocking first."""
    station = name.strip("/").upper()

    async def fetch() -> dict[str, Any]:
        today = await ctx.parts.days.day("today")
        found = [j async for j in ctx.client.iter_jobs(oql.query(oql.field("workstation").eq(f"/{station}")))]
        waiting = [j for j in on_day(found, today) if waits.waits(j)]
        reasons = await waits.reasons(ctx.client, waiting, limit=LISTED)
        # the ones explained, each with its reason (the count says how many more): a list that fits a context
        jobs = [_brief(j) | ({"waiting": reasons[j.id]} if j.id in reasons else {}) for j in waiting[:LISTED]]
        by_reason: dict[str, int] = {}
        for entry in reasons.values():
            by_reason[entry["reason"] or "unknown"] = by_reason.get(entry["reason"] or "unknown", 0) + 1
        return {
            "workstation": station,
            "waiting": len(waiting),
            "by_reason": by_reason,
            "jobs": jobs,
            "_fetched_at": now_iso(),
            "_raw_tokens": raw_tokens(found),
        }

    result: dict[str, Any] = await cached(ctx, static_key(f"waiting:{station}"), "job_status", fetch)
    return result


def _brief(job: JobInPlan) -> dict[str, Any]:
    """A job that has not started, as a list names it (no run yet: no times, no return code)."""
    return {
        "job": job.name,
        "workstation": (job.workstation or "").lstrip("/"),
        "job_stream": job.job_stream_name,
        "status": job.status,
        "scheduled": iso(job.sched_time),
    }


@tool(permission=ToolPermission.READ_ONLY, input_schema=NoInput, tags=["monitoring", "prompts"])
async def get_prompts(ctx: ToolContext) -> dict[str, Any]:
    """Prompts waiting for a reply (an unanswered PROMPT dependency of a job that has not started):
    the prompt's name, id and text and the jobs that wait for it."""

    async def fetch() -> dict[str, Any]:
        jobs = [j async for j in ctx.client.iter_jobs(oql.query(oql.field(RUN_STATUS).eq("HOLD")))]
        candidates = [
            j for j in jobs if waits.waits(j) and (j.dependencies_stats or {}).get("numberOfPromptDependencies", 1) > 0
        ]
        detailed = await asyncio.gather(*(ctx.client.get_job(j.id) for j in candidates[:100]))
        prompts: dict[str, dict[str, Any]] = {}
        for job in detailed:
            for dep in job.dependencies or []:
                if dep.dependency_type == "PROMPT" and dep.dependency_status != "SATISFIED":
                    entry = prompts.setdefault(
                        dep.id or dep.prompt_name or "?",
                        {"prompt_id": dep.id, "name": dep.prompt_name, "text": dep.text, "jobs": []},
                    )
                    entry["jobs"].append(job.name)
        return {"prompts": list(prompts.values()), "checked_jobs": len(candidates), "_fetched_at": now_iso()}

    result: dict[str, Any] = await cached(ctx, static_key("prompts"), "job_status", fetch)
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=StreamInput, tags=["monitoring", "stream"])
async def get_job_stream_status(stream: str, ctx: ToolContext) -> dict[str, Any]:
    """A job stream's newest instance: its status, deadline (and whether it is late), and its jobs
    counted by status with the failed and waiting ones named."""
    name = stream.upper()

    async def fetch() -> dict[str, Any] | None:
        found = [s async for s in ctx.client.iter_job_streams(oql.query(oql.field("name").eq(name)))]
        if not found:
            return None
        newest = max(found, key=lambda s: s.sched_time or datetime.min.replace(tzinfo=UTC))
        jobs = [j async for j in ctx.client.iter_jobs(oql.query(oql.field("jobStreamName").eq(name)))]
        jobs = [j for j in jobs if j.job_stream_id == newest.id] or jobs
        deadline = newest.time_restrictions.deadline_time if newest.time_restrictions else None
        late = bool(deadline and deadline < datetime.now(UTC) and newest.status not in STREAM_DONE)
        holding = [j for j in jobs if j.status in waits.HOLDING]  # failed, awaiting confirmation, running
        first_waiting = next((j for j in jobs if waits.waits(j)), None)
        held_by = None
        if first_waiting is not None and not holding:  # all of it waits: for what, up the chain
            held_by = await waits.holder(ctx.client, await ctx.client.get_job(first_waiting.id))
        return {
            "stream": newest.name,
            "workstation": (newest.workstation or "").lstrip("/"),
            "status": newest.status,
            "scheduled": iso(newest.sched_time),
            "deadline": iso(deadline),
            "late": late,
            "jobs_by_status": dict(Counter(str(j.status) for j in jobs)),
            "failed": [compact_job(j) for j in jobs if j.status in FAILED_STATUSES][:10],
            "holding": [
                {"job": j.name, "status": j.status, "why": waits.HOLDING[str(j.status)]}
                for j in holding
                if j.status not in FAILED_STATUSES
            ][:10],
            "held_by": held_by,
            "not_started": [j.name for j in jobs if waits.waits(j)][:20],
            "held": [j.name for j in jobs if waits.waits(j) and j.priority == 0][:20],  # an operator's hold
            "_fetched_at": now_iso(),
        }

    result: dict[str, Any] | None = await cached(ctx, static_key(f"stream:{name}"), "job_status", fetch)
    if result is None:
        raise ToolInputError(f"no job stream named {stream} in the plan")
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=NoInput, tags=["monitoring", "status"])
async def get_awaiting_confirmation(ctx: ToolContext) -> dict[str, Any]:
    """Jobs that ran and wait for an operator's confirmation (PEND): their successors wait until
    someone confirms them as SUCC or ABEND."""

    async def fetch() -> dict[str, Any]:
        jobs = [j async for j in ctx.client.iter_jobs(oql.query(oql.field(RUN_STATUS).eq("PEND")))]
        return {"jobs": [compact_job(j) for j in jobs][:30], "count": len(jobs), "_fetched_at": now_iso()}

    result: dict[str, Any] = await cached(ctx, static_key("pend"), "job_status", fetch)
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=NoInput, tags=["monitoring", "stream", "sla"])
async def get_late_streams(ctx: ToolContext) -> dict[str, Any]:
    """Job streams past their deadline and not complete (the plan's own deadlines), latest first, with
    the jobs that hold each one (failed, awaiting confirmation, running)."""

    async def fetch() -> dict[str, Any]:
        now = datetime.now(UTC)
        text = oql.query(oql.field("timeRestrictions.deadlineTime").lt(now), order_by="schedTime", descending=True)
        streams = [s async for s in ctx.client.iter_job_streams(text)]
        late = [s for s in streams if s.status not in STREAM_DONE][:20]
        jobs = [j async for j in ctx.client.iter_jobs(oql.query(oql.field(RUN_STATUS).in_(sorted(waits.HOLDING))))]
        holding: dict[str, list[str]] = {}
        for job in jobs:
            if job.job_stream_id:
                holding.setdefault(str(job.job_stream_id), []).append(f"{job.name} [{job.status}]")
        return {
            "late": [
                {
                    "stream": s.name,
                    "workstation": (s.workstation or "").lstrip("/"),
                    "status": s.status,
                    "deadline": iso(s.time_restrictions.deadline_time if s.time_restrictions else None),
                    "holding": holding.get(s.id, [])[:5],
                }
                for s in late
            ],
            "_fetched_at": now_iso(),
        }

    result: dict[str, Any] = await cached(ctx, static_key("late_streams"), "job_status", fetch)
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=MessageInput, tags=["troubleshooting", "messages"])
async def find_message(message_id: str, ctx: ToolContext) -> dict[str, Any]:
    """What a message id (AWSxxxxxE, ORA-nnnnn, SQLSTATE…) means, and which jobs' failed runs of the
    last three production days printed it (the line and the run)."""
    wanted = message_id.upper()

    async def fetch() -> dict[str, Any]:
        since, _ = await ctx.parts.days.bounds(2)
        jobs = await ctx.client.jobs_with_failed_runs(since)
        runs = [(j, r) for j in jobs for r in j.jobruns if r.status in FAILED_STATUSES][:40]
        logs = await asyncio.gather(*(ctx.client.job_log(r.id) for _, r in runs), return_exceptions=True)
        hits: list[dict[str, Any]] = []
        for (job, run), log in zip(runs, logs, strict=True):
            line = next((ln for ln in log.splitlines() if wanted in ln.upper()), None) if isinstance(log, str) else None
            if line:
                hits.append(
                    {
                        "job": job.name,
                        "run_id": run.id,
                        "status": run.status,
                        "return_code": run.return_code,
                        "ended": iso(run.time_info.actual_end_time if run.time_info else None),
                        "line": line.strip()[:300],
                    }
                )
        reading = diagnose(hits[0]["line"] if hits else wanted)
        known = reading.category != "unknown" or bool(hits)
        return {
            "message_id": wanted,
            "meaning": reading.meaning_en if known else None,
            "meaning_pt": reading.meaning_pt if known else None,
            "category": reading.category,
            "rerun_helps": reading.rerun_helps,
            "jobs": hits[:15],
            "searched_runs": len(runs),
            "_fetched_at": now_iso(),
        }

    result: dict[str, Any] = await cached(ctx, static_key(f"message:{wanted}"), "logs", fetch)
    return result
