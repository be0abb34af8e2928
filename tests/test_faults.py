"""Fault injection, tool and executor level: one write per intent under races, every approval reaches
an outcome (the recovery pass), on the simulator over HTTP with its audit of every engine write."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.live import LiveServer
from tests.test_write_tools import ask, audit, one_call_graph, resume
from tests.tooling import tool_context
from tools.actions import unresolved_dependencies
from tools.context import ToolContext
from tools.executor import Decision
from tools.hwa import JobInPlan, Justification


@pytest.fixture
async def env(fresh_now_sim: LiveServer, pool: Any, pg_url: str, session_redis: Any) -> Any:
    async with tool_context(fresh_now_sim.url, pool, pg_url, session_redis.url, sync=False) as (ctx, catalog):
        yield fresh_now_sim, ctx, catalog, one_call_graph(catalog, ctx)


async def waiting_job_with_dependencies(ctx: ToolContext, skip: int = 0) -> JobInPlan:
    """A job the engine holds back (HOLD, not by priority) with dependencies still unresolved."""
    found = await ctx.client.query_jobs(
        "jobruns.compositeStatus.status = 'HOLD' AND priority > 0 ORDER BY schedTime DESC", limit=40
    )
    jobs = [await ctx.client.get_job(j.id) for j in found.results]
    chosen = [j for j in jobs if unresolved_dependencies(j)]
    assert len(chosen) > skip, "the plan has waiting jobs with unresolved dependencies"
    return chosen[skip]


def slow_writes(sim: LiveServer, latency_ms: int) -> None:
    rule = {"path_prefix": "/twsd/api/v2/plan/job", "method": "PUT", "latency_ms": latency_ms}
    httpx.put(f"{sim.url}/admin/faults", json={"rules": [rule]}).raise_for_status()


def as_other(ctx: ToolContext, caller: str) -> ToolContext:
    return replace(ctx, caller=caller, thread_id=f"thread-{uuid.uuid4().hex[:8]}")


async def test_two_operators_asking_the_same_write_share_one_approval_and_one_write(env: Any) -> None:
    sim, ctx, catalog, graph = env
    job = await waiting_job_with_dependencies(ctx)
    args = {"job_name": job.name, "job_id": job.id}
    first_config, first = await ask(graph, "release_job_dependencies", args)
    second_config, second = await ask(graph, "release_job_dependencies", args)
    assert second["approval_id"] == first["approval_id"]  # joined, not a second approval
    # asked in another conversation by someone else: told whose request it joins
    outside = await catalog.execute("release_job_dependencies", args, as_other(ctx, "bruno").for_call("x"))
    assert outside.outcome == "pending_approval" and outside.approval_id == first["approval_id"]
    assert len(await ctx.approvals.list("pending")) == 1
    slow_writes(sim, 1500)
    results = await asyncio.gather(
        resume(graph, first_config, "approve", by=("supervisor", "operator"), message="deps checked"),
        resume(graph, second_config, "approve", by=("carla", "operator"), message="deps checked too"),
    )
    assert sorted(r["outcome"] for r in results) == ["ok", "ok"], results  # both hear the one outcome
    assert [e["action"] for e in audit(sim)] == ["release-all-dependencies"]


async def test_two_writes_racing_on_one_job_one_done_one_stale(env: Any) -> None:
    sim, ctx, catalog, _graph = env
    job = await waiting_job_with_dependencies(ctx, skip=1)
    args = {"job_name": job.name, "job_id": job.id}
    cancel = await catalog.execute("cancel_job", args, ctx.for_call("c1"))
    release = await catalog.execute("release_job_dependencies", args, as_other(ctx, "bruno").for_call("r1"))
    assert cancel.approval_id and release.approval_id and cancel.approval_id != release.approval_id
    slow_writes(sim, 1500)
    ended = await asyncio.gather(
        ctx.actions.decide(cancel.approval_id, Decision("approve", "supervisor", "operator", "stop it")),
        ctx.actions.decide(release.approval_id, Decision("approve", "carla", "operator", "let it run")),
    )
    assert sorted(a.status for a in ended) == ["done", "stale"], [(a.status, a.reason) for a in ended]
    stale = next(a for a in ended if a.status == "stale")
    assert "nothing was done" in (stale.reason or "")
    assert len(audit(sim)) == 1


async def test_release_dependencies_approved_twice_in_a_row_writes_once(env: Any) -> None:
    sim, ctx, catalog, _graph = env
    job = await waiting_job_with_dependencies(ctx, skip=2)
    args = {"job_name": job.name, "job_id": job.id}
    first = await catalog.execute("release_job_dependencies", args, ctx.for_call("a"))
    done = await ctx.actions.decide(first.approval_id or "", Decision("approve", "supervisor", "operator", "go ahead"))
    assert done.status == "done", done.reason
    assert done.target["unresolved_dependencies"] == unresolved_dependencies(job)
    again = await catalog.execute("release_job_dependencies", args, as_other(ctx, "bruno").for_call("b"))
    assert again.outcome == "error" and again.approval_id is None, again  # nothing left: no second request
    assert [e["action"] for e in audit(sim)] == ["release-all-dependencies"]


async def left_executing(ctx: ToolContext, name: str) -> str:
    """An approval a process took to ``executing`` and then died with (nothing wrote its end)."""
    pending = await ctx.parts.catalog.execute("rerun_job", {"job_name": name}, ctx.for_call(f"k-{name}"))
    assert pending.approval_id
    await ctx.approvals.approve(pending.approval_id, "supervisor", "rerun after the fix")
    await ctx.approvals.start(pending.approval_id)
    return pending.approval_id


async def test_the_recovery_pass_ends_every_write_nobody_heard_the_end_of(env: Any) -> None:
    sim, ctx, _catalog, _graph = env
    applied = await left_executing(ctx, "PAYROLL_NIGHTLY")
    lost = await left_executing(ctx, "BILLING_INVOICE_GEN")
    # the first write reached the engine before its process died; the second never left
    record = await ctx.approvals.get(applied)
    await ctx.parts.client.rerun_run(record.target["run_id"], Justification(description="sent before the crash"))
    # a write still in flight (its job's lock held by a live process) is left alone
    live = await ctx.approvals.get(lost)
    async with ctx.approvals.target_lock(live.engine, live.target["job_id"], 1) as held:
        assert held
        ended = await ctx.actions.recover(timedelta(0))
        assert [a.id for a in ended] == [applied]
    assert (await ctx.approvals.get(applied)).status == "done"
    assert "reconciled" in ((await ctx.approvals.get(applied)).reason or "")
    [unknown] = await ctx.actions.recover(timedelta(0))
    assert unknown.id == lost and unknown.status == "unknown" and "keeps checking" in (unknown.reason or "")
    assert await ctx.actions.recover(timedelta(0)) == []  # still not applied: checked again, unchanged
    [failed] = await ctx.actions.recover(timedelta(0), give_up_after=timedelta(0))
    assert failed.status == "failed" and "never showed" in (failed.reason or "")
    assert (await ctx.approvals.get(lost)).checks == 3
    assert [e["action"] for e in audit(sim)] == ["rerun"]


async def test_an_unknown_write_becomes_done_once_the_engine_shows_it(env: Any) -> None:
    _sim, ctx, _catalog, _graph = env
    approval_id = await left_executing(ctx, "PAYROLL_NIGHTLY")
    [unknown] = await ctx.actions.recover(timedelta(0))
    assert unknown.status == "unknown"
    await ctx.parts.client.rerun_run(unknown.target["run_id"], Justification(description="the engine was slow"))
    [done] = await ctx.actions.recover(timedelta(0))
    assert done.id == approval_id and done.status == "done"


@pytest.mark.parametrize("reason", ["", "  ", "ok"])
async def test_an_approval_needs_the_approvers_reason_on_every_client(env: Any, reason: str) -> None:
    sim, ctx, _catalog, graph = env
    config, request = await ask(graph, "rerun_job", {"job_name": "PAYROLL_NIGHTLY"})
    result = await resume(graph, config, "approve", **({"message": reason} if reason else {}))
    assert result["outcome"] == "refused" and "justification is required" in result["error"]
    assert (await ctx.approvals.get(request["approval_id"])).status == "pending"  # still decidable
    assert audit(sim) == []


async def test_a_joined_request_resumed_after_the_write_ended_never_writes_again(env: Any) -> None:
    sim, ctx, _catalog, graph = env
    first_config, first = await ask(graph, "rerun_job", {"job_name": "PAYROLL_NIGHTLY"})
    second_config, second = await ask(graph, "rerun_job", {"job_name": "PAYROLL_NIGHTLY"})
    assert second["approval_id"] == first["approval_id"]
    done = await resume(graph, first_config, "approve", message="input resent")
    assert done["outcome"] == "ok"
    # the joined request's card is approved later: it reports the one write, and creates no other
    late = await resume(graph, second_config, "approve", by=("carla", "operator"), message="me too")
    assert late["outcome"] == "ok" and late["approval_id"] == first["approval_id"], late
    assert [a.id for a in await ctx.approvals.list(None)] == [first["approval_id"]]
    assert [e["action"] for e in audit(sim)] == ["rerun"]
