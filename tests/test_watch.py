"""The watcher on real parts (simulator over HTTP, PostgreSQL, the knowledge graph): every injected
failure gets one investigation with the right cause category (precision per category over the
simulator's own ground truth), a second tick adds nothing, a healthy plan yields nothing, and a
failure below a failed job is a cascade pointed at its root."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hwasim import SimConfig, build_plan, create_app
from hwasim.stdlists import kinds
from tests.live import LiveServer
from tests.test_kg import T0, known_dag
from tools.hwa import HWAClient, HWAClientConfig
from tools.services.watch import Watcher
from tools.store.incidents import IncidentStore
from tools.store.investigations import InvestigationStore
from tools.store.kg import KnowledgeGraph
from tools.store.kg_sync import KnowledgeGraphSync

# the simulator's first failure kinds (one clean line each), which the rule classifier was built on
# measured on this seeded plan: 0.488 with the first keyword rules (2026-12-06), 1.000 with the
# diagnosis of issue 24 — floors against regressions (the held-out corpus says how it generalises)
ACCURACY_FLOOR = 0.95
FIRST_KINDS_FLOOR = 1.0
FIRST_KINDS = {"missing_file", "deadlock", "disk_full", "timeout", "permission_denied", "launch_failure"}


async def watcher_on(url: str, pool: Any) -> tuple[Watcher, InvestigationStore]:
    client = HWAClient(HWAClientConfig(url, "admin", "admin"))
    kg, incidents, store = KnowledgeGraph(pool), IncidentStore(pool), InvestigationStore(pool)
    await KnowledgeGraphSync(client, kg).sync(full=True)
    await incidents.harvest(client)
    return Watcher(client, kg, incidents, store, concurrency=4, lookback=timedelta(days=4)), store


async def test_every_injected_failure_is_investigated_with_its_cause(pool: Any) -> None:
    plan = build_plan(7, 600, days=3, failure_rate=0.25)
    with LiveServer(create_app(SimConfig(jobs=600, seed=7, clock="manual"), plan)) as sim:
        watcher, store = await watcher_on(sim.url, pool)
        report = await watcher.tick()
        records = await store.search(limit=5000)
        again = await watcher.tick()  # a restart, a second watcher: nothing new
        await watcher.client.aclose()
    failures = [r for r in records if r.kind == "failure"]
    assert report.failed == 0 and again.investigated == 0 and len({r.run_id for r in records}) == len(records)
    predicted: Counter[str] = Counter()
    right: Counter[str] = Counter()
    first_right = first_total = 0
    for record in failures:
        _job, run = plan.runs_by_id[record.run_id]
        if run.killed or run.outcome not in kinds():
            continue  # a kill or an operator's action: no injected cause to compare with
        expected = kinds()[run.outcome].category
        predicted[record.category] += 1
        right[record.category] += record.category == expected
        if run.outcome in FIRST_KINDS:
            first_total += 1
            first_right += record.category == expected
    total = sum(predicted.values())
    precision = {category: right[category] / n for category, n in predicted.items()}
    accuracy = sum(right.values()) / total
    print("precision per category:", {c: f"{p:.2f} (n={predicted[c]})" for c, p in sorted(precision.items())})
    print(f"accuracy {accuracy:.3f} over {total} failures ({first_right}/{first_total} of the first kinds)")
    assert total >= 50, f"only {total} injected failures"
    assert first_right / first_total >= FIRST_KINDS_FLOOR  # the kinds the rules were built on, now among noise
    # the world's messy kinds (noise, pt_BR, program families): measured, not yet good (issue 24)
    assert accuracy >= ACCURACY_FLOOR, accuracy
    with_log = [r for r in failures if r.evidence.get("log_lines")]
    assert with_log and all(isinstance(line["line"], int) for r in with_log for line in r.evidence["log_lines"])
    assert all(r.next_step and r.next_step_pt and r.severity in {"critical", "high", "medium", "low"} for r in failures)


async def test_successful_runs_yield_no_investigation(pool: Any) -> None:
    """No random failures: hundreds of successful runs and only the simulator's five scripted
    incidents (every plan has them, for demos) are investigated — no false alarm."""
    plan = build_plan(11, 300, days=2, failure_rate=0.0)
    scripted = {"PAYROLL_NIGHTLY", "BILLING_INVOICE_GEN", "BACKUP_DB_PROD"}
    with LiveServer(create_app(SimConfig(jobs=300, seed=11, clock="manual", failure_rate=0.0), plan)) as sim:
        watcher, store = await watcher_on(sim.url, pool)
        report = await watcher.tick()
        await watcher.client.aclose()
    failures = [r for r in await store.search() if r.kind == "failure"]
    ran = sum(len(job.runs) for job in plan.jobs)
    assert ran > 300 and report.failed == 0
    assert failures and {r.job_name for r in failures} <= scripted


async def test_a_failure_below_a_failed_job_is_a_cascade_of_its_root(pool: Any) -> None:
    """On a known DAG (a ABEND → b → c): c's root is a, the farthest failed ancestor."""
    kg, store = KnowledgeGraph(pool), InvestigationStore(pool)
    snap = known_dag()
    snap.jobs = [(*j[:6], "ABEND" if j[0] in {"a", "b"} else j[6], *j[7:]) for j in snap.jobs]
    await kg.apply(snap, full=True)
    watcher = Watcher(None, kg, IncidentStore(pool), store)  # type: ignore[arg-type]  (no engine call here)
    root, failed = await watcher._root("c", {"a": "run-a", "b": "run-b"})
    assert root == "run-a" and set(failed) == {"A", "B"}
    assert await watcher._root("a", {"a": "run-a"}) == (None, [])
    impact = await kg.impact("a")
    assert {n.id for n in impact.blocked_jobs} >= {"c", "x"}  # what the root blocks is counted under it
    late = await kg.late_jobs(T0 + timedelta(hours=3))
    assert [j["id"] for j in late] == ["x"] and datetime.now(UTC) > T0


async def test_the_night_digest_in_the_chat(
    fresh_now_sim: LiveServer, pool: Any, pg_url: str, session_redis: Any
) -> None:
    """ "o que aconteceu essa noite?" is answered from the watcher's records, roots once with their next
    step, in the user's language (the window named in the question: the plan's failures are hours old)."""
    from langchain_core.messages import HumanMessage
    from langgraph.checkpoint.memory import InMemorySaver

    from graph.context import Context
    from graph.graph import build_graph
    from tests.graphing import services

    async with services(fresh_now_sim.url, pool, pg_url, session_redis.url) as parts:
        assert parts.kg is not None and parts.incidents is not None
        watcher = Watcher(parts.client, parts.kg, parts.incidents, InvestigationStore(pool), lookback=timedelta(days=4))
        await watcher.tick()
        graph = build_graph().compile(checkpointer=InMemorySaver())
        answers = {}
        for question in ("o que aconteceu essa noite? últimas 72 horas", "what happened overnight, last 72 hours?"):
            config = {"configurable": {"thread_id": question[:20]}}
            out = await graph.ainvoke(
                {"messages": [HumanMessage(question)]}, config, context=Context(role="viewer", parts=parts)
            )
            assert out["query_type"] == "digest"
            answers[out["language"]] = out["answer"]
    assert "falha(s) de origem" in answers["pt"] and "PAYROLL_NIGHTLY" in answers["pt"]
    assert "entrada ausente" in answers["pt"] and "→" in answers["pt"]
    assert "root failure(s)" in answers["en"] and "missing input" in answers["en"]
    assert "file not found" in answers["en"]  # the evidence line
