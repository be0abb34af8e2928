"""TWS semantics stated right, through the real graph on a simulator: a HOLD is explained by the
engine's reason (priority 0 only for an operator's hold), "yesterday" is a production day, a
workstation filter is honoured, a job's own failed runs are named, a rerun of a SUCC job warns that
the work runs twice, a cancel releases the successors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from typing import Any

import httpx
import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from evals.engine_facts import World, failed_jobs
from graph.context import Context
from graph.graph import build_graph
from tests.graphing import services_on_a_new_database
from tests.live import LiveServer
from tools.actions import ACTIONS
from tools.context import Parts
from tools.days import ProductionDays, parse_start

AUTH = ("admin", "admin")


@pytest.fixture
async def svc(fresh_now_sim: LiveServer, embedded_pg: str, session_redis: Any) -> AsyncIterator[Parts]:
    async with services_on_a_new_database(fresh_now_sim.url, embedded_pg, session_redis.url) as built:
        yield built


async def ask(svc: Parts, text: str, role: str = "operator") -> dict[str, Any]:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": uuid.uuid4().hex}}
    result: dict[str, Any] = await graph.ainvoke(
        {"messages": [HumanMessage(text)]}, config, context=Context(role=role, caller="ana", parts=svc)
    )
    return result


def _waiting(sim: LiveServer, substatus: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=f"{sim.url}/twsd/api/v2", auth=AUTH) as http:
        held = http.get("/plan/job", params={"oql": "jobruns.compositeStatus.status = 'HOLD'", "limit": 500}).json()
    names = [j["name"] for j in held["results"]]
    return [
        j
        for j in held["results"]
        if j["lastRunCompositeStatus"].get("substatus") == substatus and names.count(j["name"]) == 1
    ]


@pytest.mark.fast
async def test_production_days_follow_the_start_of_day() -> None:
    days = ProductionDays(configured=parse_start("06:00"))
    morning = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)
    assert await days.bounds(0, morning) == (datetime(2026, 12, 7, 6, tzinfo=UTC), datetime(2026, 12, 8, 6, tzinfo=UTC))
    early = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)  # before 06:00: still the day that began yesterday
    assert (await days.bounds(0, early))[0] == datetime(2026, 12, 6, 6, tzinfo=UTC)
    assert (await days.day("yesterday", morning))[0] == datetime(2026, 12, 6, 6, tzinfo=UTC)
    # "last night" at 07:00, an hour into the day: the night belongs to the day that began yesterday
    assert (await days.day("last_night", morning))[0] == datetime(2026, 12, 6, 6, tzinfo=UTC)
    evening = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    assert (await days.day("last_night", evening))[0] == datetime(2026, 12, 7, 6, tzinfo=UTC)
    assert parse_start("0530") == time(5, 30) and parse_start("25:00") is None and parse_start("soon") is None


@pytest.mark.fast
def test_a_rerun_of_a_successful_job_says_the_work_runs_twice() -> None:
    rerun = ACTIONS["rerun"]
    assert "TWICE" in rerun.consequence_for({"status": "SUCC"}, "en")
    assert "DUAS VEZES" in rerun.consequence_for({"status": "SUCC"}, "pt")
    assert "TWICE" not in rerun.consequence_for({"status": "ABEND"}, "en")
    assert "liberados" in ACTIONS["cancel"].consequence_for({}, "pt")  # a cancel releases the successors


async def test_a_hold_is_explained_by_what_it_waits_for(svc: Parts, fresh_now_sim: LiveServer) -> None:
    job = _waiting(fresh_now_sim, "HOLD_WAITING_FOR_PREDECESSOR")[0]
    detail = await svc.client.get_job(job["id"])
    open_predecessors = {d.job_name for d in detail.dependencies or [] if d.dependency_status != "SATISFIED"}
    out = await ask(svc, f"what is {job['name']} waiting for?")
    assert any(name and name in out["answer"] for name in open_predecessors), out["answer"]
    assert "priority 0" not in out["answer"] and "predecessor" in out["answer"]

    held = _waiting(fresh_now_sim, "HOLD_WAITING_FOR_TIME")[0]  # an operator holds another one
    with httpx.Client(base_url=fresh_now_sim.url) as admin:
        admin.post(f"/admin/job/{held['id']}/wait", json={"reason": "operator"}).raise_for_status()
    out = await ask(svc, f"por que o {held['name']} está parado?")
    assert "prioridade 0" in out["answer"] and "operador" in out["answer"], out["answer"]


async def test_prompts_waiting_are_listed_by_name(svc: Parts, fresh_now_sim: LiveServer) -> None:
    job = _waiting(fresh_now_sim, "HOLD_WAITING_FOR_TIME")[0]
    with httpx.Client(base_url=fresh_now_sim.url) as admin:
        admin.post(f"/admin/job/{job['id']}/wait", json={"reason": "prompt"}).raise_for_status()
    detail = await svc.client.get_job(job["id"])
    prompt = next(d for d in detail.dependencies or [] if d.dependency_type == "PROMPT")
    out = await ask(svc, "any prompts waiting for a reply?")
    assert out["query_type"] == "prompts"
    assert str(prompt.prompt_name) in out["answer"] and job["name"] in out["answer"], out["answer"]
    assert not out.get("__interrupt__")  # reading prompts replies to none


async def test_yesterday_is_a_production_day_and_a_workstation_filter_holds(svc: Parts) -> None:
    world = World(svc.client)
    yesterday = await failed_jobs(world, {"fact": "failed_jobs", "day": "yesterday"})
    out = await ask(svc, "what failed yesterday?")
    assert all(name in out["answer"] for name in yesterday.any_of), (yesterday.any_of, out["answer"])
    assert "production day" in out["answer"]
    elsewhere = await failed_jobs(world, {"fact": "failed_jobs", "day": "today", "exclude_workstation": "AGT1"})
    on_agt1 = await failed_jobs(world, {"fact": "failed_jobs", "day": "today", "workstation": "AGT1"})
    out = await ask(svc, "what failed on AGT1 today?")
    assert all(name in out["answer"] for name in on_agt1.any_of), out["answer"]
    assert not any(name in out["answer"] for name in set(elsewhere.any_of) - set(on_agt1.any_of)), out["answer"]


async def test_a_jobs_own_failed_runs_are_named(svc: Parts) -> None:
    out = await ask(svc, "did PAYROLL_NIGHTLY run ok yesterday?")
    detail = await svc.client.get_job((await World(svc.client).instance("PAYROLL_NIGHTLY", "yesterday")).id)
    failed = [r for r in detail.jobruns if r.status in {"ABEND", "FAIL"}]
    assert failed, "the simulator scripts PAYROLL_NIGHTLY to fail before a rerun"
    assert f"failed {len(failed)} time(s)" in out["answer"] and f"rc {failed[0].return_code}" in out["answer"]


async def test_a_chain_of_waits_is_followed_to_the_job_that_holds_it(svc: Parts) -> None:
    """Two hops below a failed job (found through the engine's successors), the answer names the
    failed job that holds the chain, not only the predecessor that waits."""
    failed = await svc.client.get_job((await World(svc.client).instance("PAYROLL_NIGHTLY", None)).id)
    assert failed.status in {"ABEND", "FAIL"}, "the simulator scripts PAYROLL_NIGHTLY to fail"
    chain = None
    for first in await svc.client.job_successors(failed.id):
        for second in await svc.client.job_successors(first.id):
            detail = await svc.client.get_job(second.id)
            open_deps = [d for d in detail.dependencies or [] if d.dependency_status != "SATISFIED"]
            if detail.status in {"HOLD", "WAIT"} and [d.job_id for d in open_deps] == [first.id]:
                chain = (first.name, detail.name)
    assert chain, "PAYROLL_NIGHTLY has a successor of a successor that waits for that successor alone"
    out = await ask(svc, f"what is {chain[1]} waiting for?")
    assert chain[0] in out["answer"] and "PAYROLL_NIGHTLY" in out["answer"], out["answer"]
    assert "failed" in out["answer"] and f"return code {failed.return_code}" in out["answer"], out["answer"]
