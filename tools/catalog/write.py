"""Write tools (operator role, approval required), one per row of the table below. Each resolves the
job name to exactly one job, checks the action is valid for the job's current state (notes §6)
before asking, then asks for approval of exactly that action on exactly that job as it is now. The
approval record is what gets executed (``tools.executor``), after a re-check of the job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from tools.actions import ACTIONS, canceled
from tools.context import ToolContext
from tools.hwa import JobInPlan
from tools.registry import ToolInputError, ToolPermission, tool

from .common import resolve_job
from .schemas import ConfirmJobInput, WriteJobInput

# tool name → (action key, or a function of the arguments that picks it; input schema; tags; docstring)
WRITE_TOOLS: dict[str, tuple[str | Callable[[dict[str, Any]], str], type[BaseModel], list[str], str]] = {
    "rerun_job": (
        "rerun",
        WriteJobInput,
        ["action", "rerun"],
        "Rerun a job that ended (SUCC, ABEND, FAIL) or was cancelled: a new run of the same job, same "
        "dependencies. Needs an operator's approval. Do not rerun before the cause of the failure is fixed.",
    ),
    "hold_job": (
        "hold",
        WriteJobInput,
        ["action"],
        "Put a job that has not started yet on hold (priority 0) so it will not start. Needs approval.",
    ),
    "release_job": (
        "release",
        WriteJobInput,
        ["action"],
        "Release a held job (restore its priority) so it can start when its dependencies are met. Needs approval.",
    ),
    "cancel_job": (
        "cancel",
        WriteJobInput,
        ["action"],
        "Cancel a job: one that has not started will never run, and its dependents are released at once. "
        "A running job keeps running. Needs approval.",
    ),
    "kill_job": (
        "kill",
        WriteJobInput,
        ["action"],
        "Kill a running job; it ends in ABEND and its dependents are NOT released. Needs approval.",
    ),
    "confirm_job": (
        lambda args: f"confirm_{args['result']}",
        ConfirmJobInput,
        ["action"],
        "Set a job's result by hand: confirm SUCC (its successors then run) or ABEND. Only when the work is "
        "known to be done (or known to have failed). Needs approval.",
    ),
    "release_job_dependencies": (
        "release_dependencies",
        WriteJobInput,
        ["action", "dependencies"],
        "Release all dependencies (time and predecessors) of a waiting job so it can start now; it then runs "
        "without its predecessors' output. Needs approval.",
    ),
}


async def guarded_write(ctx: ToolContext, tool_name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Resolve → check the state → approval (interrupt) → executed from the record → report."""
    pick = WRITE_TOOLS[tool_name][0]
    action = ACTIONS[pick if isinstance(pick, str) else pick(arguments)]
    arguments = {k: v for k, v in arguments.items() if v is not None}

    async def target() -> JobInPlan:
        job = await resolve_job(
            ctx,
            arguments["job_name"],
            arguments.get("workstation"),
            arguments.get("job_stream"),
            arguments.get("job_id"),
        )
        why = action.check(job)
        if why:
            state = f"{job.status}{' (cancelled)' if canceled(job) else ''}"
            raise ToolInputError(f"cannot {action.verb} {job.qualified_name}: it is {state}; {why}")
        return job

    return await ctx.request_action(tool_name, action, arguments, target)


def _register(tool_name: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    _pick, schema, tags, doc = WRITE_TOOLS[tool_name]

    async def run(ctx: ToolContext, **arguments: Any) -> dict[str, Any]:
        return await guarded_write(ctx, tool_name, arguments)

    run.__doc__ = doc
    run.__name__ = run.__qualname__ = tool_name
    return tool(permission=ToolPermission.WRITE, input_schema=schema, tags=tags, name=tool_name)(run)


for _name in WRITE_TOOLS:
    _register(_name)
