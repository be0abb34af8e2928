"""The agent graph on real parts with the offline model: nodes alone, every query type in both
languages, partial results, follow-ups across turns, approval interrupt and resume, the Postgres
checkpointer, the orchestrator and the query processor."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.types import Command

from graph.classifier import KnownNames, classify
from graph.context import Context
from graph.facade import QueryProcessor, ServiceOrchestrator
from graph.graph import build_graph
from graph.graph import graph as module_graph
from graph.nodes.gather import planned_calls
from graph.nodes.rank import rank
from graph.state import RESET, per_turn
from tests.graphing import services, services_on_a_new_database
from tests.live import LiveServer
from tools.context import Parts


@pytest.fixture
async def svc(fresh_now_sim: LiveServer, pool: Any, pg_url: str, session_redis: Any) -> AsyncIterator[Parts]:
    """Parts of its own, for tests that act or inject faults."""
    async with services(fresh_now_sim.url, pool, pg_url, session_redis.url) as built:
        yield built


@pytest.fixture(scope="module")
async def read_svc(now_sim: LiveServer, embedded_pg: str, session_redis: Any) -> AsyncIterator[Parts]:
    """One set of parts for the read-only question cases (they change nothing)."""
    async with services_on_a_new_database(now_sim.url, embedded_pg, session_redis.url) as built:
        yield built


async def ask(
    graph: Any, svc: Parts, text: str, thread: str | None = None, role: str = "operator", **ctx: Any
) -> dict[str, Any]:
    config = {"configurable": {"thread_id": thread or uuid.uuid4().hex}}
    result: dict[str, Any] = await graph.ainvoke(
        {"messages": [HumanMessage(text)]}, config, context=Context(role=role, caller="ana", parts=svc, **ctx)
    )
    return result


# ------------------------------------------------------------------ nodes alone
def test_module_graph_has_no_checkpointer() -> None:
    assert module_graph.checkpointer is None
    assert set(module_graph.get_graph().nodes) >= {
        "understand",
        "gather_branch",
        "rank_context",
        "agent",
        "tools",
        "draft",
    }


def test_per_turn_reducer_resets() -> None:
    assert per_turn([{"a": 1}], [{"b": 2}]) == [{"a": 1}, {"b": 2}]
    assert per_turn([{"a": 1}], [RESET, {"c": 3}]) == [{"c": 3}]


def test_classification_and_entities_with_fixed_inputs() -> None:
    known = KnownNames(["PAYROLL_NIGHTLY", "GL_POSTING"], ["PAYROLL_DAILY"], ["AGT1"])
    result = classify("por que o payroll nightly falhou ontem com rc 12?", known)
    assert result.query_type.value == "troubleshoot" and result.language == "pt"
    assert result.entities.jobs == ["PAYROLL_NIGHTLY"] and result.entities.return_codes == [12]
    assert result.entities.time_window_hours == 24
    assert classify("rerun GL_POSTING on AGT1", known).as_output()["entities"]["action"] == "rerun"


def test_gather_plan_per_query_type() -> None:
    entities = {"jobs": ["PAYROLL_NIGHTLY"], "workstations": [], "time_window_hours": 6}
    branches = {b for b, _, _ in planned_calls("troubleshoot", entities, "why")}
    assert branches == {"status", "logs", "incidents", "kg", "knowledge"}
    # the failures, and the same read with each one's cause from its log (a slow log costs only the causes)
    assert planned_calls("failed_jobs", entities, "x") == [
        ("failed", "get_failed_jobs", {"hours": 6}),
        ("failed_causes", "get_failed_jobs", {"hours": 6, "with_causes": True}),
    ]
    assert planned_calls("other", {}, "hi") == []


def test_rank_dedupes_and_fits_the_budget() -> None:
    item = {"branch": "logs", "tool": "get_job_logs", "args": {}, "data": {"log": "ERROR: x " * 200}}
    passage = {"source": "runbook.md", "text": "p" * 4000, "score": 0.9}
    other = {"branch": "knowledge", "tool": "search_knowledge", "args": {}, "data": {"passages": [passage]}}
    kept, before, after = rank([item, dict(item), other], "troubleshoot", "why error", budget=600)
    assert [k["branch"] for k in kept] == ["logs"] and before > after


def test_the_relevance_cut() -> None:
    """A diagnosis keeps a long log's error lines (numbered as in the log) and its tail; weak runbook
    passages, extra incidents and a branch that does not matter for the question go; the raw size of
    what the scheduler returned is the baseline."""
    lines = [f"step {i}: ok" for i in range(1, 200)]
    lines[120] = "ERROR: file not found: /data/in/payroll.csv"
    log = {"log": "\n".join(lines), "return_code": 12, "_raw_tokens": 9000}
    logs = {"branch": "logs", "tool": "get_job_logs", "args": {}, "data": log}
    passages = [{"source": f"r{i}", "text": "x", "score": s} for i, s in enumerate((0.9, 0.6, 0.2))]
    knowledge = {"branch": "knowledge", "tool": "search_knowledge", "args": {}, "data": {"passages": passages}}
    incidents = {"branch": "incidents", "tool": "find_similar_incidents", "args": {}, "data": {"incidents": [{}] * 6}}
    noise = {"branch": "workstations", "tool": "get_workstation_status", "args": {}, "data": {"workstations": []}}
    kept, before, after = rank([logs, knowledge, incidents, noise], "troubleshoot", "why did it fail", 3000)
    by_tool = {k["tool"]: k["data"] for k in kept}
    assert "get_workstation_status" not in by_tool
    text = by_tool["get_job_logs"]["log"]
    assert "121: ERROR: file not found" in text and "120: step 120: ok" in text and "199: step 199: ok" in text
    assert "step 50: ok" not in text and "…" in text
    assert [p["source"] for p in by_tool["search_knowledge"]["passages"]] == ["r0", "r1"]
    assert len(by_tool["find_similar_incidents"]["incidents"]) == 3
    assert before >= 9000 and after < before / 5
    whole, _, _ = rank([logs], "logs", "show me the log", 3000)  # asked for the log: it is shown as it is
    assert whole[0]["data"]["log"] == log["log"]
    # a stdlist: the cause is an HWA message id, the tail is the program's output, not the trailer
    stdlist = ["=" * 63, "= JOB       : AGT1#BACKUP.BACKUP_DB_PROD", "=" * 63]
    stdlist += [f"copying block {i}" for i in range(60)]
    stdlist += ["AWSSIM0120E The job could not be launched on AGT1: the user x is not valid on the agent."]
    stdlist += ["=" * 63, "= Exit Status : 1", "= Elapsed Time (hh:mm:ss) : 00:00:01", "=" * 63]
    item = {"branch": "logs", "tool": "get_job_logs", "args": {}, "data": {"log": "\n".join(stdlist)}}
    [kept] = rank([item], "troubleshoot", "why did BACKUP_DB_PROD fail", 3000)[0]
    assert "64: AWSSIM0120E The job could not be launched" in kept["data"]["log"]
    assert "63: copying block 59" in kept["data"]["log"] and "copying block 10" not in kept["data"]["log"]


# ------------------------------------------------------------------ the whole graph
CASES = [
    ("why did PAYROLL_NIGHTLY fail?", "troubleshoot", "en", ["file not found", "[log PAYROLL_NIGHTLY run"]),
    (
        "por que o PAYROLL_NIGHTLY falhou?",
        "troubleshoot",
        "pt",
        ["código de retorno 12", "Causa provável: entrada ausente", "Próximo passo"],
    ),
    (  # advice by cause: a deadlock is not "fix the cause first"
        "why did BILLING_INVOICE_GEN fail?",
        "troubleshoot",
        "en",
        ["Likely cause: database / lock", "rerun once the competing job has finished", "[incident"],
    ),
    ("why did BACKUP_DB_PROD fail?", "troubleshoot", "en", ["it never started (launch failed at", "not launched"]),
    ("what is the status of BILLING_INVOICE_GEN?", "status", "en", ["is ABEND, return code 8"]),
    ("qual o status do BILLING_INVOICE_GEN?", "status", "pt", ["está em ABEND"]),
    ("is ETL_SALES_LOAD_DW still running?", "status", "en", ["is EXEC", "A long runner: running for", "usually takes"]),
    ("which jobs failed in the last 24 hours?", "failed_jobs", "en", ["failed in the last 24 hours", "BACKUP_DB_PROD"]),
    ("quais jobs falharam nas últimas 24 horas?", "failed_jobs", "pt", ["falharam nas últimas 24 horas"]),
    (  # facts from runs: yesterday's failures that a rerun fixed count too, each with what happened next
        "which jobs failed in the last 48 hours?",
        "failed_jobs",
        "en",
        ["PAYROLL_NIGHTLY", "→ recovered by a rerun at", "still failed now", "→ still failed"],
    ),
    ("show me the log of PAYROLL_NIGHTLY", "logs", "en", ["= Exit Status : 12"]),
    ("mostra o log do PAYROLL_NIGHTLY", "logs", "pt", ["= JOB       : AGT1#PAYROLL_DAILY"]),
    ("what does PAYROLL_NIGHTLY depend on?", "dependencies", "en", ["Waiting for it:", "PAYROLL_EXTRACT"]),
    ("quais jobs dependem do PAYROLL_NIGHTLY?", "dependencies", "pt", ["Esperando por ele:"]),
    ("how is the system doing?", "health", "en", ["unlinked workstations: AGT4"]),
    ("como está o ambiente?", "health", "pt", ["estações desconectadas: AGT4"]),
    (
        "how do I know if a workstation is unlinked and jobs wait in READY?",
        "howto",
        "en",
        ["From the runbooks", "[runbook"],
    ),
    ("quando não devo reexecutar um job?", "howto", "pt", ["Segundo os runbooks", "reexecucao-e-dependencias.md"]),
    ("hello", "other", "en", ["I am Resync"]),
    ("oi, tudo bem?", "other", "pt", ["Sou o Resync"]),
    ("how long does PAYROLL_NIGHTLY usually take?", "history", "en", ["PAYROLL_NIGHTLY:", "usual duration"]),
    ("quais jobs críticos estão atrasados?", "sla", "pt", ["crítico"]),
    ("whats blocking the billing stream", "stream", "en", ["BILLING_INVOICE_GEN"]),
    ("status of GL_TRIAL_BALANCE", "status", "en", ["is PEND", "waits for an operator to confirm it"]),
    ("AGT4 ta fora?", "health", "pt", ["estações desconectadas: AGT4"]),
    ("status do ARCHIVE_LOGS", "status", "pt", ["ARCHIVE_LOGS", "está em"]),
]


async def test_rerun_the_failed_jobs_of_a_stream_asks_approval_for_each(read_svc: Parts) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    out = await ask(graph, read_svc, "rerun the failed jobs of stream PAYROLL_DAILY")
    pending = out["__interrupt__"][0].value
    assert pending["action_requests"][0] == {
        "name": "rerun_job",
        "args": {  # the card shows the state the requester saw and what the action does downstream
            "job_name": "PAYROLL_NIGHTLY",
            "state_seen": "ABEND rc 12",
            "consequence": "A new run of the job with the same dependencies; if its last run ended SUCC, its work is"
            " done twice.",
        },
        "description": pending["action_requests"][0]["description"],
    }
    assert pending["target"]["job"].endswith("PAYROLL_DAILY.PAYROLL_NIGHTLY")
    assert "work is done twice" in pending["action_requests"][0]["description"]


async def test_yesterdays_log_is_yesterdays_run(read_svc: Parts) -> None:
    import re
    from datetime import date

    graph = build_graph().compile(checkpointer=InMemorySaver())
    today = await ask(graph, read_svc, "show me the log of PAYROLL_NIGHTLY")
    yesterday = await ask(graph, read_svc, "show me yesterday's log of PAYROLL_NIGHTLY")

    def scheduled(answer: str) -> date:
        found = re.search(r"Log of PAYROLL_NIGHTLY, run \S+ \(scheduled (\d{4}-\d{2}-\d{2})", answer)
        assert found, answer
        return date.fromisoformat(found.group(1))

    assert (scheduled(today["answer"]) - scheduled(yesterday["answer"])).days == 1


def test_a_stream_written_as_a_word_is_resolved_only_when_it_is_one() -> None:
    known = KnownNames(["PAYROLL_NIGHTLY"], ["BILLING_DAILY", "BILLING_001", "PAYROLL_DAILY"], ["AGT1"])
    payroll = classify("o stream da folha ta parado por quê?", known)
    assert payroll.entities.job_streams == ["PAYROLL_DAILY"]
    assert payroll.entities.inferred == {"stream da folha": "PAYROLL_DAILY"}
    billing = classify("whats blocking the billing stream", known)  # two billing streams: no guess
    assert billing.query_type == "stream" and billing.entities.job_streams == [] and not billing.entities.inferred


WHAT_IF = [  # TWS semantics: a cancel releases the successors (they run without its output); a kill does not
    (
        "o que acontece se eu cancelar o ETL_SALES_LOAD_DW?",
        "pt",
        ["Nada foi alterado", "cancelar ETL_SALES_LOAD_DW", "sucessores são liberados"],
        ["bloqueia"],
    ),
    (
        "can I just cancel BILLING_INVOICE_GEN so the CRM sync can start?",
        "en",
        ["Nothing was changed", "successors are released at once", "without its"],
        ["It blocks"],
    ),
    ("what would happen if I killed ETL_SALES_LOAD_DW?", "en", ["Nothing was changed", "NOT released"], []),
]


@pytest.mark.parametrize(("text", "language", "expected", "wrong"), WHAT_IF, ids=[c[0] for c in WHAT_IF])
async def test_a_question_about_an_action_explains_and_never_acts(
    read_svc: Parts, text: str, language: str, expected: list[str], wrong: list[str]
) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    out = await ask(graph, read_svc, text, role="admin")
    assert out["query_type"] == "impact" and out["language"] == language
    assert not out.get("__interrupt__") and not out.get("tool_calls")  # no write tool was even called
    for fragment in expected:
        assert fragment in out["answer"], (fragment, out["answer"])
    for fragment in wrong:
        assert fragment not in out["answer"], (fragment, out["answer"])


IMPERATIVES = [
    ("cancele o ETL_SALES_LOAD_DW", "cancel_job", "Proposta: cancelar"),
    ("segure o CRM_NOTIFY", "hold_job", "Proposta: segurar"),
    ("mate o ETL_SALES_LOAD_DW", "kill_job", "Proposta: matar"),
    ("libere as dependências do CRM_SYNC_ACCOUNTS", "release_job_dependencies", "Proposta: liberar as dependências"),
]


@pytest.mark.parametrize(("text", "tool", "said"), IMPERATIVES, ids=[c[0] for c in IMPERATIVES])
async def test_portuguese_imperatives_ask_for_approval(read_svc: Parts, text: str, tool: str, said: str) -> None:
    from server.chat import waiting_text

    graph = build_graph().compile(checkpointer=InMemorySaver())
    out = await ask(graph, read_svc, text)
    assert out["query_type"] == "action" and out["language"] == "pt"
    pending = out["__interrupt__"][0].value
    assert pending["action_requests"][0]["name"] == tool
    assert waiting_text(pending, "pt").startswith(said)


async def test_an_inferred_name_is_said_and_never_acted_on(read_svc: Parts) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    out = await ask(graph, read_svc, "reexecute o PAYROLL_NIGHTLYY")
    assert not out.get("__interrupt__") and not out.get("tool_calls")
    assert "PAYROLL_NIGHTLYY não existe no plano; o mais próximo é PAYROLL_NIGHTLY" in out["answer"]
    read = await ask(graph, read_svc, "status of PAYROL_NIGHTLY")
    assert read["answer"].startswith("(I read PAYROL_NIGHTLY as PAYROLL_NIGHTLY.)") and "is ABEND" in read["answer"]
    unknown = await ask(graph, read_svc, "cancel ZZZ_NOT_A_JOB")
    assert not unknown.get("__interrupt__") and "no job named ZZZ_NOT_A_JOB in the plan" in unknown["answer"]


@pytest.mark.parametrize(("text", "query_type", "language", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_every_query_type_in_both_languages(
    read_svc: Parts, text: str, query_type: str, language: str, expected: list[str]
) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    out = await ask(graph, read_svc, text)
    assert out["query_type"] == query_type and out["language"] == language
    for fragment in expected:
        assert fragment in out["answer"], (fragment, out["answer"])
    assert isinstance(out["messages"][-1], AIMessage) and out["messages"][-1].content == out["answer"]
    if query_type not in {"other"}:
        assert out["sources"]
    assert not out["errors"]


async def test_partial_results_when_a_branch_times_out(svc: Parts, fresh_now_sim: LiveServer) -> None:
    httpx.put(
        f"{fresh_now_sim.url}/admin/faults",
        json={"rules": [{"path_prefix": "/twsd/api/v2/plan/job/run/", "hang": True}]},
    )
    graph = build_graph().compile(checkpointer=InMemorySaver())
    out = await ask(graph, svc, "why did PAYROLL_NIGHTLY fail?", branch_timeout_seconds=0.5)
    assert [e["branch"] for e in out["errors"]] == ["logs"] and "timed out" in out["errors"][0]["error"]
    assert "is ABEND, return code 12" in out["answer"] and "Partial answer: could not get logs" in out["answer"]


async def test_follow_up_resolves_from_the_thread(svc: Parts) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    first = await ask(graph, svc, "why did PAYROLL_NIGHTLY fail?", thread="t-follow")
    assert first["entities"]["jobs"] == ["PAYROLL_NIGHTLY"]
    second = await ask(graph, svc, "e as dependências dele?", thread="t-follow")
    assert second["query_type"] == "dependencies" and second["entities"]["jobs"] == ["PAYROLL_NIGHTLY"]
    assert second["language"] == "pt" and "Esperando por ele" in second["answer"]
    humans = [m for m in second["messages"] if isinstance(m, HumanMessage)]
    assert len(humans) == 2  # the thread remembers both turns


async def test_action_pauses_for_approval_and_resumes(svc: Parts, fresh_now_sim: LiveServer) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t-action"}}
    context = Context(role="operator", caller="ana", parts=svc)
    first = await graph.ainvoke({"messages": [HumanMessage("reexecuta o PAYROLL_NIGHTLY")]}, config, context=context)
    request = first["__interrupt__"][0].value
    assert request["action_requests"][0]["name"] == "rerun_job"
    assert request["review_configs"][0]["allowed_decisions"] == ["approve", "reject"]
    assert svc.approvals is not None
    await svc.approvals.approve(request["approval_id"], "supervisor", "arquivo reenviado pelo RH", ticket="INC-77")
    done = await graph.ainvoke(Command(resume={"decisions": [{"type": "approve"}]}), config, context=context)
    assert "Feito: rerun AGT1#PAYROLL_DAILY.PAYROLL_NIGHTLY" in done["answer"]
    assert done["tool_calls"][0]["outcome"] == "ok"
    audit = httpx.get(f"{fresh_now_sim.url}/admin/audit").json()
    assert audit[-1]["action"] == "rerun" and audit[-1]["headers"]["Justification-Ticket-Num"] == "INC-77"


async def test_viewer_cannot_act(svc: Parts) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    out = await ask(graph, svc, "rerun PAYROLL_NIGHTLY", role="viewer")
    assert "__interrupt__" not in out and "Your role (viewer) cannot change the scheduler" in out["answer"]
    assert await svc.approvals.list() == []  # type: ignore[union-attr]


async def test_custom_stream_events_carry_metadata_and_tool_calls(svc: Parts) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t-stream"}}
    events, tokens = [], []
    async for mode, chunk in graph.astream(
        {"messages": [HumanMessage("rerun PAYROLL_NIGHTLY")]},
        config,
        stream_mode=["custom", "messages"],
        context=Context(role="operator", parts=svc),
    ):
        if mode == "custom":
            events.append(chunk)
        elif chunk[1].get("langgraph_node") == "draft":
            tokens.append(chunk[0].content)
    assert events[0]["event"] == "metadata" and events[0]["query_type"] == "action"
    assert events[0]["entities"]["jobs"] == ["PAYROLL_NIGHTLY"]
    assert {
        "event": "tool_call",
        "name": "rerun_job",
        "args": {"job_name": "PAYROLL_NIGHTLY"},
        "status": "started",
    } in events


async def test_threads_survive_a_restart_with_the_postgres_saver(svc: Parts, pool: Any) -> None:
    saver = AsyncPostgresSaver(pool)
    await saver.setup()
    first = build_graph().compile(checkpointer=saver)
    await ask(first, svc, "why did PAYROLL_NIGHTLY fail?", thread="t-pg")
    restarted = build_graph().compile(checkpointer=AsyncPostgresSaver(pool))  # a new process would do this
    second = await ask(restarted, svc, "e as dependências dele?", thread="t-pg")
    assert second["entities"]["jobs"] == ["PAYROLL_NIGHTLY"] and second["query_type"] == "dependencies"


async def test_token_use_is_recorded_and_labelled(svc: Parts) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "t-tokens"}}
    await graph.ainvoke(
        {"messages": [HumanMessage("why did PAYROLL_NIGHTLY fail?")]}, config, context=Context(parts=svc)
    )
    state = (await graph.aget_state(config)).values
    assert state["usage"] and all(u["input_tokens"] > 0 for u in state["usage"])
    assert state["tokens_before"] >= state["tokens_after"] > 0
    assert state["messages"][-1].response_metadata["token_usage_estimated"] is True


async def test_orchestrator_and_processor(svc: Parts, fresh_now_sim: LiveServer) -> None:
    orchestrator = ServiceOrchestrator(svc.client, svc.kg, max_retries=1, timeout_seconds=5, incidents=svc.incidents)
    report = await orchestrator.investigate_job_failure("PAYROLL_NIGHTLY")
    assert report["status"] == "success" and report["success_rate"] == 1.0
    assert set(report["data"]) == {"tws_status", "kg_context", "logs", "dependencies", "historical_failures"}
    assert report["data"]["tws_status"]["jobs"][0]["status"] == "ABEND"
    httpx.put(
        f"{fresh_now_sim.url}/admin/faults",
        json={"rules": [{"path_prefix": "/twsd/api/v2/plan/job/run/", "error_rate": 1.0}]},
    )
    partial = await orchestrator.investigate_job_failure("PAYROLL_NIGHTLY", include_dependencies=False)
    assert partial["status"] == "partial" and partial["data"]["logs"] is None and partial["success_rate"] < 1
    assert partial["data"]["dependencies"] is None and [e["key"] for e in partial["errors"]] == ["logs"]
    health = await orchestrator.get_system_health()
    assert health["status"] == "DEGRADED" and set(health["details"]) == {"engine", "critical_jobs", "failed_jobs"}
    processor = QueryProcessor(svc.chat_model, svc.kg)
    structured = await processor.process_query("por que o payroll nightly falhou?")
    assert structured["query_type"] == "troubleshoot" and structured["entities"]["jobs"] == ["PAYROLL_NIGHTLY"]
    assert structured["intent"] == "troubleshoot: PAYROLL_NIGHTLY" and structured["ranked_context"]
    messages = processor.format_for_llm(structured)
    assert "Responda em português" in str(messages[0].content) and "JOB AGT1#PAYROLL_DAILY" in str(messages[0].content)


PASTED = """o que é isso?
===============================================================
= JOB       : AGT2#FIN_DAILY[(0200 12/05/26),(0AAAAAAAAAABC1)].GL_POST
= USER      : batchusr
= JCLFILE   : /opt/batch/fin/gl_post.sh
===============================================================
Tivoli Workload Scheduler (UNIX)/JOBMANRC 10.1
INFO config: retries=3 timeout=30s
ORA-01017: invalid username/password; logon denied
rm: cannot remove '/tmp/gl.lck': No such file or directory
===============================================================
= Exit Status : 1
"""


async def test_a_pasted_log_is_read_in_the_users_language(read_svc: Parts) -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    out = await ask(graph, read_svc, PASTED)
    assert out["query_type"] == "diagnose" and out["language"] == "pt"
    answer = out["answer"]
    assert "A linha decisiva é a 9" in answer and "ORA-01017" in answer, answer
    assert "permissão" in answer and "Reexecutar sem corrigir falha" in answer
    english = await ask(graph, read_svc, PASTED.replace("o que é isso?", "what is this?"))
    assert english["language"] == "en" and "The decisive line is line 9" in english["answer"]


@pytest.mark.fast
def test_a_follow_up_takes_what_it_leaves_out_from_the_thread() -> None:
    from graph.classifier.follow_up import carry

    known = KnownNames(jobs=["BILLING_EXTRACT", "GL_TRIAL_BALANCE", "ETL_SALES_LOAD_DW"])

    def follow(text: str, previous: dict[str, Any]) -> tuple[str, list[str], dict[str, str]]:
        first = classify(text, known)
        kind, entities = carry(text, first.entities, first.query_type.value, previous, known, first.confidence)
        return kind, entities.jobs, entities.inferred

    history = {"entities": {"jobs": ["BILLING_EXTRACT"]}, "query_type": "history", "answer": ""}
    assert follow("and GL_TRIAL_BALANCE?", history)[:2] == ("history", ["GL_TRIAL_BALANCE"])
    assert follow("e o status do GL_TRIAL_BALANCE?", history)[0] == "status"  # it says its own question
    listed = {"entities": {}, "query_type": "long_runners", "answer": "- ETL_SALES_LOAD_DW (MASTER#ETL) is EXEC"}
    kind, jobs, inferred = follow("kill it", listed)
    assert (kind, jobs, inferred) == ("action", ["ETL_SALES_LOAD_DW"], {"it": "ETL_SALES_LOAD_DW"})
    assert follow("has it done this before?", history)[:2] == ("history", ["BILLING_EXTRACT"])


@pytest.mark.fast
def test_a_follow_up_with_a_target_of_its_own_keeps_it() -> None:
    """ "kill the long runners", "what about AGT3?", "and ORA-01555?" after a question about a job
    are not about that job: a write never lands on a subject the operator did not name."""
    from graph.classifier.follow_up import carry

    known = KnownNames(jobs=["PAYROLL_NIGHTLY"], workstations=["AGT3"])
    before = {"entities": {"jobs": ["PAYROLL_NIGHTLY"]}, "query_type": "status", "answer": "PAYROLL_NIGHTLY is ABEND"}
    for text in ("kill the long runners", "cancel the stuck ones", "mata os que estão travados", "what about AGT3?"):
        first = classify(text, known)
        _, entities = carry(text, first.entities, first.query_type.value, before, known, first.confidence)
        assert entities.jobs == [], text
    first = classify("and ORA-01555?", known)
    kind, entities = carry("and ORA-01555?", first.entities, first.query_type.value, before, known, first.confidence)
    assert kind == "message" and entities.jobs == []
    first = classify("rerun it", known)  # the job the conversation is about: the approval card names it
    kind, entities = carry("rerun it", first.entities, first.query_type.value, before, known, first.confidence)
    assert (kind, entities.jobs, entities.inferred) == ("action", ["PAYROLL_NIGHTLY"], {})
