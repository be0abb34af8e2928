"""Staged incidents for tests and demos: a run of a named job with a given status, return code and
stdlist text, recorded with its true cause; and the true cause of any run (generated or staged), so
a diagnosis can be scored. The staged run then lives in the plan like a generated one: its job's
status, its history (``jobruns``), its job log, and what its successors do next."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from .engine import Plan
from .errors import EngineError
from .generator import new_run
from .model import Job, JobRun
from .stdlists import CATEGORIES, kinds

Category = Literal["missing_input", "database", "resource", "permission", "timeout", "dependency", "agent", "unknown"]
assert set(Category.__args__) == set(CATEGORIES)  # type: ignore[attr-defined]


class StagedRun(BaseModel):
    """``POST /admin/runs`` (a contract other checks use)."""

    job: str = Field(min_length=1, max_length=40, description="the job's name; its newest instance gets the run")
    status: Literal["ABEND", "FAIL", "SUCC"] | None = Field(None, description="required unless ``kind`` says it")
    kind: str | None = Field(None, description="a failure kind: its stdlist, status, return code and cause")
    return_code: int | None = Field(None, ge=-2_147_483_648, le=2_147_483_647)
    log: str = Field("", max_length=1_000_000, description="the program's output (or a whole stdlist)")
    cause: Category | None = Field(None, description="the true cause category, for scoring diagnoses")
    ended_minutes_ago: float = Field(0, ge=0, le=7 * 1440)


def newest_instance(plan: Plan, name: str) -> Job:
    found = [j for j in plan.jobs if j.name == name.upper()]
    if not found:
        raise EngineError(404, f"AWSSIM0404E No job named {name} in the plan.", "ObjectNotFoundException")
    return max(found, key=lambda j: j.sched_time)


def stage_run(plan: Plan, staged: StagedRun) -> tuple[Job, JobRun]:
    """The run, as the engine would have recorded it: a job that has not started yet gets it as its
    run; one that already ran gets it as a rerun (the last of its chain)."""
    kind = kinds().get(staged.kind or "")
    if staged.kind is not None and kind is None:
        raise EngineError(400, f"AWSSIM0106E Unknown failure kind {staged.kind!r}.", "InvalidParameterException")
    status = staged.status or (kind.status if kind else None)
    if status is None:
        raise EngineError(400, "AWSSIM0107E A staged run needs a status or a kind.", "InvalidParameterException")
    job = newest_instance(plan, staged.job)
    end = plan.now - timedelta(minutes=staged.ended_minutes_ago)
    previous = job.last_run
    if previous.start is None:
        run = previous
    else:
        run = new_run(plan.builder.ids, job, status, "staged", rerun_type="RERUN")
        previous.last_in_chain = False
        job.runs.append(run)
        plan.runs_by_id[run.id] = (job, run)
    run.outcome = "SUCC" if status == "SUCC" else (kind.key if kind else "staged")
    run.status = status
    default_rc = 0 if status == "SUCC" else (kind.rc if kind else None)
    run.return_code = (
        None if status == "FAIL" else (staged.return_code if staged.return_code is not None else default_rc)
    )
    run.start = end if status == "FAIL" else end - timedelta(seconds=max(5, run.duration_s))
    run.end, run.submitted = end, run.submitted or run.start
    run.substatus = "SUCC_COMPLETED" if status == "SUCC" else None
    run.log_text = staged.log if staged.log or kind is None else None  # a kind alone prints its own stdlist
    run.cause = staged.cause
    plan.advance(plan.now)  # successors see it at once
    return job, run


class StagedWait(BaseModel):
    """``POST /admin/job/{id}/wait``: make a job that has not started wait for a chosen reason."""

    reason: Literal["operator", "time", "file", "prompt", "predecessor", "resource"]
    minutes: float = Field(60, gt=0, le=7 * 1440, description="time/file: how long until it is due")
    text: str = Field("Has the bank file been checked? Reply YES to continue.", max_length=500)
    predecessor: str | None = Field(None, max_length=40, description="predecessor: the job it waits for")


def stage_wait(plan: Plan, job_id: str, wait: StagedWait) -> Job:
    """The engine's own reasons, set the way the engine would see them: an operator's hold (priority
    0), a start time, a file that has not arrived, an ASKED prompt, an unfinished predecessor, a
    resource with no free unit."""
    job = plan.jobs_by_id.get(job_id)
    if job is None:
        raise EngineError(404, f"AWSSIM0404E No job with id {job_id}.", "ObjectNotFoundException")
    if job.last_run.start is not None:
        raise EngineError(400, f"AWSSIM0425E The job {job.name} has already started.", "InvalidActionException")
    due = plan.now + timedelta(minutes=wait.minutes)
    if wait.reason == "operator":
        job.priority = 0
    elif wait.reason == "time":
        job.last_run.submitted = due
    elif wait.reason == "file":
        path = f"/data/in/{job.name.lower()}.ready"
        job.deps.append(plan.builder._dep("FILE", file_path=path, file_arrives_at=due))
    elif wait.reason == "prompt":
        job.deps.append(plan.builder._dep("PROMPT", prompt_text=wait.text))
    elif wait.reason == "resource":
        # an operator set the licence pool to 0 units; update-quantity (the spec's action) frees it
        plan.builder.need(job, f"LICENSE_{job.workstation.name}", 0)
    else:
        pred = newest_instance(plan, wait.predecessor or "")
        if pred is job or pred.status == "SUCC":
            raise EngineError(400, f"AWSSIM0426E {pred.name} cannot hold {job.name}.", "InvalidParameterException")
        plan.builder._link(job, pred, "INTERNAL" if pred.stream is job.stream else "EXTERNAL_JOB")
    plan.advance(plan.now)
    return job


def true_cause(plan: Plan, run_id: str) -> dict[str, Any]:
    """What really happened in a run (admin only): its failure kind and cause category."""
    found = plan.runs_by_id.get(run_id)
    if found is None:
        raise EngineError(404, f"AWSSIM0404E No job run with id {run_id}.", "ObjectNotFoundException")
    job, run = found
    kind = kinds().get(run.outcome)
    failed = run.status in {"ABEND", "FAIL"}
    cause = run.cause or (kind.category if kind is not None and failed and not run.killed else None)
    return {
        "run_id": run.id,
        "job": job.name,
        "job_id": job.id,
        "status": run.status,
        "return_code": run.return_code,
        "kind": run.outcome if failed else None,
        "cause": cause,
        "killed": run.killed,
        "rerun_helps": kind.rerun_helps if kind is not None and failed else None,
    }
