"""The plan-wide questions an operator starts a shift with, through the real graph on a simulator:
what is stuck (failures not recovered, a workstation down with jobs waiting), what to look at first
(the same triage), what changed since yesterday (the failures of both production days) — every fact
checked against the engine — and a waiting job's troubleshooting that quotes no older run's log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from evals.engine_facts import World, failed_jobs
from tests.graphing import services_on_a_new_database
from tests.live import LiveServer
from tests.test_semantics import AUTH, ask
from tools.context import Parts


@pytest.fixture(scope="module")
async def svc(now_sim: LiveServer, embedded_pg: str, session_redis: Any) -> AsyncIterator[Parts]:
    async with services_on_a_new_database(now_sim.url, embedded_pg, session_redis.url) as built:
        yield built


def engine(sim: LiveServer, path: str, **params: Any) -> Any:
    with httpx.Client(base_url=f"{sim.url}/twsd/api/v2", auth=AUTH) as http:
        return http.get(path, params=params).json()


async def still_failed(svc: Parts) -> set[str]:
    """Today's failed jobs whose newest state is still failed, from the engine."""
    world = World(svc.client)
    today = await failed_jobs(world, {"fact": "failed_jobs", "day": "today"})
    jobs = {name: await world.instance(name, "today") for name in today.any_of}
    return {name for name, job in jobs.items() if job.status in {"ABEND", "FAIL"}}


@pytest.mark.parametrize(
    ("question", "kind", "head"),
    [
        ("what is stuck right now?", "stuck", "Failed and not recovered"),
        ("o que está travado agora?", "stuck", "Com falha e não recuperados"),
        ("what should I look at first?", "prioritise", "Failed and not recovered"),
        ("por onde eu começo?", "prioritise", "Com falha e não recuperados"),
    ],
)
async def test_what_is_stuck_and_what_first(
    svc: Parts, now_sim: LiveServer, question: str, kind: str, head: str
) -> None:
    failed = await still_failed(svc)
    assert failed, "the simulator scripts failures today"
    down = [w["name"] for w in engine(now_sim, "/plan/workstation")["results"] if not w.get("linked", True)]
    out = await ask(svc, question)
    assert out["query_type"] == kind and head in out["answer"], out["answer"]
    assert all(name in out["answer"] for name in failed), (failed, out["answer"])
    assert all(name in out["answer"] for name in down), (down, out["answer"])
    assert not out.get("__interrupt__")
    if kind == "prioritise":  # "what first?" leads with the failure that holds up the most downstream
        assert svc.kg is not None
        held_up = {
            name: len((await svc.kg.impact(str((await svc.kg.find_job(name) or {})["id"]))).blocked_jobs)
            for name in failed
        }
        first = out["answer"].split("\n", 1)[0]
        assert first.startswith(("Start with", "Comece pelo")) and max(held_up, key=held_up.get) in first, first


async def test_what_changed_since_yesterday_compares_the_failures_of_both_days(svc: Parts) -> None:
    world = World(svc.client)
    today = set((await failed_jobs(world, {"fact": "failed_jobs", "day": "today"})).any_of)
    yesterday = set((await failed_jobs(world, {"fact": "failed_jobs", "day": "yesterday"})).any_of)
    out = await ask(svc, "what changed since yesterday?")
    answer = out["answer"]
    assert out["query_type"] == "changes" and answer.strip(), answer
    sections = {
        key: answer.split(key, 1)[1].split("\n\n", 1)[0]
        for key in ("not yesterday", "not today", "both")
        if key in answer
    }
    assert all(n in sections["not yesterday"] for n in today - yesterday), answer
    assert all(n in sections.get("not today", "") for n in yesterday - today), answer
    assert all(n in sections.get("both", "") for n in today & yesterday), answer


async def test_a_waiting_job_is_explained_by_what_it_waits_for_not_an_older_log(
    svc: Parts, now_sim: LiveServer
) -> None:
    held = engine(now_sim, "/plan/job", oql="jobruns.compositeStatus.status = 'HOLD'", limit=500)["results"]
    names = [j["name"] for j in held]
    waiting = next(j["name"] for j in held if names.count(j["name"]) == 1 and j["name"].isupper())
    out = await ask(svc, f"why is {waiting} stuck?")
    assert "is HOLD" in out["answer"] and "The job log says" not in out["answer"], out["answer"]


@pytest.mark.fast
def test_an_answer_is_never_empty() -> None:
    from graph.capabilities import REGISTRY
    from graph.models.answers import render

    for kind, capability in REGISTRY.items():  # nothing gathered: still a sentence that says what would help
        for lang, words in (("en", "I found nothing"), ("pt", "Não encontrei nada")):
            text = render(kind, lang, [], {"entities": {}, "errors": []}, capability.compose)
            assert text.strip(), kind
            assert words in text or len(text) > 20, (kind, text)


async def test_will_a_stream_be_late_is_the_streams_own_deadline(svc: Parts, now_sim: LiveServer) -> None:
    streams = engine(now_sim, "/plan/jobstream", limit=500)["results"]
    late = next(s["name"] for s in streams if s["name"] == "RISK_DAILY")
    out = await ask(svc, f"o {late} vai atrasar?")
    assert out["query_type"] == "stream" and f"job stream {late}" in out["answer"], out["answer"]
    assert "prazo" in out["answer"]  # its own deadline, in Portuguese


async def test_each_failure_is_said_with_its_cause_and_whether_a_rerun_helps(svc: Parts) -> None:
    """The failure list and a failed job's status carry the cause the one diagnosis reads in the
    job's own log (checked against that log), and what PEND jobs wait for is listed in the triage."""
    from tools.diagnosis import diagnose

    expected = {}
    for name in await still_failed(svc):
        job = await svc.client.get_job((await World(svc.client).instance(name, "today")).id)
        run = [r for r in job.jobruns if r.status in {"ABEND", "FAIL"}][-1]
        expected[name] = diagnose(await svc.client.job_log(run.id), run.status, run.return_code)
    assert expected, "the simulator's story has failures still open today"
    listed = await ask(svc, "what failed today?")
    for name, found in expected.items():
        line = next(ln for ln in listed["answer"].splitlines() if ln.startswith(f"- {name} "))
        assert "cause:" in line and (found.line or "")[:40] in line, (name, line)
    one = sorted(expected)[0]
    status = await ask(svc, f"{one.lower()} status?")
    assert "— cause:" in status["answer"] and (expected[one].line or "")[:40] in status["answer"]
    pend = [j["name"] for j in engine_jobs(svc.client.config.base_url, "PEND")]
    stuck = await ask(svc, "what is stuck right now?")
    assert not pend or ("confirmation" in stuck["answer"] and all(n in stuck["answer"] for n in pend[:3]))


def engine_jobs(base_url: str, status: str) -> list[dict[str, Any]]:
    with httpx.Client(base_url=f"{base_url.rstrip('/')}/twsd/api/v2", auth=AUTH) as http:
        oql = f"jobruns.compositeStatus.status = '{status}'"
        return list(http.get("/plan/job", params={"oql": oql, "limit": 500}).json()["results"])


async def test_would_a_rerun_help_is_answered_from_the_failures_cause(svc: Parts) -> None:
    """A question about a rerun is not an order: no approval, and the answer says whether a rerun
    would help from the diagnosis of the job's last failed run."""
    out = await ask(svc, "PAYROLL_NIGHTLY — will a plain rerun fix it?")
    assert out["query_type"] == "impact" and not out.get("__interrupt__")
    assert "Would a plain rerun fix it? A rerun fails the same way" in out["answer"], out["answer"]
    assert "file not found" in out["answer"]
