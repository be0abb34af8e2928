"""Write tools (operator role, approval required): each resolves the job name to exactly one job,
checks the action is valid for the job's current state (notes §6) before asking for approval,
pauses for the approval, then acts with the approval's audit headers and invalidates the cache."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tools.context import ToolContext
from tools.hwa import JobAction, JobInPlan, Justification
from tools.hwa.models import ActionResult
from tools.registry import ToolInputError, ToolPermission, tool

from .common import compact_job, iso, resolve_job
from .schemas import ConfirmJobInput, WriteJobInput

WAITING = {"HOLD", "READY", "WAIT"}
Perform = Callable[[JobInPlan], Callable[[Justification], Awaitable[ActionResult]]]
Check = Callable[[JobInPlan], str | None]  # why the action is not valid now, or None


def _canceled(job: JobInPlan) -> bool:
    return bool(job.last_run_composite_status and job.last_run_composite_status.canceled)


def _job_action(ctx: ToolContext, action: JobAction) -> Perform:
    return lambda job: lambda justification: ctx.scheduler.job_action(job.id, action, justification)


async def _guarded_write(
    ctx: ToolContext, tool_name: str, arguments: dict[str, Any], verb: str, check: Check, perform: Perform
) -> dict[str, Any]:
    """Resolve → check the state → approval (interrupt) → act → invalidate → report."""
    arguments = {k: v for k, v in arguments.items() if v is not None}
    job = await resolve_job(
        ctx, arguments["job_name"], arguments.get("workstation"), arguments.get("job_stream"), arguments.get("job_id")
    )
    why = check(job)
    if why:
        state = f"{job.status}{' (cancelled)' if _canceled(job) else ''}"
        raise ToolInputError(f"cannot {verb} {job.qualified_name}: it is {state}; {why}")
    rc = f", rc {job.return_code}" if job.return_code is not None else ""
    description = f"{verb} {job.qualified_name} (scheduled {iso(job.sched_time)}, now {job.status}{rc})"
    target = {
        "job_id": job.id,
        "job": job.qualified_name,
        "status": job.status,
        "return_code": job.return_code,
        "scheduled": iso(job.sched_time),
    }
    justification = await ctx.require_approval(tool_name, arguments, target, description)
    result = await perform(job)(justification)
    if ctx.cache is not None:
        await ctx.cache.invalidate_job_cache(job.name)
        await ctx.cache.invalidate_pattern("tws:static:*")
    outcome = {
        "done": description,
        "approval_id": ctx.approval_id,
        "engine_result": result.model_dump(exclude_none=True),
        "job": compact_job(await ctx.client.get_job(job.id)),
    }
    if ctx.approvals is not None and ctx.approval_id:
        await ctx.approvals.record_result(ctx.approval_id, outcome)
    return outcome


def _rerun_check(job: JobInPlan) -> str | None:
    if job.last_run is not None and (job.status in {"SUCC", "ABEND", "FAIL"} or _canceled(job)):
        return None
    return "rerun is allowed from SUCC, ABEND, FAIL or a cancelled job"


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action", "rerun"])
async def rerun_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Rerun a job that ended (SUCC, ABEND, FAIL) or was cancelled: a new run of the same job, same
    dependencies. Needs an operator's approval. Do not rerun before the cause of the failure is fixed."""

    def perform(job: JobInPlan) -> Callable[[Justification], Awaitable[ActionResult]]:
        run_id = job.last_run.id if job.last_run else ""
        return lambda justification: ctx.scheduler.rerun_run(run_id, justification)

    args = {"job_name": job_name, "workstation": workstation, "job_stream": job_stream, "job_id": job_id}
    return await _guarded_write(ctx, "rerun_job", args, "rerun", _rerun_check, perform)


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action"])
async def hold_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Put a job that has not started yet on hold (priority 0) so it will not start. Needs approval."""
    args = {"job_name": job_name, "workstation": workstation, "job_stream": job_stream, "job_id": job_id}
    return await _guarded_write(
        ctx,
        "hold_job",
        args,
        "hold",
        lambda j: (
            None
            if j.status in WAITING and not _canceled(j) and j.priority != 0
            else "only a waiting job that is not already held can be held"
        ),
        _job_action(ctx, JobAction.HOLD),
    )


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action"])
async def release_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Release a held job (restore its priority) so it can start when its dependencies are met. Needs approval."""
    args = {"job_name": job_name, "workstation": workstation, "job_stream": job_stream, "job_id": job_id}
    return await _guarded_write(
        ctx,
        "release_job",
        args,
        "release",
        lambda j: None if j.priority == 0 else "it is not held",
        _job_action(ctx, JobAction.RELEASE),
    )


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action"])
async def cancel_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Cancel a job: one that has not started will never run, and its dependents are released at
    once. A running job keeps running. Needs approval."""
    args = {"job_name": job_name, "workstation": workstation, "job_stream": job_stream, "job_id": job_id}
    return await _guarded_write(
        ctx,
        "cancel_job",
        args,
        "cancel",
        lambda j: (
            "a successful or already cancelled job cannot be cancelled" if j.status == "SUCC" or _canceled(j) else None
        ),
        _job_action(ctx, JobAction.CANCEL),
    )


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action"])
async def kill_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Kill a running job; it ends in ABEND and its dependents are NOT released. Needs approval."""
    args = {"job_name": job_name, "workstation": workstation, "job_stream": job_stream, "job_id": job_id}
    return await _guarded_write(
        ctx,
        "kill_job",
        args,
        "kill",
        lambda j: None if j.status == "EXEC" else "only a running (EXEC) job can be killed",
        _job_action(ctx, JobAction.KILL),
    )


@tool(permission=ToolPermission.WRITE, input_schema=ConfirmJobInput, tags=["action"])
async def confirm_job(
    job_name: str, result: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Set a job's result by hand: confirm SUCC (its successors then run) or ABEND. Only when the work
    is known to be done (or known to have failed). Needs approval."""
    allowed = {"succ": {"EXEC", "PEND", "ABEND"}, "abend": {"EXEC", "PEND"}}[result]
    action = JobAction.CONFIRM_SUCC if result == "succ" else JobAction.CONFIRM_ABEND
    args = {
        "job_name": job_name,
        "result": result,
        "workstation": workstation,
        "job_stream": job_stream,
        "job_id": job_id,
    }
    return await _guarded_write(
        ctx,
        "confirm_job",
        args,
        f"confirm {result.upper()}",
        lambda j: None if j.status in allowed else f"confirm {result.upper()} applies to {', '.join(sorted(allowed))}",
        _job_action(ctx, action),
    )


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action", "dependencies"])
async def release_job_dependencies(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Release all dependencies (time and predecessors) of a waiting job so it can start now; it then
    runs without its predecessors' output. Needs approval."""
    args = {"job_name": job_name, "workstation": workstation, "job_stream": job_stream, "job_id": job_id}
    return await _guarded_write(
        ctx,
        "release_job_dependencies",
        args,
        "release all dependencies of",
        lambda j: None if j.status in WAITING else "only a job still waiting has dependencies to release",
        _job_action(ctx, JobAction.RELEASE_ALL_DEPENDENCIES),
    )
