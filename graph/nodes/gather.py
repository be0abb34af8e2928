"""gather: fan out in parallel (``Send``) to the branches a query type needs. Each branch is a read
tool through the registry, with its own timeout and retries; a failed branch becomes a recorded
error, never a failed run."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable
from typing import Any, TypeVar

from langgraph.config import get_config, get_stream_writer
from langgraph.runtime import Runtime
from langgraph.types import Send
from typing_extensions import TypedDict

from tools.context import ToolContext
from tools.registry import ToolCatalog

from ..capabilities import REGISTRY, Args, Branch, per_job
from ..context import Context, identity
from ..state import BranchError, GatheredItem, State

T = TypeVar("T")


class BranchInput(TypedDict):
    branch: str
    tool: str
    args: Args


# "why did it fail?", "qual foi o erro?": the failed run's log, though a rerun followed it
ASKS_WHY_IT_FAILED = re.compile(
    r"\b(why|por ?que|pq|porque|motivo|reason|cause|causa|error|erro|fail\w*|falh\w*|abend\w*|caiu|crash\w*)\b",
    re.IGNORECASE,
)


def failed_args(entities: dict[str, Any]) -> Args:
    """A production day when the question names one ("ontem", "tonight"), else the hours it gives
    (24 by default); one workstation when it names exactly one."""
    stations = entities.get("workstations") or []
    return {
        "hours": min(entities.get("time_window_hours") or 24, 336),
        # an explicit window ("last 6 hours") wins over the day word beside it
        **({"day": entities["day"]} if entities.get("day") and entities.get("time_window_hours") in (None, 24) else {}),
        **({"workstation": stations[0]} if len(stations) == 1 else {}),
    }


BRANCHES: dict[str, Branch] = {
    "status": Branch(
        "get_job_status",
        lambda e, q: [
            {
                "job_name": j,
                **({"workstation": e["workstations"][0]} if e.get("workstations") else {}),
                **({"day": e["day"]} if e.get("day") not in (None, "today") else {}),
            }
            for j in (e.get("jobs") or [])[:3]
        ],
    ),
    "logs": Branch(
        "get_job_logs",
        lambda e, q: [
            {
                "job_name": job,
                "lines": 60,
                **({"run_id": e["run_ids"][0]} if e.get("run_ids") else {}),
                **({"days_ago": e["days_ago"]} if e.get("days_ago") else {}),
                **({"failed": True} if ASKS_WHY_IT_FAILED.search(q) and not e.get("run_ids") else {}),
            }
            for job in (e.get("jobs") or [])[:3]
        ],
    ),
    # the cause of a failed job, read from its log beside its status (a branch of its own: a slow log
    # endpoint costs the cause, never the status)
    "cause": per_job("get_job_logs", {"lines": 20, "only_failed": True}),
    # the failures again, each still failed with its cause: the failure list when it comes back in time
    "failed_causes": Branch("get_failed_jobs", lambda e, q: [failed_args(e) | {"with_causes": True}]),
    "dependencies": per_job("get_job_dependencies", {"depth": 2}),
    "kg": per_job("get_impact"),
    "incidents": Branch("find_similar_incidents", lambda e, q: [{"job_name": j} for j in (e.get("jobs") or [])[:1]]),
    "knowledge": Branch("search_knowledge", lambda e, q: [{"query": q[:500]}] if len(q) >= 2 else []),
    "failed": Branch("get_failed_jobs", lambda e, q: [failed_args(e)]),
    "health": Branch("get_system_health", lambda e, q: [{}]),
    "critical": Branch("get_critical_jobs", lambda e, q: [{}]),
    "outcomes": Branch("get_request_outcomes", lambda e, q: [{}]),
    "history": per_job("get_job_history", {"days": 14}),
    "investigations": Branch(
        "get_investigations", lambda e, q: [{"hours": min(e.get("time_window_hours") or 16, 336)}]
    ),
    # "rerun the failed jobs of the payroll stream": the stream's failures, for the model to act on each
    "stream_failed": Branch(
        "get_failed_jobs", lambda e, q: [{"hours": 24}] if e.get("job_streams") and not e.get("jobs") else []
    ),
    # "hold every job of the billing stream": the stream's jobs that have not started
    "stream_jobs": Branch(
        "get_job_stream_status",
        lambda e, q: (
            [{"stream": e["job_streams"][0]}]
            if e.get("job_streams") and not e.get("jobs") and e.get("action") in {"hold", "release"}
            else []
        ),
    ),
    "pasted": Branch("diagnose_log", lambda e, q: [{"log": q}] if q.strip() else []),
    # "would a rerun fix it?": the cause of the job's last failure says whether it would
    "rerun_logs": Branch(
        "get_job_logs",
        lambda e, q: (
            [{"job_name": e["jobs"][0], "lines": 60, "failed": True}]
            if e.get("action") == "rerun" and e.get("jobs")
            else []
        ),
    ),
    "workstations": Branch(
        "get_workstation_status", lambda e, q: [{"name": w} for w in (e.get("workstations") or [])[:3]]
    ),
}


def planned_calls(query_type: str, entities: dict[str, Any], query: str) -> list[tuple[str, str, Args]]:
    """(branch, tool, arguments) for every call this query needs: its capability's declared reads (its
    own branches first, then the shared ones)."""
    calls: list[tuple[str, str, Args]] = []
    capability = REGISTRY.get(query_type)
    if capability is None:
        return calls
    for name in capability.reads:
        branch = capability.branches.get(name) or BRANCHES[name]
        calls.extend((name, branch.tool, args) for args in branch.args(entities, query))
    return calls


def route_gather(state: State) -> list[Send] | str:
    """Conditional edge after extract_entities: one Send per call, or straight to ranking."""
    calls = planned_calls(state["query_type"], state.get("entities") or {}, state.get("query", ""))
    if not calls:
        return "rank_context"
    return [Send("gather_branch", {"branch": b, "tool": t, "args": a}) for b, t, a in calls]


async def unless_stopped(work: Awaitable[T], stop: asyncio.Event | None) -> T:
    """``work``, cancelled as soon as ``stop`` is set (the caller went away). LangGraph does not always
    cancel a node's tasks when its stream's consumer is cancelled; this does not depend on it."""
    if stop is None:
        return await work
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            raise asyncio.CancelledError("the caller went away")
        return task.result()
    finally:
        for pending in (task, stopped):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending


async def run_branch(
    catalog: ToolCatalog,
    ctx: ToolContext,
    branch: str,
    tool: str,
    args: Args,
    timeout_s: float,
    stop: asyncio.Event | None = None,
) -> tuple[GatheredItem | None, BranchError | None]:
    """(item, error): one attempt within the branch's timeout. Retries are the client's alone (GETs on
    5xx and connection errors); a timeout is not retried — it would only wait longer."""
    try:
        async with asyncio.timeout(timeout_s):
            result = await unless_stopped(catalog.execute(tool, args, ctx), stop)
    except TimeoutError:
        return None, BranchError(branch=branch, tool=tool, args=args, error=f"timed out after {timeout_s:g} s")
    if result.ok:
        return GatheredItem(branch=branch, tool=tool, args=args, data=result.data), None
    return None, BranchError(branch=branch, tool=tool, args=args, error=result.error or result.outcome)


async def gather_branch(state: BranchInput, runtime: Runtime[Context]) -> dict[str, Any]:
    """One branch of the fan-out (its input is the ``Send`` payload, not the graph state)."""
    context = runtime.context
    parts = await context.get_parts()
    who = identity(context)
    thread_id = (get_config().get("configurable") or {}).get("thread_id")
    ctx = parts.for_caller(who.caller, who.role, thread_id, memo=context.memo)
    writer = get_stream_writer()
    item, error = await run_branch(
        parts.catalog,
        ctx,
        state["branch"],
        state["tool"],
        state["args"],
        context.branch_timeout_seconds,
        context.stop,
    )
    writer(
        {
            "event": "tool_call",
            "name": state["tool"],
            "args": state["args"],
            "status": "ok" if item else "error",
            "branch": state["branch"],
        }
    )
    return {"gathered": [item] if item else [], "errors": [error] if error else []}
