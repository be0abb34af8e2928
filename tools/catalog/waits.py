"""Why a job that has not started is waiting, read from the engine's own fields: the run's substatus
(``HOLD_WAITING_FOR_PREDECESSOR``, ``HOLD_PRIORITY_ZERO``, ``READY_WAITING_FOR_RESOURCES``…) and the
dependencies that are not satisfied yet (``GET /plan/job/{id}``; a query's results leave them out).
An operator's hold is one reason among several; HOLD alone means "dependencies not resolved"."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from tools.hwa import HWAClient, JobInPlan
from tools.hwa.models import WAITING_STATUSES, Dependency

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
    return found
