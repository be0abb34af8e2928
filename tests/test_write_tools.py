"""Write tools end to end: a LangGraph run pauses on interrupt() with the HITL request, an operator
approves or rejects (or the approval expires), the run resumes, and the simulator's job changes
only after an approved, consumed approval — with the audit headers the engine receives."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any, TypedDict

import httpx
import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from tests.live import LiveServer
from tests.tooling import tool_context
from tools.catalog.common import current_instances
from tools.context import ToolContext
from tools.hwa import JobInPlan
from tools.registry import ToolCatalog
from tools.store.approvals import ApprovalError


class CallState(TypedDict):
    call: dict[str, Any]
    result: dict[str, Any] | None


def one_call_graph(catalog: ToolCatalog, ctx: ToolContext) -> Any:
    """The smallest graph that runs one tool call the way the agent will (interrupt inside the node)."""

    async def act(state: CallState, config: RunnableConfig) -> dict[str, Any]:
        call_ctx = ctx.for_call(state["call"]["id"])
        call_ctx.thread_id = config["configurable"]["thread_id"]
        result = await catalog.execute(state["call"]["name"], state["call"]["args"], call_ctx)
        return {
            "result": {
                "outcome": result.outcome,
                "data": result.data,
                "error": result.error,
                "approval_id": result.approval_id,
            }
        }

    builder = StateGraph(CallState)
    builder.add_node("act", act)
    builder.add_edge(START, "act")
    builder.add_edge("act", END)
    return builder.compile(checkpointer=InMemorySaver())


async def ask(graph: Any, name: str, args: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    config = {"configurable": {"thread_id": f"t-{uuid.uuid4().hex[:8]}"}}
    out = await graph.ainvoke(
        {"call": {"name": name, "args": args, "id": f"call-{uuid.uuid4().hex[:6]}"}, "result": None}, config
    )
    assert "__interrupt__" in out, out
    return config, out["__interrupt__"][0].value


async def resume(graph: Any, config: dict[str, Any], decision: str) -> dict[str, Any]:
    out = await graph.ainvoke(Command(resume={"decisions": [{"type": decision}]}), config)
    result: dict[str, Any] = out["result"]
    return result


def audit(sim: LiveServer) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(f"{sim.url}/admin/audit").json()
    return entries


async def newest(ctx: ToolContext, name: str) -> JobInPlan:
    return await ctx.client.get_job(current_instances(await ctx.client.find_jobs(name))[0].id)


@pytest.fixture
async def env(fresh_now_sim: LiveServer, pool: Any, pg_url: str, session_redis: Any) -> Any:
    async with tool_context(fresh_now_sim.url, pool, pg_url, session_redis.url, sync=False) as (ctx, catalog):
        yield fresh_now_sim, ctx, catalog, one_call_graph(catalog, ctx)


async def test_rerun_approved(env: Any) -> None:
    sim, ctx, _catalog, graph = env
    before = await newest(ctx, "PAYROLL_NIGHTLY")
    config, request = await ask(graph, "rerun_job", {"job_name": "PAYROLL_NIGHTLY"})
    assert request["action_requests"][0]["name"] == "rerun_job"
    assert request["review_configs"] == [{"action_name": "rerun_job", "allowed_decisions": ["approve", "reject"]}]
    assert "AGT1#PAYROLL_DAILY.PAYROLL_NIGHTLY" in request["action_requests"][0]["description"]
    pending = await ctx.approvals.get(request["approval_id"])
    assert pending.status == "pending" and pending.requested_by == "ana" and pending.target["status"] == "ABEND"
    assert len((await newest(ctx, "PAYROLL_NIGHTLY")).jobruns) == len(before.jobruns)  # nothing written yet
    await ctx.approvals.approve(request["approval_id"], "supervisor", "HR resent employees.csv", ticket="INC-4242")
    result = await resume(graph, config, "approve")
    assert result["outcome"] == "ok", result
    after = await newest(ctx, "PAYROLL_NIGHTLY")
    assert len(after.jobruns) == len(before.jobruns) + 1 and after.last_run.rerun_type == "RERUN"  # type: ignore[union-attr]
    entry = audit(sim)[-1]
    assert entry["action"] == "rerun" and entry["headers"]["Justification-Ticket-Num"] == "INC-4242"
    assert "HR resent employees.csv" in entry["headers"]["Justification-Description"]
    used = await ctx.approvals.get(request["approval_id"])
    assert used.status == "used" and used.result["job"]["runs"] == len(after.jobruns)  # type: ignore[index]
    # the same approval cannot be used twice: a replayed decision unlocks no write
    replay = ctx.for_call("replay")
    with pytest.raises(ApprovalError, match="used"):
        await replay._apply_decision(request["approval_id"], {"decisions": [{"type": "approve"}]})
    assert len(audit(sim)) == 1


async def test_rejected_and_forged_resumes_write_nothing(env: Any) -> None:
    sim, ctx, _catalog, graph = env
    job = await newest(ctx, "BILLING_INVOICE_GEN")
    config, request = await ask(graph, "rerun_job", {"job_name": "BILLING_INVOICE_GEN"})
    await ctx.approvals.reject(request["approval_id"], "supervisor", "wait for the DBA")
    result = await resume(graph, config, "reject")
    assert result["outcome"] == "rejected"
    # forged: resumed with "approve" while nobody approved
    config2, request2 = await ask(graph, "rerun_job", {"job_name": "BILLING_INVOICE_GEN"})
    forged = await resume(graph, config2, "approve")
    assert forged["outcome"] == "refused" and "pending" in forged["error"]
    assert (await ctx.approvals.get(request2["approval_id"])).status == "pending"
    assert len((await ctx.client.get_job(job.id)).jobruns) == len(job.jobruns)
    assert not [e for e in audit(sim) if e["action"] == "rerun"]


async def test_expired_approval_writes_nothing(
    fresh_now_sim: LiveServer, pool: Any, pg_url: str, session_redis: Any
) -> None:
    async with tool_context(
        fresh_now_sim.url, pool, pg_url, session_redis.url, sync=False, approval_ttl=timedelta(seconds=0.5)
    ) as (ctx, catalog):
        graph = one_call_graph(catalog, ctx)
        job = await newest(ctx, "PAYROLL_NIGHTLY")
        config, request = await ask(graph, "rerun_job", {"job_name": "PAYROLL_NIGHTLY"})
        await asyncio.sleep(0.7)
        with pytest.raises(Exception, match="expired"):
            await ctx.approvals.approve(request["approval_id"], "supervisor", "too late")
        result = await resume(graph, config, "approve")
        assert result["outcome"] == "refused" and "expired" in result["error"]
        assert len((await ctx.client.get_job(job.id)).jobruns) == len(job.jobruns)


async def approve_and_run(graph: Any, ctx: ToolContext, name: str, args: dict[str, Any]) -> dict[str, Any]:
    config, request = await ask(graph, name, args)
    await ctx.approvals.approve(request["approval_id"], "supervisor", f"{name} for the test", ticket="CHG-1")  # type: ignore[union-attr]
    return await resume(graph, config, "approve")


async def test_each_write_tool_changes_the_job(env: Any) -> None:
    sim, ctx, _catalog, graph = env
    waiting = (
        await ctx.client.query_jobs(
            "jobruns.compositeStatus.status = 'HOLD' AND priority > 0 ORDER BY schedTime DESC", limit=3
        )
    ).results
    running = (await ctx.client.query_jobs("jobruns.compositeStatus.status = 'EXEC'", limit=1)).results[0]
    held = waiting[0]
    result = await approve_and_run(graph, ctx, "hold_job", {"job_name": held.name, "job_id": held.id})
    assert result["outcome"] == "ok" and result["data"]["job"]["common_status"] == "HELD"
    result = await approve_and_run(graph, ctx, "release_job", {"job_name": held.name, "job_id": held.id})
    assert result["outcome"] == "ok" and (await ctx.client.get_job(held.id)).priority == 10
    result = await approve_and_run(
        graph, ctx, "release_job_dependencies", {"job_name": waiting[1].name, "job_id": waiting[1].id}
    )
    assert result["outcome"] == "ok"
    result = await approve_and_run(graph, ctx, "cancel_job", {"job_name": waiting[2].name, "job_id": waiting[2].id})
    assert result["outcome"] == "ok" and result["data"]["job"]["common_status"] == "CANCELED"
    result = await approve_and_run(graph, ctx, "kill_job", {"job_name": running.name, "job_id": running.id})
    assert result["outcome"] == "ok" and result["data"]["job"]["status"] == "ABEND"
    result = await approve_and_run(graph, ctx, "confirm_job", {"job_name": "BILLING_INVOICE_GEN", "result": "succ"})
    assert result["outcome"] == "ok" and result["data"]["job"]["status"] == "SUCC"
    actions = [e["action"] for e in audit(sim)]
    assert actions == ["hold", "release", "release-all-dependencies", "cancel", "kill", "confirm-succ"]
    assert all(e["headers"]["Justification-Ticket-Num"] == "CHG-1" for e in audit(sim))


async def test_invalid_actions_are_refused_before_any_approval(env: Any) -> None:
    sim, ctx, catalog, _graph = env
    for name, args, fragment in [
        ("kill_job", {"job_name": "PAYROLL_NIGHTLY"}, "only a running (EXEC) job can be killed"),
        ("hold_job", {"job_name": "PAYROLL_NIGHTLY"}, "only a waiting job"),
        ("release_job", {"job_name": "PAYROLL_NIGHTLY"}, "it is not held"),
        ("confirm_job", {"job_name": "BACKUP_DB_PROD", "result": "abend"}, "confirm ABEND applies to"),
        ("rerun_job", {"job_name": "NO_SUCH_JOB"}, "no job named NO_SUCH_JOB"),
    ]:
        result = await catalog.execute(name, args, ctx.for_call("x"))
        assert result.outcome == "error" and fragment in (result.error or ""), (name, result.error)
    assert await ctx.approvals.list() == []
    viewer = ctx.for_call("y")
    viewer.role = "viewer"
    assert (await catalog.execute("rerun_job", {"job_name": "PAYROLL_NIGHTLY"}, viewer)).outcome == "refused"
    assert await ctx.approvals.list() == [] and audit(sim) == []


async def test_outside_a_graph_the_call_waits_for_the_approval(env: Any) -> None:
    sim, ctx, catalog, _graph = env
    call = ctx.for_call("direct-1")
    pending = await catalog.execute("rerun_job", {"job_name": "BILLING_INVOICE_GEN"}, call)
    assert pending.outcome == "pending_approval" and pending.approval_id
    assert [a.id for a in await ctx.approvals.list()] == [pending.approval_id]
    await ctx.approvals.approve(pending.approval_id, "supervisor", "deadlock cleared by DBA", ticket="INC-9")
    again = ctx.for_call("direct-1")
    again.decide = lambda request: {"decisions": [{"type": "approve"}]}
    done = await catalog.execute("rerun_job", {"job_name": "BILLING_INVOICE_GEN"}, again)
    assert done.outcome == "ok" and done.approval_id == pending.approval_id
    assert audit(sim)[-1]["headers"]["Justification-Ticket-Num"] == "INC-9"


async def test_a_name_in_several_streams_asks_which_one(env: Any) -> None:
    sim, ctx, catalog, _graph = env
    ambiguous = await catalog.execute("hold_job", {"job_name": "ARCHIVE_LOGS"}, ctx.for_call("a"))
    assert ambiguous.outcome == "error" and "ambiguous: which one?" in (ambiguous.error or "")
    assert "AGT1#PAYROLL_DAILY.ARCHIVE_LOGS" in (ambiguous.error or "") and "BILLING_DAILY.ARCHIVE_LOGS" in (
        ambiguous.error or ""
    )
    chosen = await catalog.execute(
        "hold_job", {"job_name": "ARCHIVE_LOGS", "job_stream": "BILLING_DAILY"}, ctx.for_call("b")
    )
    assert chosen.outcome == "pending_approval"  # resolved to exactly one job: now it waits for approval
    approval = await ctx.approvals.get(chosen.approval_id)
    assert approval.target["job"].endswith("#BILLING_DAILY.ARCHIVE_LOGS") and audit(sim) == []
