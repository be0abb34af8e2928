"""Every model failure is an answer: ChatOpenAI against a scripted OpenAI-compatible server that
fails in each way real servers do; the turn ends with the answer composed from the gathered facts
(exactly the offline model's, opening with one line that says the model did not answer), within the
turn's model budget, counted by kind. Real parts: simulator, embedded PostgreSQL, Redis."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.context import Context
from graph.graph import build_graph
from graph.models.factory import make_chat_model
from graph.models.guard import MODEL_FAILURES
from graph.models.offline import OfflineChatModel
from tests.graphing import services_on_a_new_database
from tests.live import LiveServer
from tests.model_server import Script, model_app
from tools.context import Parts

pytestmark = pytest.mark.fast
WHY = "why did PAYROLL_NIGHTLY fail?"  # answered by its reads: the draft is the only model call
DECIDE = "is PAYROLL_NIGHTLY going to miss its deadline?"  # the agent decides which tools to call


@pytest.fixture(scope="module")
def script() -> Script:
    return Script()


@pytest.fixture(scope="module")
def model_server(script: Script) -> Iterator[LiveServer]:
    with LiveServer(model_app(script)) as server:
        yield server


@pytest.fixture(scope="module")
async def base(sim: LiveServer, embedded_pg: str, session_redis: Any) -> AsyncIterator[Parts]:
    async with services_on_a_new_database(sim.url, embedded_pg, session_redis.url) as svc:
        yield svc


@pytest.fixture
def parts(base: Parts, model_server: LiveServer, script: Script) -> Parts:
    script.steps.clear()
    script.seen.clear()
    model = make_chat_model("stub-model", base_url=f"{model_server.url}/v1", api_key="test-key", timeout=30)
    return replace(base, chat_model=model, model_budget_seconds=10.0)


async def turn(parts: Parts, text: str, role: str = "viewer") -> tuple[dict[str, Any], list[str]]:
    """One turn streamed as the server streams it: the final state and the event names seen."""
    graph = build_graph().compile(checkpointer=InMemorySaver())
    values: dict[str, Any] = {}
    seen: list[str] = []
    async for mode, chunk in graph.astream(
        {"messages": [HumanMessage(text)]},
        {"configurable": {"thread_id": f"t-{time.monotonic_ns()}"}},
        stream_mode=["messages", "custom", "values"],
        context=Context(role=role, parts=parts),
    ):
        if mode == "values":
            values = chunk
        elif mode == "custom":
            seen.append(chunk.get("event", "?"))
        elif mode == "messages" and chunk[1].get("langgraph_node") == "draft" and chunk[0].content:
            seen.append("token")
    return values, seen


async def offline_answer(parts: Parts, text: str) -> str:
    values, _ = await turn(replace(parts, chat_model=OfflineChatModel()), text)
    return str(values["answer"])


def failures(kind: str, phase: str) -> float:
    return MODEL_FAILURES.labels(kind, phase)._value.get()


@pytest.mark.parametrize(
    ("steps", "kind", "requests"),
    [
        (["500", "500"], "server_error", 2),  # retried once
        (["429:0", "429:0"], "rate_limited", 2),
        (["429:600"], "rate_limited", 1),  # its Retry-After is beyond the budget: not waited for
        (["malformed"], "malformed", 1),
        (["cut"], "cut_stream", 1),
        (["empty"], "empty", 1),
        (["refusal"], "refusal", 1),
        (["echo"], "echo", 1),
    ],
)
async def test_a_failed_draft_is_answered_from_the_gathered_facts(
    parts: Parts, script: Script, steps: list[str], kind: str, requests: int
) -> None:
    expected = await offline_answer(parts, WHY)
    before = failures(kind, "draft")
    script.steps.extend(steps)
    started = time.monotonic()
    values, events = await turn(parts, WHY)
    assert time.monotonic() - started < 8
    assert values["model_failure"]["kind"] == kind and len(script.seen) == requests
    note = values["answer"].split("\n\n", 1)
    assert note[0].startswith("(The language model did not answer:") and note[1] == expected
    assert "PAYROLL_NIGHTLY" in expected and "ABEND" in expected
    assert failures(kind, "draft") == before + 1
    if kind in {"cut_stream", "echo", "refusal"}:  # it had streamed text that is not the answer
        assert "reset" in events and events.index("reset") < len(events) - 1 and events[-1] == "token"


async def test_the_answer_is_in_the_users_language(parts: Parts, script: Script) -> None:
    script.steps.extend(["500", "500"])
    values, _ = await turn(parts, "por que o PAYROLL_NIGHTLY falhou?")
    assert values["answer"].startswith("(O modelo de linguagem não respondeu: falhou (HTTP 500).")


async def test_a_busy_server_is_retried_once_after_its_retry_after(parts: Parts, script: Script) -> None:
    script.steps.extend(["429:0.3"])
    started = time.monotonic()
    values, _ = await turn(parts, WHY)
    assert time.monotonic() - started >= 0.3 and len(script.seen) == 2
    assert values["model_failure"] is None
    assert values["answer"].strip() == "Stub model: PAYROLL_NIGHTLY is ABEND [log PAYROLL_NIGHTLY]."


async def test_the_budget_is_for_the_whole_turn(parts: Parts, script: Script) -> None:
    script.slow_seconds = 2.5
    script.steps.extend(["slow"])
    started = time.monotonic()
    values, _ = await turn(replace(parts, model_budget_seconds=1.0), DECIDE)
    elapsed = time.monotonic() - started
    assert values["model_failure"]["kind"] == "timeout" and elapsed < 2.5, elapsed
    assert len(script.seen) == 1  # the agent's call spent the budget: the draft did not call again
    assert values["answer"].startswith("(The language model did not answer: it did not reply in time.")


async def test_an_unreachable_server_is_answered(parts: Parts) -> None:
    dead = make_chat_model("stub-model", base_url="http://127.0.0.1:9/v1", api_key="x")
    values, _ = await turn(replace(parts, chat_model=dead), WHY)
    assert values["model_failure"]["kind"] == "unreachable"
    assert "could not be reached" in values["answer"] and "PAYROLL_NIGHTLY" in values["answer"]


async def test_unparseable_tool_arguments_go_back_to_the_model_once(parts: Parts, script: Script) -> None:
    script.steps.extend(["bad_args"])  # then a good agent reply and a good draft
    values, _ = await turn(parts, DECIDE)
    assert len(script.seen) == 3 and "tools" not in script.seen[2]  # agent, agent again, draft
    told = [m for m in script.seen[1]["messages"] if m["role"] == "tool"]
    assert told and "not valid JSON" in told[0]["content"]
    assert values["model_failure"] is None and values["answer"].startswith("Stub model:")


async def test_a_model_that_keeps_calling_wrongly_is_stopped_and_the_user_answered(
    parts: Parts, script: Script
) -> None:
    script.steps.extend(["bad_args", "bad_args"])
    values, _ = await turn(parts, DECIDE)
    calls = [body for body in script.seen if body.get("tools")]
    assert len(calls) == 2 and len(script.seen) == 3  # one correction, then the draft
    assert values["answer"].startswith("Stub model:")


async def test_a_question_is_not_an_order_even_when_the_model_calls_a_write(parts: Parts, script: Script) -> None:
    script.steps.extend(["write_tool"])
    values, _ = await turn(parts, DECIDE, role="operator")
    wrote = [c for c in values["tool_calls"] if c["name"] == "cancel_job"]
    assert wrote and wrote[0]["outcome"] == "invalid" and "not for a change" in wrote[0]["error"]
    assert not any("__interrupt__" in k for k in values) and values["answer"].startswith("Stub model:")
    assert parts.approvals is not None
    pending = await parts.approvals.list(status="pending")
    assert not [a for a in pending if "PAYROLL_NIGHTLY" in a.description and a.action == "cancel"]
    told = [m for m in script.seen[1]["messages"] if m["role"] == "tool"]
    assert told and "not for a change" in told[0]["content"]


async def test_a_failed_agent_step_is_not_retried_by_the_draft(parts: Parts, script: Script) -> None:
    script.steps.extend(["500", "500"])
    values, _ = await turn(parts, DECIDE)
    assert len(script.seen) == 2 and values["model_failure"]["kind"] == "server_error"
    assert not [m for m in values["messages"] if isinstance(m, ToolMessage)]
    assert values["answer"].startswith("(The language model did not answer: it failed (HTTP 500).")


@pytest.mark.parametrize("steps", [["500", "500"], []], ids=["model-failed", "model-proposed-nothing"])
async def test_an_action_request_is_proposed_when_the_model_does_not(
    parts: Parts, script: Script, steps: list[str]
) -> None:
    """ "rerun X": the understood request becomes a proposal waiting for approval even when the model
    fails or lets it pass — never executed without the approval."""
    script.steps.extend(steps)
    values, _ = await turn(parts, "rerun PAYROLL_NIGHTLY", role="operator")
    interrupts = values.get("__interrupt__") or ()
    assert interrupts, values.get("answer")
    request = interrupts[0].value
    assert request["action"] == "rerun" and request["target"]["job"].endswith(".PAYROLL_NIGHTLY")
    assert parts.approvals is not None
    approval = await parts.approvals.get(request["approval_id"])
    assert approval is not None and approval.status == "pending"


async def test_an_answer_given_at_the_tool_step_is_not_asked_for_twice(parts: Parts, script: Script) -> None:
    script.steps.extend(["ok", "agent_text"])  # a status read, then an answer in words
    values, events = await turn(parts, DECIDE)
    assert len(script.seen) == 2 and all(body.get("tools") for body in script.seen)  # no draft call
    assert values["answer"].strip() == "PAYROLL_NIGHTLY ended ABEND; its deadline is at risk [log PAYROLL_NIGHTLY]."
    assert "token" in events  # still streamed to the client
