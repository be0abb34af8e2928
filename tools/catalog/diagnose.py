"""The diagnosis of a job log the operator pasted (``tools.diagnosis``: the one reading used everywhere)."""

from __future__ import annotations

from typing import Any

from tools.context import ToolContext
from tools.registry import ToolPermission, tool

from .failure_details import diagnosis_of
from .schemas import DiagnoseLogInput


@tool(permission=ToolPermission.READ_ONLY, input_schema=DiagnoseLogInput, tags=["logs", "diagnosis"])
async def diagnose_log(
    log: str, ctx: ToolContext, status: str | None = None, return_code: int | None = None
) -> dict[str, Any]:
    """Read a job log (stdlist) the operator pasted: the decisive line (numbered), the cause category,
    what the message means, whether a plain rerun helps and the next step. Nothing is fetched."""
    return {"lines": log.count("\n") + 1, "diagnosis": await diagnosis_of(ctx, log, status, return_code)}
