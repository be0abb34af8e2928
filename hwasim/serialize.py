"""Plan objects → HWA REST v2 JSON (``JobInPlanV2``, ``JobStreamInPlanV2``, ``WorkstationInPlanV2``…).

Only fields of the official schemas are emitted; instants are ISO-8601 UTC with ``Z`` and
durations ISO-8601 (``PT4M20S``), as the spec's ``date-time``/``duration`` formats require.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .fields import active_states
from .model import (
    Dependency,
    Job,
    JobRun,
    JobStream,
    Resource,
    Workstation,
    common_status,
    dependency_status,
    stream_common_status,
)

ENGINE_ID = "c5f1d0a2-7b1e-4c3e-9a57-1d2a3b4c5d6e"
PLAN_ID = "current"
API = "/twsd/api/v2"


def instant(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: float | int) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return text + (f"{secs}S" if secs or text == "PT" else "")


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Drop None values: the spec types these fields as strings/objects, not nullable."""
    return {k: v for k, v in data.items() if v is not None}


def composite_status(run: JobRun, job: Job) -> dict[str, Any]:
    return _clean(
        {
            "status": run.status,
            "substatus": run.substatus if run is job.last_run else None,
            "canceled": run.canceled,
            "error": run.status in {"ABEND", "FAIL"},
            "started": run.start is not None,
            "cancelPending": run.cancel_pending,
            "dontRun": False,
        }
    )


def job_definition(job: Job) -> dict[str, Any]:
    return {
        "id": job.id[:-4] + "d3f1",
        "name": job.name,
        "folder": "/",
        "workstation": job.workstation.key,
        "description": job.description,
        "isCommand": False,
        "task": {"type": "executable", "script": job.script, "userLogin": job.user_login},
        "estimatedDuration": duration(job.estimated_s),
        "recoveryOption": job.recovery_option,
        "userLogins": [job.user_login],
    }


def job_run(run: JobRun, job: Job) -> dict[str, Any]:
    time_info = _clean(
        {
            "estimatedDuration": duration(job.estimated_s),
            "actualStartTime": instant(run.start),
            "actualEndTime": instant(run.end),
            "elapsedTime": duration((run.end - run.start).total_seconds()) if run.start and run.end else None,
        }
    )
    return _clean(
        {
            "id": run.id,
            "name": job.name,
            "jobId": job.id,
            "jobKey": f"/{job.stream.workstation.name}#/{job.stream.name}.{job.name}",
            "actualWorkstation": f"/{run.workstation}",
            "jobNumber": run.job_number if run.start else None,
            "compositeStatus": composite_status(run, job),
            "commonStatus": common_status(run, job),
            "returnCode": run.return_code,
            "rerunJob": run.rerun_type != "REGULAR",
            "confirmed": run.confirmed,
            "released": False,
            "rerunType": run.rerun_type,
            "timeInfo": time_info,
            "submittedTime": instant(run.submitted or run.start),
            "lastInRerunChain": run.last_in_chain,
            "minDurationNotReached": False,
            "maxDurationGone": False,
            "runAttempt": job.runs.index(run) + 1,
        }
    )


def dependency(dep: Dependency, now: datetime) -> dict[str, Any]:
    status = dependency_status(dep, now)
    data: dict[str, Any] = {
        "dependencyType": dep.kind,
        "id": dep.id,
        "dependencyStatus": status,
        "satisfied": status == "SATISFIED",
        "depSequence": dep.sequence,
        "mandatory": True,
    }
    if dep.pred_job is not None:
        pred = dep.pred_job
        data |= {
            "jobId": pred.id,
            "jobName": pred.name,
            "jobStreamId": pred.stream.id,
            "jobStreamName": pred.stream.name,
            "jobStreamWorkstation": pred.stream.workstation.key,
            "jobStreamSchedTime": instant(pred.stream.sched_time),
            "conditional": False,
            "critical": pred.critical,
            "predecessorStatus": composite_status(pred.last_run, pred),
        }
        if dep.kind == "EXTERNAL_JOB":
            data["jobWorkstationName"] = pred.workstation.key
    elif dep.pred_stream is not None:
        pred_stream = dep.pred_stream
        data |= {
            "jobStreamId": pred_stream.id,
            "jobStreamName": pred_stream.name,
            "jobStreamWorkstation": pred_stream.workstation.key,
            "jobStreamSchedTime": instant(pred_stream.sched_time),
        }
    elif dep.kind == "RESOURCE" and dep.pool is not None:
        pool = dep.pool
        data |= {
            "name": pool.name,
            "workstation": pool.workstation.key,
            "workstationId": pool.workstation.id,
            "quantity": 1,
            "quantityHeld": 0 if dep.waiting else 1,
            "available": max(0, pool.quantity - pool.in_use(now)),
            "totalQuantity": pool.quantity,
        }
    elif dep.kind == "FILE":
        data |= {"file": {"name": dep.file_path, "workstation": "/MASTER"}}
    elif dep.kind == "PROMPT":
        data |= {
            "promptName": f"PR{dep.sequence}",
            "text": dep.prompt_text,
            "promptStatus": {None: "ASKED", True: "ANSWERED_YES", False: "ANSWERED_NO"}[dep.prompt_answer],
            "promptType": "Ad Hoc Prompt",
        }
    return _clean(data)


def dependencies_stats(deps: list[Dependency], now: datetime) -> dict[str, int]:
    unresolved = [d for d in deps if dependency_status(d, now) != "SATISFIED"]
    return {
        "numberOfDependencies": len(deps),
        "numberOfJobDependencies": sum(d.pred_job is not None for d in deps),
        "numberOfJobStreamDependencies": sum(d.pred_stream is not None for d in deps),
        "numberOfPromptDependencies": sum(d.kind == "PROMPT" for d in deps),
        "numberOfResourceDependencies": sum(d.kind == "RESOURCE" for d in deps),
        "numberOfFileDependencies": sum(d.kind == "FILE" for d in deps),
        "numberOfUnresolvedDependencies": len(unresolved),
        "numberOfNonResourceUnresolvedDependencies": sum(d.kind != "RESOURCE" for d in unresolved),
    }


def job(job: Job, now: datetime, with_dependencies: bool) -> dict[str, Any]:
    """A ``JobInPlanV2``; query results leave ``dependencies`` out, as the real engine does."""
    run = job.last_run
    data: dict[str, Any] = {
        "flowNodeType": "JOB",
        "engineId": ENGINE_ID,
        "id": job.id,
        "persistentId": job.id,
        "planId": PLAN_ID,
        "folder": "/",
        "name": job.name,
        "workstationId": job.workstation.id,
        "workstation": job.workstation.key,
        "jobStreamId": job.stream.id,
        "jobStreamName": job.stream.name,
        "jobStreamWorkstationId": job.stream.workstation.id,
        "jobStreamWorkstation": job.stream.workstation.key,
        "position": job.position,
        "key": f"/{job.stream.workstation.name}#/{job.stream.name}.{job.name}",
        "jobDefinitionFlags": {"monitored": False, "aliased": False, "interactive": False},
        "jobStatusFlags": {
            "jobStreamCancelled": False,
            "jobLate": job.deadline is not None and run.end is None and now > job.deadline,
            "deadlineHasPassed": job.deadline is not None and now > job.deadline,
            "restarted": run.rerun_type != "REGULAR",
        },
        "jobOptions": {
            "noOperation": False,
            "critical": job.critical,
            "requiresConfirmation": job.requires_confirmation,
        },
        "lastRunCompositeStatus": composite_status(run, job),
        "lastRunCommonStatus": common_status(run, job),
        "jobDefinitionRefId": job_definition(job)["id"],
        "jobDefinition": job_definition(job),
        "priority": job.priority,
        "origPriority": job.orig_priority,
        "jobruns": [job_run(r, job) for r in job.runs],
        "schedTime": instant(job.sched_time),
        "timeZone": "UTC",
        "timeRestrictions": _clean(
            {
                "startTime": instant(job.sched_time),
                "deadlineTime": instant(job.deadline),
                "timeDependent": True,
            }
        ),
        "dependenciesStats": dependencies_stats(job.deps, now),
        "endTime": instant(run.end),
        "archived": False,
    }
    if with_dependencies:
        data["dependencies"] = [dependency(d, now) for d in job.deps]
    return _clean(data)


def stream_stats(stream: JobStream) -> dict[str, int]:
    statuses = [j.status for j in stream.jobs]
    return {
        "numberOfJob": len(statuses),
        "numberOfSuccessfullJob": statuses.count("SUCC"),
        "numberOfNotRunningJob": sum(s in {"HOLD", "READY", "WAIT"} for s in statuses),
        "numberOfExecutingJob": statuses.count("EXEC"),
        "numberOfAbendedJob": statuses.count("ABEND"),
        "numberOfFailedJob": statuses.count("FAIL"),
        "numberOfUndecidedJob": 0,
    }


def job_stream(stream: JobStream, now: datetime, with_details: bool) -> dict[str, Any]:
    status = stream.status
    data: dict[str, Any] = {
        "flowNodeType": "JOBSTREAM",
        "engineId": ENGINE_ID,
        "id": stream.id,
        "planId": PLAN_ID,
        "folder": "/",
        "name": stream.name,
        "originalJobStreamName": stream.name,
        "workstation": stream.workstation.key,
        "workstationId": stream.workstation.id,
        "key": f"/{stream.workstation.name}#/{stream.name}",
        "schedTime": instant(stream.sched_time),
        "timeZone": "UTC",
        "priority": stream.priority,
        "origPriority": stream.priority,
        "limit": -1,
        "internalIdentifier": stream.internal_id,
        "compositeStatus": {
            "status": status,
            "canceled": False,
            "cancelPending": False,
            "started": status not in {"HOLD", "READY"},
            "error": status in {"ABEND", "STUCK"},
            "dontRun": False,
        },
        "commonStatus": stream_common_status(stream),
        "timeInfo": _clean({"actualEndTime": instant(stream.end)}),
        "timeRestrictions": _clean({"deadlineTime": instant(stream.deadline)}),
        "jsStatusFlags": {
            "lateJobStream": stream.deadline is not None and stream.end is None and now > stream.deadline
        },
        "jobStreamStats": stream_stats(stream),
        "dependenciesStats": dependencies_stats(stream.deps, now),
        "archived": False,
    }
    if with_details:
        data["dependencies"] = [dependency(d, now) for d in stream.deps]
        data["jobs"] = [job(j, now, with_dependencies=False) for j in stream.jobs]
    return _clean(data)


def workstation(ws: Workstation) -> dict[str, Any]:
    return {
        "engineId": ENGINE_ID,
        "id": ws.id,
        "planId": PLAN_ID,
        "folder": "/",
        "name": ws.name,
        "key": ws.key,
        "description": ws.description,
        "activeStates": active_states(ws),
        "activeFlags": ["AUTO_LINK", "FULL_STATUS", "TCP_IP_LINK"],
        "type": ws.type,
        "hostType": "MASTER" if ws.type == "MANAGER" else "WORKSTATION",
        "os": ws.os,
        "timeZone": "UTC",
        "nodeName": ws.node_name,
        "tcpPort": ws.tcp_port,
        "domainName": ws.domain,
        "limit": ws.limit,
        "fence": ws.fence,
        "version": "10.1.0.1",
        "archived": False,
    }


def engine_configuration(today_start: datetime) -> dict[str, dict[str, str]]:
    """Global options as ``ConfigValue``s; ``startOfDay`` in optman's HHMM form."""
    return {
        "startOfDay": {"value": today_start.strftime("%H%M"), "description": "Start time of the production day"},
        "timezoneEnable": {"value": "YES", "description": "Time zones are enabled"},
    }


def engine_info() -> dict[str, Any]:
    return {
        "displayVersion": "10.1.0.1",
        "fullVersion": "10.1.0.1 (simulator)",
        "capabilities": {"plan": {"oql": "true", "joblog": "true"}},
        "adminRoles": {"admin": [{"key": "ADMIN", "label": "Administrator", "description": "Full access"}]},
        "referenceId": ENGINE_ID,
        "licenseType": "PERJOB",
        "locale": "en_US",
        "timezone": "UTC",
    }


def resource(pool: Resource, now: datetime) -> dict[str, Any]:
    """A ``ResourceInPlanV2``: its limit, what is in use and who holds it."""
    holders = pool.holders(now)
    return {
        "engineId": ENGINE_ID,
        "id": pool.id,
        "folder": "/",
        "name": pool.name,
        "key": pool.key,
        "workstationId": pool.workstation.id,
        "workstation": pool.workstation.key,
        "quantity": pool.quantity,
        "quantityInUse": len(holders),
        "quantityAvailable": max(0, pool.quantity - len(holders)),
        "description": pool.description,
        "holders": [
            {
                "jobStreamId": job.stream.id,
                "jobStream": job.stream.name,
                "jobId": job.id,
                "job": job.name,
                "jobKey": f"{job.workstation.key}#/{job.stream.name}.{job.name}",
                "quantity": 1,
                "shared": False,
            }
            for job, _ in holders
        ],
        "status": "AVAILABLE" if len(holders) < pool.quantity else "NOT_AVAILABLE",
        "archived": False,
    }
