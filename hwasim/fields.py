"""OQL field resolvers for jobs, job streams and workstations (documented fields only, notes §9),
and the conman-style ``plan_filter`` matcher."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .model import Job, JobStream, Workstation, common_status, dependency_status, stream_common_status
from .oql import like_to_regex

Resolver = Callable[[Any], list[Any]]


def _runs(attr: Callable[[Any, Job], Any]) -> Resolver:
    return lambda job: [attr(run, job) for run in job.runs]


def _deps(attr: Callable[[Any], Any]) -> Resolver:
    return lambda job: [attr(dep) for dep in job.deps]


JOB_FIELDS: dict[str, Resolver] = {
    "name": lambda j: [j.name],
    "folder": lambda j: ["/"],
    "id": lambda j: [j.id],
    "workstation": lambda j: [j.workstation.key],
    "jobStreamId": lambda j: [j.stream.id],
    "jobStreamName": lambda j: [j.stream.name],
    "jobStreamWorkstation": lambda j: [j.stream.workstation.key],
    "priority": lambda j: [j.priority],
    "schedTime": lambda j: [j.sched_time],
    "jobruns.commonStatus": _runs(lambda r, j: common_status(r, j)),
    "jobruns.compositeStatus.status": _runs(lambda r, j: r.status),
    "jobruns.returnCode": _runs(lambda r, j: r.return_code),
    "jobruns.rerunType": _runs(lambda r, j: r.rerun_type),
    "jobruns.actualWorkstation": _runs(lambda r, j: f"/{r.workstation}"),
    "jobruns.jobNumber": _runs(lambda r, j: r.job_number),
    "jobruns.timeInfo.actualStartTime": _runs(lambda r, j: r.start),
    "jobruns.timeInfo.actualEndTime": _runs(lambda r, j: r.end),
    "jobruns.maxDurationGone": _runs(lambda r, j: False),
    "jobDefinition.userLogin": lambda j: [j.user_login],
    "jobDefinition.workstation": lambda j: [j.workstation.key],
    "jobDefinition.taskType": lambda j: ["UNIX" if j.workstation.os != "WINDOWS" else "WINDOWS"],
    "jobOptions.critical": lambda j: [j.critical],
    "jobOptions.requiresConfirmation": lambda j: [j.requires_confirmation],
    "dependencies.dependencyStatus": _deps(dependency_status),
    "dependencies.jobId": _deps(lambda d: d.pred_job.id if d.pred_job else None),
    "dependencies.jobStreamId": _deps(lambda d: d.pred_job.stream.id if d.pred_job else None),
    "dependencies.jobStreamName": _deps(lambda d: d.pred_job.stream.name if d.pred_job else None),
    "dependencies.jobStreamWorkstation": _deps(lambda d: d.pred_job.stream.workstation.key if d.pred_job else None),
    "timeRestrictions.deadlineTime": lambda j: [j.deadline],
    "timeRestrictions.startTime": lambda j: [j.sched_time],
}

STREAM_FIELDS: dict[str, Resolver] = {
    "name": lambda s: [s.name],
    "folder": lambda s: ["/"],
    "id": lambda s: [s.id],
    "workstation": lambda s: [s.workstation.key],
    "schedTime": lambda s: [s.sched_time],
    "commonStatus": lambda s: [stream_common_status(s)],
    "compositeStatus.status": lambda s: [s.status],
    "priority": lambda s: [s.priority],
    "limit": lambda s: [-1],
    "originalJobStreamName": lambda s: [s.name],
    "aliasJobStreamName": lambda s: [None],
    "timeInfo.actualEndTime": lambda s: [s.end],
    "timeRestrictions.deadlineTime": lambda s: [s.deadline],
    "timeRestrictions.startTime": lambda s: [s.sched_time],
    "timeRestrictions.untilTime": lambda s: [None],
    "dependencies.jobStreamId": lambda s: [d.pred_stream.id if d.pred_stream else None for d in s.deps],
    "dependencies.jobStreamName": lambda s: [d.pred_stream.name if d.pred_stream else None for d in s.deps],
}


def active_states(ws: Workstation) -> list[str]:
    if not ws.linked:
        return []
    states = ["LINKED", "FULLY_LINKED", "RUNNING", "JOBMAN_UP", "WRITER_RUNNING"]
    if ws.type == "MANAGER":
        states = ["MASTER", *states, "SERVER_STARTED"]
    return states


WORKSTATION_FIELDS: dict[str, Resolver] = {
    "name": lambda w: [w.name],
    "id": lambda w: [w.id],
    "folder": lambda w: ["/"],
    "domainName": lambda w: [w.domain],
    "type": lambda w: [w.type],
    "activeStates": lambda w: active_states(w) or [None],
    "jobmanUp": lambda w: [w.linked],
}


RESOURCE_FIELDS: dict[str, Resolver] = {
    "name": lambda r: [r.name],
    "id": lambda r: [r.id],
    "folder": lambda r: ["/"],
    "workstation": lambda r: [r.workstation.name],
    "quantity": lambda r: [r.quantity],
}


def _part(pattern: str) -> Callable[[str], bool]:
    """One ``[/folder/]NAME`` segment of a plan filter; folders are all ``/`` in the simulator."""
    name = pattern.rsplit("/", 1)[-1] or "@"
    regex = like_to_regex(name)
    return lambda value: regex.fullmatch(value) is not None


def plan_filter_matcher(plan_filter: str, kind: str) -> Callable[[Any], bool]:
    """Match ``WS#JOBSTREAM.JOB`` (jobs), ``WS#JOBSTREAM`` (streams) or ``WS`` (workstations)."""
    if kind == "workstation":
        match_ws = _part(plan_filter)
        return lambda w: match_ws(w.name)
    ws_part, _, rest = plan_filter.partition("#")
    if not rest:
        raise ValueError(f"plan_filter {plan_filter!r} must look like WS#JOBSTREAM{'.JOB' if kind == 'job' else ''}")
    match_ws = _part(ws_part)
    if kind in {"jobstream", "resource"}:
        match_name = _part(rest)
        return lambda s: match_ws(s.workstation.name) and match_name(s.name)
    stream_part, _, job_part = rest.rpartition(".")
    if not stream_part:
        stream_part, job_part = rest, "@"
    match_stream, match_job = _part(stream_part), _part(job_part)

    def job_matches(job: Job) -> bool:
        stream: JobStream = job.stream
        return match_ws(stream.workstation.name) and match_stream(stream.name) and match_job(job.name)

    return job_matches
