"""Read-only tools: free for every role, cached, compact, stamped with ``_fetched_at``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.cache import job_key, static_key
from tools.context import ToolContext
from tools.days import Day
from tools.hwa import oql
from tools.hwa.models import FAILED_STATUSES
from tools.registry import ToolInputError, ToolPermission, tool

from . import waits
from .common import (
    cached,
    closest,
    compact_job,
    current_instances,
    failed_runs,
    iso,
    now_iso,
    on_day,
    pick_run,
    prefetch_job,
    raw_tokens,
)
from .failure_details import blocking, causes, diagnosis_of
from .schemas import (
    DependenciesInput,
    FailedJobsInput,
    HistoryInput,
    JobInput,
    JobLogsInput,
    JobStatusInput,
    NoInput,
    SearchInput,
    SimilarIncidentsInput,
    WorkstationInput,
)

MAX_LOG_CHARS = 8000


@tool(permission=ToolPermission.READ_ONLY, input_schema=NoInput, tags=["approvals"])
async def get_request_outcomes(ctx: ToolContext) -> dict[str, Any]:
    """What happened to the write requests of this conversation (newest first): the action, the job,
    the approval's status (pending, done, stale, failed, unknown, rejected, expired) and the reason."""
    if ctx.approvals is None or not ctx.thread_id:
        raise ToolInputError("no conversation to look up requests in")
    return {
        "requests": [
            {
                "approval_id": a.id,
                "request": a.description,
                "status": a.status,
                "reason": a.reason,
                "requested_by": a.requested_by,
                "decided_by": a.decided_by,
            }
            for a in await ctx.approvals.list(None, limit=5, thread_id=ctx.thread_id)
        ],
        "_fetched_at": now_iso(),
    }


@tool(permission=ToolPermission.READ_ONLY, input_schema=JobStatusInput, tags=["monitoring", "status"])
async def get_job_status(
    job_name: str, workstation: str | None, ctx: ToolContext, day: Day | None = None
) -> dict[str, Any]:
    """Current status of a job in the plan: internal status (ABEND, SUCC, EXEC, HOLD…), return code,
    schedule and run times; for a waiting job, what it waits for. Lists every current instance when the
    name exists in several job streams; ``day``: the instance of that production day instead."""

    async def fetch() -> dict[str, Any]:
        found = await ctx.client.find_jobs(job_name.upper(), workstation=workstation)
        bounds = await ctx.parts.days.day(day) if day else None
        jobs = current_instances(on_day(found, bounds) if bounds else found)
        waiting = await waits.reasons(ctx.client, jobs[:5])
        return {
            "jobs": [compact_job(j) | ({"waiting": waiting[j.id]} if j.id in waiting else {}) for j in jobs[:5]],
            "found": len(jobs),
            "_fetched_at": now_iso(),
            "_raw_tokens": raw_tokens(found),
        }

    key = job_key(job_name.upper(), "status", workstation or "any", day or "")
    result: dict[str, Any] = await cached(ctx, key, "job_status", fetch)
    if not result["found"] and day:
        raise ToolInputError(f"{job_name} has no instance on that production day ({day})")
    if not result["found"]:
        raise ToolInputError(f"no job named {job_name} in the plan")
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=FailedJobsInput, tags=["monitoring", "failures"])
async def get_failed_jobs(
    hours: int,
    ctx: ToolContext,
    day: Day | None = None,
    workstation: str | None = None,
    with_blocking: bool = False,
    with_causes: bool = False,
) -> dict[str, Any]:
    """Every run that ended in ABEND or FAIL during the last N hours — or of one production day's
    instances (``day``: today so far, yesterday, day_before, last_night) — newest first, reruns
    included, each with what happened next (``next``: the following run) and whether the job is still
    failed; optionally on one workstation, (``with_blocking``) what each job still failed holds up
    downstream and (``with_causes``) its cause, read from its log by the one diagnosis."""
    station = (workstation or "").strip("/").upper()

    async def fetch() -> dict[str, Any]:
        bounds = await ctx.parts.days.day(day) if day else None
        since = bounds[0] if bounds else datetime.now(UTC) - timedelta(hours=hours)
        found = await ctx.client.jobs_with_failed_runs(since)
        runs = failed_runs(on_day(found, bounds) if bounds else found, since)
        if station:
            runs = [r for r in runs if r["workstation"].upper() == station]
        if with_blocking:
            await blocking(ctx, runs[:50])
        if with_causes:
            await causes(ctx, runs[:50])
        return {
            "count": len(runs),
            "hours": hours,
            **({"day": {"name": day, "start": iso(bounds[0]), "end": iso(bounds[1])}} if bounds else {}),
            **({"workstation": station} if station else {}),
            "still_failed": sum(r["still_failed"] for r in runs),
            "jobs": runs[:50],
            "_fetched_at": now_iso(),
            "_raw_tokens": raw_tokens(found),
        }

    key = f"failed:{hours}" if day is None else f"failed:{day}"
    key += (":blocking" if with_blocking else "") + (":causes" if with_causes else "")
    result: dict[str, Any] = await cached(ctx, static_key(f"{key}:{station}"), "job_status", fetch)
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=JobLogsInput, tags=["troubleshooting", "logs"])
async def get_job_logs(
    job_name: str,
    lines: int,
    ctx: ToolContext,
    run_id: str | None = None,
    days_ago: int = 0,
    failed: bool = False,
    only_failed: bool = False,
) -> dict[str, Any]:
    """The last lines of the job log (stdlist) of the job's latest run — or of a past run by its id, or of
    the job's instance ``days_ago`` days ago: the error lines near the end usually tell why it failed.
    Size-capped."""

    async def fetch() -> dict[str, Any]:
        if not run_id and not days_ago:
            await prefetch_job(ctx, job_name.upper(), log=True)
        found = await ctx.client.find_jobs(job_name.upper())
        job, run = pick_run(found, run_id, await ctx.parts.days.bounds(days_ago) if days_ago else None, failed)
        if only_failed and (run is None or run.status not in FAILED_STATUSES):  # no failure: nothing to read
            return {"job": job.name if job else job_name.upper(), "log": "", "_fetched_at": now_iso()}
        if job is None or run is None:
            which = f"run {run_id}" if run_id else (f"{days_ago} day(s) ago" if days_ago else "yet")
            raise ToolInputError(f"{job_name} has no run with a job log {which}")
        text = await ctx.client.job_log(run.id)
        tail = text.splitlines()[-lines:]
        body = "\n".join(tail)[-MAX_LOG_CHARS:]
        return {
            "job": job.name,
            "workstation": (job.workstation or "").lstrip("/"),
            "status": run.status,
            "return_code": run.return_code,
            "run_id": run.id,
            "scheduled": iso(job.sched_time),
            "lines": len(tail),
            "log": body,
            "truncated": len("\n".join(tail)) > MAX_LOG_CHARS,
            **(
                {"diagnosis": await diagnosis_of(ctx, text, run.status, run.return_code)}
                if run.status in FAILED_STATUSES
                else {}
            ),
            "_fetched_at": now_iso(),
            "_raw_tokens": raw_tokens(found, text),
        }

    key = job_key(job_name.upper(), "logs", lines, run_id or "", days_ago, failed, only_failed)
    result: dict[str, Any] = await cached(ctx, key, "logs", fetch)
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=NoInput, tags=["monitoring", "health"])
async def get_system_health(ctx: ToolContext) -> dict[str, Any]:
    """Overall health: engine version, workstations linked or not, jobs by status, failures, and
    whether the scheduler connection is failing (circuit breaker)."""

    async def fetch() -> dict[str, Any]:
        info = await ctx.client.engine_info()
        stations = (await ctx.client.query_workstations()).results
        counts = await ctx.client.count_jobs(("status",))
        by_status = counts.grouped_count
        failed = by_status.get("ABEND", 0) + by_status.get("FAIL", 0)
        unlinked = [w.name for w in stations if not w.linked]
        return {
            "engine": {"version": info.display_version, "timezone": info.timezone},
            "workstations": {"total": len(stations), "unlinked": unlinked},
            "jobs": {"total": counts.count, "by_status": by_status, "failed": failed},
            "status": "UNHEALTHY"
            if len(unlinked) * 2 > len(stations)
            else ("DEGRADED" if failed or unlinked else "HEALTHY"),
            "_fetched_at": now_iso(),
            "_raw_tokens": raw_tokens(info, stations, counts),
        }

    result: dict[str, Any] = await cached(ctx, static_key("health"), "job_status", fetch)
    return {**result, "breaker": await ctx.client.breaker_state()}


@tool(permission=ToolPermission.READ_ONLY, input_schema=DependenciesInput, tags=["dependencies"])
async def get_job_dependencies(job_name: str, depth: int, ctx: ToolContext) -> dict[str, Any]:
    """What the job waits for (predecessors, with their status) and what waits for it (successors),
    up to N levels, plus its unresolved dependencies (files, prompts, resources)."""

    async def fetch() -> dict[str, Any]:
        await prefetch_job(ctx, job_name.upper(), depth=depth)
        jobs = current_instances(await ctx.client.find_jobs(job_name.upper()))
        if not jobs:
            raise ToolInputError(f"no job named {job_name} in the plan{await closest(ctx, job_name)}")
        # three independent reads of the found job, together: two round trips in all, not four
        job, preds, succs = await asyncio.gather(
            ctx.client.get_job(jobs[0].id),
            ctx.client.job_predecessors(jobs[0].id, depth),
            ctx.client.job_successors(jobs[0].id, depth),
        )

        def brief(node: Any) -> dict[str, Any]:
            return {"name": node.name, "status": node.status, "job_stream": getattr(node, "job_stream_name", None)}

        return {
            "job": compact_job(job),
            "waits_for": [brief(p) for p in preds][:50],
            "needed_by": [brief(s) for s in succs][:50],
            "unresolved": [
                {"type": d.dependency_type, "name": d.job_name or d.name or d.prompt_name or (d.file or {}).get("name")}
                for d in job.dependencies or []
                if d.dependency_status not in {"SATISFIED"}
            ],
            "_fetched_at": now_iso(),
            "_raw_tokens": raw_tokens(job, preds, succs),
        }

    result: dict[str, Any] = await cached(ctx, job_key(job_name.upper(), "deps", depth), "dependencies", fetch)
    return result


@tool(permission=ToolPermission.READ_ONLY, input_schema=HistoryInput, tags=["history"])
async def get_job_history(job_name: str, days: int, ctx: ToolContext) -> dict[str, Any]:
    """Runs of the job over the last N days (start, end, status, return code), from the recorded
    history, and the plan when history is empty."""
    since = datetime.now(UTC) - timedelta(days=days)
    runs: list[dict[str, Any]] = []
    if ctx.kg is not None:
        runs = [
            {**r, "started_at": iso(r["started_at"]), "ended_at": iso(r["ended_at"])}
            for r in await ctx.kg.runs_of(job_name, since)
        ]
    if not runs:
        for job in await ctx.client.find_jobs(job_name.upper()):
            for run in job.jobruns:
                start = run.time_info.actual_start_time if run.time_info else None
                if start and start >= since:
                    runs.append(
                        {
                            "run_id": run.id,
                            "started_at": iso(start),
                            "ended_at": iso(run.time_info.actual_end_time if run.time_info else None),
                            "status": run.status,
                            "return_code": run.return_code,
                            "rerun_type": run.rerun_type,
                        }
                    )
    failures = sum(r["status"] in {"ABEND", "FAIL"} for r in runs)
    return {"job": job_name.upper(), "days": days, "runs": runs, "failures": failures, "_fetched_at": now_iso()}


@tool(permission=ToolPermission.READ_ONLY, input_schema=SimilarIncidentsInput, tags=["troubleshooting", "history"])
async def find_similar_incidents(job_name: str | None, error_text: str | None, ctx: ToolContext) -> dict[str, Any]:
    """Earlier failures like this one, on any job (same error signature first) and what fixed them."""
    if ctx.incidents is None:
        raise ToolInputError("incident history is not available")
    found = await ctx.incidents.similar(job_name=job_name.upper() if job_name else None, error_text=error_text)
    return {
        "incidents": [
            {
                "run_id": i.run_id,
                "job": i.job_name,
                "when": iso(i.occurred_at),
                "return_code": i.return_code,
                "signature": i.signature,
                "match": i.match,
                "resolutions": i.resolutions,
            }
            for i in found
        ],
        "_fetched_at": now_iso(),
    }


@tool(permission=ToolPermission.READ_ONLY, input_schema=SearchInput, tags=["knowledge", "howto"])
async def search_knowledge(query: str, ctx: ToolContext) -> dict[str, Any]:
    """Search the runbooks and manuals (Portuguese and English); returns passages with their source."""
    if ctx.documents is None:
        raise ToolInputError("the document store is not available")
    hits = await ctx.documents.search(query, k=5)
    return {
        "passages": [{"source": h.citation, "text": h.content[:1200], "score": h.score} for h in hits],
        "_fetched_at": now_iso(),
    }


@tool(permission=ToolPermission.READ_ONLY, input_schema=WorkstationInput, tags=["monitoring", "workstations"])
async def get_workstation_status(name: str | None, ctx: ToolContext) -> dict[str, Any]:
    """Workstations (agents) with their link state and jobs waiting on them; one or all."""
    text = oql.query(oql.field("name", "workstation").eq(name.lstrip("/").upper())) if name else None
    stations = (await ctx.client.query_workstations(text)).results
    if name and not stations:
        raise ToolInputError(f"no workstation named {name}")
    result = []
    for ws in stations:
        waiting = await ctx.client.query_jobs(
            oql.query(
                oql.field("workstation").eq(f"/{ws.name}") & oql.field("jobruns.compositeStatus.status").eq("READY")
            ),
            limit=10,
        )
        result.append(
            {
                "name": ws.name,
                "type": ws.type,
                "os": ws.os,
                "linked": ws.linked,
                "running": ws.running,
                "active_states": ws.active_states,
                "jobs_ready_waiting": waiting.count,
                "ready_jobs": [j.name for j in waiting.results][:10],
            }
        )
    return {"workstations": result, "_fetched_at": now_iso()}


@tool(permission=ToolPermission.READ_ONLY, input_schema=JobInput, tags=["dependencies", "impact"])
async def get_impact(job_name: str, workstation: str | None, ctx: ToolContext) -> dict[str, Any]:
    """What a failure of this job blocks downstream: jobs and job streams, which are critical, and
    the earliest deadline at risk (from the knowledge graph)."""
    if ctx.kg is None:
        raise ToolInputError("the knowledge graph is not available")
    job = await ctx.kg.find_job(job_name, workstation)
    if job is None:
        raise ToolInputError(f"{job_name} is not in the knowledge graph (sync it first)")
    impact = await ctx.kg.impact(job["id"])
    return {
        "job": job["name"],
        "status": job["status"],
        "blocked_jobs": len(impact.blocked_jobs),
        "blocked_streams": impact.blocked_streams[:30],
        "critical": [n.name for n in impact.critical_jobs][:30],
        "deadlines": [{"job": n.name, "deadline": iso(n.deadline)} for n in impact.with_deadline[:10]],
        "sample": [{"job": n.name, "status": n.status, "depth": n.depth} for n in impact.blocked_jobs[:20]],
        "context": await ctx.kg.kg_context(job["id"], impact=impact),
        "_fetched_at": now_iso(),
    }


@tool(permission=ToolPermission.READ_ONLY, input_schema=NoInput, tags=["monitoring", "critical"])
async def get_critical_jobs(ctx: ToolContext) -> dict[str, Any]:
    """Jobs marked critical in the plan that are failed, late or still waiting: what threatens a deadline."""

    async def fetch() -> dict[str, Any]:
        text = oql.query(oql.field("jobOptions.critical").eq(True), order_by="schedTime", descending=True)
        jobs = [j async for j in ctx.client.iter_jobs(text)]
        current = current_instances(jobs)
        at_risk = [j for j in current if j.status in {"ABEND", "FAIL", "HOLD", "READY", "WAIT", "EXEC"}]
        return {
            "total": len(current),
            "at_risk": len(at_risk),
            "failed": sum(j.is_failed for j in current),
            "jobs": [compact_job(j) for j in at_risk[:20]],
            "_fetched_at": now_iso(),
            "_raw_tokens": raw_tokens(jobs),
        }

    result: dict[str, Any] = await cached(ctx, static_key("critical"), "job_status", fetch)
    return result
