"""Why a job that has not started is waiting, read from the engine's own fields: the run's substatus
(``HOLD_WAITING_FOR_PREDECESSOR``, ``HOLD_PRIORITY_ZERO``, ``READY_WAITING_FOR_RESOURCES``…) and the
dependencies that are not satisfied yet (``GET /plan/job/{id}``; a query's results leave them out).
An operator's hold is one reason among several; HOLD alone means "dependencies not resolved". A wait
for a predecessor that itself waits is followed to the job that holds the chain (``held_by``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from tools.hwa import HWAClient, HWAError, JobInPlan, oql
from tools.hwa.models import FAILED_STATUSES, WAITING_STATUSES, Dependency

NOT_STARTED = WAITING_STATUSES | {"INTRO", "ADD"}  # waiting, or not yet waiting
SUBSTATUS_REASON = {  # the substatus's reason, when the dependencies do not name it
    "HOLD_PRIORITY_ZERO": "operator_hold",
    "HOLD_WAITING_FOR_PREDECESSOR": "predecessor",
    "HOLD_UNEXPECTED_PREDECESSOR_CONDITION": "predecessor",
    "HOLD_WAITING_FOR_TIME": "time",
    "HOLD_WAITING_FOR_PROMPT": "prompt",
    "HOLD_WAITING_FOR_FILE": "file",
    "HOLD_WAITING_FOR_INPUT": "input",
    "READY_WAITING_FOR_RESOURCES": "resource",
    "READY_WAITING_FOR_LIMIT": "limit",
    "READY_WAITING_FOR_AGENT": "agent",
    "READY_WAITING_FOR_USER_INTERVENTION": "operator",
}
KIND = {"INTERNAL": "predecessor", "EXTERNAL_JOB": "predecessor", "EXTERNAL_JOBSTREAM": "predecessor_stream"}


def waits(job: JobInPlan) -> bool:
    composite = job.last_run_composite_status
    return job.status in NOT_STARTED and not (composite and composite.started)


def open_dependency(dep: Dependency) -> dict[str, Any]:
    """One unresolved dependency as an answer names it."""
    kind = KIND.get(dep.dependency_type, dep.dependency_type.lower())
    extra = dep.model_extra or {}
    if dep.job_name:
        predecessor = extra.get("predecessorStatus") or {}
        return {"kind": kind, "name": dep.job_name, "stream": dep.job_stream_name, "status": predecessor.get("status")}
    if dep.job_stream_name:
        return {"kind": kind, "name": dep.job_stream_name}
    if dep.dependency_type == "FILE":
        return {"kind": "file", "name": (dep.file or {}).get("name")}
    if dep.dependency_type == "PROMPT":
        return {"kind": "prompt", "name": dep.prompt_name, "text": dep.text, "prompt_id": dep.id}
    if dep.dependency_type == "RESOURCE":
        return {"kind": "resource", "name": dep.name, "available": extra.get("available")}
    return {"kind": kind, "name": dep.name or dep.id}


def wait_reason(job: JobInPlan) -> dict[str, Any]:
    """``{"reason", "substatus", "waiting_for": [...], "start_time"}`` for a job that has not started
    (``job`` read with its dependencies)."""
    composite = job.last_run_composite_status
    substatus = composite.substatus if composite else None
    pending = [open_dependency(d) for d in job.dependencies or [] if d.dependency_status != "SATISFIED"]
    start = job.time_restrictions.start_time if job.time_restrictions else None
    ahead = start is not None and start > datetime.now(UTC)  # a start time already past holds nothing back
    reason = SUBSTATUS_REASON.get(substatus or "") or (pending[0]["kind"] if pending else ("time" if ahead else None))
    return {
        "reason": reason,
        "substatus": substatus,
        "waiting_for": pending[:6],
        "start_time": start.strftime("%Y-%m-%dT%H:%M:%SZ") if start else None,
    }


async def reasons(client: HWAClient, jobs: list[JobInPlan], limit: int = 3) -> dict[str, dict[str, Any]]:
    """The wait reason of each waiting job among ``jobs`` (the first ``limit``), by job id. A job with
    nothing of its own unresolved waits for its job stream: the stream's unresolved dependencies."""
    waiting = [j for j in jobs if waits(j)][:limit]
    detailed = await asyncio.gather(*(client.get_job(j.id) for j in waiting))
    found = {job.id: wait_reason(job) for job in detailed}
    unexplained = [
        j
        for j in detailed
        if not found[j.id]["waiting_for"] and j.job_stream_id and found[j.id]["reason"] in (None, "predecessor")
    ]
    stream_ids = list(dict.fromkeys(str(j.job_stream_id) for j in unexplained))  # each stream read once
    streams = dict(zip(stream_ids, await asyncio.gather(*(client.get_job_stream(i) for i in stream_ids)), strict=True))
    for job in unexplained:
        stream = streams[str(job.job_stream_id)]
        pending = [open_dependency(d) for d in stream.dependencies or [] if d.dependency_status != "SATISFIED"]
        if pending:
            found[job.id] |= {"reason": "stream", "stream": stream.name, "waiting_for": pending[:6]}
    chained = [j for j in detailed if found[j.id]["reason"] in CHAINED]
    holders = await asyncio.gather(*(holder(client, j) for j in chained), return_exceptions=True)
    for job, held_by in zip(chained, holders, strict=True):
        if isinstance(held_by, dict):  # a chain the engine could not follow is left unsaid
            found[job.id]["held_by"] = held_by
    return found


CHAINED = ("predecessor", "predecessor_stream", "stream")  # waits that another job's state explains


# ---------------------------------------------------------------- what holds a chain of waits
# A job waiting for a predecessor that itself waits is not explained by naming the predecessor: an
# operator wants the job that holds them all — the one that failed, waits for a confirmation, is still
# running, or waits for something other than a predecessor (an agent that is down, a prompt, a file, a
# resource, an operator's hold). Followed from the engine, a few hops up, one job at a time.
HOPS = 5  # predecessors followed at most (each one engine read)
HOLDER_SECONDS = 3.0  # the engine's time a chain may take; a status answers without it after that
STREAM_JOBS = 200  # a predecessor stream's jobs looked at for the one that holds it
HOLDING = {"PEND": "confirmation", "EXEC": "running"} | dict.fromkeys(FAILED_STATUSES, "failed")


def _unresolved(deps: list[Dependency] | None) -> list[Dependency]:
    return [d for d in deps or [] if d.dependency_status != "SATISFIED"]


def _holder(job: JobInPlan, why: str, via: list[str]) -> dict[str, Any]:
    return {
        "job": job.name,
        "job_stream": job.job_stream_name,
        "workstation": (job.workstation or "").lstrip("/"),
        "status": job.status,
        "return_code": job.return_code if why == "failed" else None,
        "why": why,
        "via": via,
    }


async def _predecessor(client: HWAClient, deps: list[Dependency]) -> JobInPlan | None:
    """The unresolved predecessor job to follow: a job's own first, else one of a predecessor job
    stream's jobs that holds it (failed, awaiting confirmation, running) or still waits."""
    own = sorted((d for d in deps if d.job_id), key=lambda d: _predecessor_status(d) not in HOLDING)
    if own:  # a predecessor that failed, awaits a confirmation or runs first: it is what holds
        return await client.get_job(str(own[0].job_id))
    for dep in deps:
        if dep.job_stream_name and not dep.job_id:
            query = oql.query(oql.field("jobStreamName").eq(dep.job_stream_name))
            page = await client.query_jobs(query, limit=STREAM_JOBS)
            jobs = [j for j in page.results if not dep.job_stream_id or j.job_stream_id == dep.job_stream_id]
            held = [j for j in jobs if j.status in HOLDING] or [j for j in jobs if waits(j)]
            if held:
                return await client.get_job(held[0].id)
    return None


def _predecessor_status(dep: Dependency) -> str | None:
    status = ((dep.model_extra or {}).get("predecessorStatus") or {}).get("status")
    return str(status) if status else None


async def holder(client: HWAClient, job: JobInPlan) -> dict[str, Any] | None:
    """The job that holds ``job``'s wait (``job`` read with its dependencies), with the predecessors
    between them; None when ``job`` waits for nothing that leads further, the chain is too long, or
    the engine does not answer within ``HOLDER_SECONDS`` (a wait is then explained without it)."""
    try:
        async with asyncio.timeout(HOLDER_SECONDS):
            return await _follow(client, job)
    except (TimeoutError, HWAError):
        return None


async def _follow(client: HWAClient, job: JobInPlan) -> dict[str, Any] | None:
    own = wait_reason(job)["reason"] if waits(job) else None
    if own not in (None, *CHAINED):  # it waits for something of its own (its agent, a prompt…)
        return _holder(job, str(own), [])
    current, seen = job, {job.id}
    via: list[str] = []
    for _ in range(HOPS):
        deps = _unresolved(current.dependencies)
        if not deps and current.job_stream_id:
            deps = _unresolved((await client.get_job_stream(current.job_stream_id)).dependencies)
        found = await _predecessor(client, deps)
        if found is None or found.id in seen:
            return None
        seen.add(found.id)
        if found.status in HOLDING:
            return _holder(found, HOLDING[found.status], via)
        if not waits(found):
            return None
        reason = wait_reason(found)["reason"]
        if reason not in (None, "predecessor", "predecessor_stream"):
            return _holder(found, str(reason), via)
        via.append(found.name)
        current = found
    return None
