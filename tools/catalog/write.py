"""Write tools (operator role, approval required), one per tool named in ``tools.actions.ACTIONS``. Each resolves the
job name to exactly one job, checks the action is valid for the job's current state (notes §6)
before asking, then asks for approval of exactly that action on exactly that job as it is now. The
approval record is what gets executed (``tools.executor``), after a re-check of the job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from tools.actions import TOOLS, action_for, canceled
from tools.context import ToolContext
from tools.hwa import JobInPlan
from tools.registry import ToolInputError, ToolPermission, tool

from .common import resolve_job
from .schemas import ConfirmJobInput, WriteJobInput


async def guarded_write(ctx: ToolContext, tool_name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Resolve → check the state → approval (interrupt) → executed from the record → report."""
    action = action_for(tool_name, arguments)
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
    actions = TOOLS[tool_name]
    schema: type[BaseModel] = ConfirmJobInput if actions[0].choice else WriteJobInput  # choice: the ``result``

    async def run(ctx: ToolContext, **arguments: Any) -> dict[str, Any]:
        return await guarded_write(ctx, tool_name, arguments)

    run.__doc__ = actions[0].description
    run.__name__ = run.__qualname__ = tool_name
    return tool(permission=ToolPermission.WRITE, input_schema=schema, tags=list(actions[0].tags), name=tool_name)(run)


for _name in TOOLS:
    _register(_name)
