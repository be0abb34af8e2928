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


def _canceled(job: JobInPlan) -> bool:
    return bool(job.last_run_composite_status and job.last_run_composite_status.canceled)


def _refuse(job: JobInPlan, action: str, why: str) -> ToolInputError:
    return ToolInputError(
        f"cannot {action} {job.qualified_name}: it is {job.status}{' (cancelled)' if _canceled(job) else ''}; {why}"
    )


async def _write(
    ctx: ToolContext,
    tool_name: str,
    arguments: dict[str, Any],
    job: JobInPlan,
    action: str,
    perform: Callable[[Justification], Awaitable[ActionResult]],
) -> dict[str, Any]:
    rc = f", rc {job.return_code}" if job.return_code is not None else ""
    description = f"{action} {job.qualified_name} (scheduled {iso(job.sched_time)}, now {job.status}{rc})"
    target = {
        "job_id": job.id,
        "job": job.qualified_name,
        "status": job.status,
        "return_code": job.return_code,
        "scheduled": iso(job.sched_time),
    }
    justification = await ctx.require_approval(tool_name, arguments, target, description)
    result = await perform(justification)
    if ctx.cache is not None:
        await ctx.cache.invalidate_job_cache(job.name)
        await ctx.cache.invalidate_pattern("tws:static:*")
    after = await ctx.client.get_job(job.id)
    outcome = {
        "done": description,
        "approval_id": ctx.approval_id,
        "engine_result": result.model_dump(exclude_none=True),
        "job": compact_job(after),
    }
    if ctx.approvals is not None and ctx.approval_id:
        await ctx.approvals.record_result(ctx.approval_id, outcome)
    return outcome


def _args(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action", "rerun"])
async def rerun_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Rerun a job that ended (SUCC, ABEND, FAIL) or was cancelled: a new run of the same job, same
    dependencies. Needs an operator's approval. Do not rerun before the cause of the failure is fixed."""
    job = await resolve_job(ctx, job_name, workstation, job_stream, job_id)
    run = job.last_run
    if run is None or not (job.status in {"SUCC", "ABEND", "FAIL"} or _canceled(job)):
        raise _refuse(job, "rerun", "rerun is allowed from SUCC, ABEND, FAIL or a cancelled job")
    return await _write(
        ctx,
        "rerun_job",
        _args(job_name=job_name, workstation=workstation, job_stream=job_stream, job_id=job_id),
        job,
        "rerun",
        lambda j: ctx.scheduler.rerun_run(run.id, j),
    )


def _simple(
    action: JobAction,
) -> Callable[[ToolContext, JobInPlan], Callable[[Justification], Awaitable[ActionResult]]]:
    return lambda ctx, job: lambda j: ctx.scheduler.job_action(job.id, action, j)


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action"])
async def hold_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Put a job that has not started yet on hold (priority 0) so it will not start. Needs approval."""
    job = await resolve_job(ctx, job_name, workstation, job_stream, job_id)
    if job.status not in WAITING or _canceled(job) or job.priority == 0:
        raise _refuse(job, "hold", "only a waiting job that is not already held can be held")
    return await _write(
        ctx,
        "hold_job",
        _args(job_name=job_name, workstation=workstation, job_stream=job_stream, job_id=job_id),
        job,
        "hold",
        _simple(JobAction.HOLD)(ctx, job),
    )


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action"])
async def release_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Release a held job (restore its priority) so it can start when its dependencies are met. Needs approval."""
    job = await resolve_job(ctx, job_name, workstation, job_stream, job_id)
    if job.priority != 0:
        raise _refuse(job, "release", "it is not held")
    return await _write(
        ctx,
        "release_job",
        _args(job_name=job_name, workstation=workstation, job_stream=job_stream, job_id=job_id),
        job,
        "release",
        _simple(JobAction.RELEASE)(ctx, job),
    )


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action"])
async def cancel_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Cancel a job: one that has not started will never run, and its dependents are released at
    once. A running job keeps running. Needs approval."""
    job = await resolve_job(ctx, job_name, workstation, job_stream, job_id)
    if job.status == "SUCC" or _canceled(job):
        raise _refuse(job, "cancel", "a successful or already cancelled job cannot be cancelled")
    return await _write(
        ctx,
        "cancel_job",
        _args(job_name=job_name, workstation=workstation, job_stream=job_stream, job_id=job_id),
        job,
        "cancel",
        _simple(JobAction.CANCEL)(ctx, job),
    )


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action"])
async def kill_job(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Kill a running job; it ends in ABEND and its dependents are NOT released. Needs approval."""
    job = await resolve_job(ctx, job_name, workstation, job_stream, job_id)
    if job.status != "EXEC":
        raise _refuse(job, "kill", "only a running (EXEC) job can be killed")
    return await _write(
        ctx,
        "kill_job",
        _args(job_name=job_name, workstation=workstation, job_stream=job_stream, job_id=job_id),
        job,
        "kill",
        _simple(JobAction.KILL)(ctx, job),
    )


@tool(permission=ToolPermission.WRITE, input_schema=ConfirmJobInput, tags=["action"])
async def confirm_job(
    job_name: str, result: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Set a job's result by hand: confirm SUCC (its successors then run) or ABEND. Only when the work
    is known to be done (or known to have failed). Needs approval."""
    job = await resolve_job(ctx, job_name, workstation, job_stream, job_id)
    allowed = {"succ": {"EXEC", "PEND", "ABEND"}, "abend": {"EXEC", "PEND"}}[result]
    if job.status not in allowed:
        raise _refuse(
            job, f"confirm {result.upper()}", f"confirm {result.upper()} applies to {', '.join(sorted(allowed))}"
        )
    action = JobAction.CONFIRM_SUCC if result == "succ" else JobAction.CONFIRM_ABEND
    return await _write(
        ctx,
        "confirm_job",
        _args(job_name=job_name, result=result, workstation=workstation, job_stream=job_stream, job_id=job_id),
        job,
        f"confirm {result.upper()}",
        _simple(action)(ctx, job),
    )


@tool(permission=ToolPermission.WRITE, input_schema=WriteJobInput, tags=["action", "dependencies"])
async def release_job_dependencies(
    job_name: str, workstation: str | None, job_stream: str | None, job_id: str | None, ctx: ToolContext
) -> dict[str, Any]:
    """Release all dependencies (time and predecessors) of a waiting job so it can start now; it then
    runs without its predecessors' output. Needs approval."""
    job = await resolve_job(ctx, job_name, workstation, job_stream, job_id)
    if job.status not in WAITING:
        raise _refuse(job, "release the dependencies of", "only a job still waiting has dependencies to release")
    return await _write(
        ctx,
        "release_job_dependencies",
        _args(job_name=job_name, workstation=workstation, job_stream=job_stream, job_id=job_id),
        job,
        "release all dependencies of",
        _simple(JobAction.RELEASE_ALL_DEPENDENCIES)(ctx, job),
    )
