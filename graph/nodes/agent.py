"""agent (the chat model with the caller's role-filtered tools bound) and tools (calls through the
registry; write tools pause for approval inside ``catalog.execute``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.config import get_config, get_stream_writer
from langgraph.runtime import Runtime

from tools.registry import ToolResult

from ..capabilities import REGISTRY
from ..context import Context, identity
from ..facts import RunFacts, system_text
from ..models.guard import ModelUnavailable, ask, from_a_server, unusable
from ..models.offline import OfflineChatModel
from ..prompts import system_prompt
from ..state import State


def run_facts(state: State, phase: str, style: str = "full", **notes: Any) -> RunFacts:
    facts = RunFacts(
        phase=phase,
        query=state.get("query", ""),
        query_type=state.get("query_type", "other"),
        language=state.get("language", "en"),
        entities=state.get("entities") or {},
        errors=state.get("errors") or [],
        tool_results=state.get("tool_calls") or [],
    )
    if notes.get("denied"):
        facts["denied"] = notes["denied"]
    if notes.get("missing_job"):
        facts["missing_job"] = notes["missing_job"]
    if notes.get("model_failure"):
        facts["model_failure"] = notes["model_failure"]
    if style != "full":
        facts["style"] = style
    facts["now"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return facts


def prompt_messages(state: State, context: Context, phase: str, **notes: Any) -> list[BaseMessage]:
    """Everything the model needs is in this text: prompt, context items, facts and notes."""
    lang = state.get("language", "en")
    prompt = system_prompt(context.prompt_version, lang, state.get("query_type", "other"))
    facts = run_facts(state, phase, context.answer_style, **notes)
    text = system_text(prompt, facts, state.get("ranked_context") or [])
    return [SystemMessage(content=text), *history(state), *this_turn(state)]


HISTORY_TURNS = 3  # earlier question/answer pairs a model sees (bounded: the context carries the facts)


def history(state: State) -> list[BaseMessage]:
    """The last few earlier questions and answers of the thread (no tool traffic), oldest first."""
    messages = state.get("messages", [])
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=0)
    earlier: list[BaseMessage] = [
        m
        for m in messages[:start]
        if isinstance(m, HumanMessage) or (isinstance(m, AIMessage) and m.content and not m.tool_calls)
    ]
    return earlier[-2 * HISTORY_TURNS :]


def this_turn(state: State) -> list[BaseMessage]:
    """The current question and the tool exchanges after it (earlier turns live in the context)."""
    messages = state.get("messages", [])
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=0)
    return list(messages[start:])


async def agent_node(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Decide the tool calls; a reply without tool calls is dropped (the draft writes the answer).
    Calls whose arguments cannot be parsed go back to the model once, as errors; after that only the
    usable ones run. A model that gives no usable reply ends the tool rounds (the draft answers)."""
    context = runtime.context
    rounds = state.get("tool_rounds", 0)
    if rounds >= context.max_tool_rounds or state.get("corrections", 0) > 1 or state.get("model_failure"):
        return {"correcting": False}
    parts = await context.get_parts()
    tools = parts.catalog.tool_schemas(identity(context).role)
    model = parts.model().bind_tools(tools).with_config(tags=["nostream"])
    spent = state.get("model_seconds", 0.0)
    started = time.monotonic()
    update: dict[str, Any] = {"tool_rounds": rounds + 1, "correcting": False}
    messages = prompt_messages(state, context, "agent")
    try:
        reply = await ask(model, messages, budget_seconds=parts.model_budget_seconds - spent, phase="agent")
    except ModelUnavailable as exc:
        update |= {"model_failure": exc.failure.as_dict(), "model_seconds": spent + time.monotonic() - started}
        proposed = await rules_proposal(state, messages, tools, parts.catalog.is_write)  # still proposed
        return {**update, "messages": [proposed] if proposed and proposed.tool_calls else []}
    update["model_seconds"] = spent + time.monotonic() - started
    if not reply.tool_calls and not reply.invalid_tool_calls:  # a request for an action the model let pass
        reply = await rules_proposal(state, messages, tools, parts.catalog.is_write) or reply
    update["usage"] = [dict(reply.usage_metadata)] if reply.usage_metadata else []
    if reply.invalid_tool_calls:
        corrections = state.get("corrections", 0) + 1
        update["corrections"] = corrections
        if corrections == 1:  # once: the model sees why and may call again
            return {**update, "messages": [reply, *unparseable(reply)], "correcting": True}
        reply = reply.model_copy(update={"invalid_tool_calls": []})  # again: only the usable calls run
    if reply.tool_calls:
        return {**update, "messages": [reply]}
    if unusable(reply, messages, from_server=from_a_server(model), an_answer=True) is None:
        update["drafted"] = reply.text  # an answer from the same prompt and facts: the draft keeps it
    return update


async def rules_proposal(
    state: State, messages: list[BaseMessage], tools: list[dict[str, Any]], is_write: Callable[[str], bool]
) -> AIMessage | None:
    """The write the understanding read in the request ("rerun PAYROLL_NIGHTLY"), when the model
    proposed none (or failed): the offline model's choice from the same text (the question, without
    the model's reads) — exact names only, once per turn, and only a proposal: it waits for approval
    like any other."""
    if state.get("query_type") != "action" or any(is_write(c["name"]) for c in state.get("tool_calls") or []):
        return None
    asked = [m for m in messages if not isinstance(m, ToolMessage) and not (isinstance(m, AIMessage) and m.tool_calls)]
    decided = await OfflineChatModel().bind_tools(tools).ainvoke(asked)
    return decided if isinstance(decided, AIMessage) and decided.tool_calls else None


def unparseable(reply: AIMessage) -> list[ToolMessage]:
    """The answer to each call whose arguments were not valid JSON (every call id needs one)."""
    return [
        ToolMessage(
            content=f"Error: the arguments of {call.get('name')} are not valid JSON"
            f" ({call.get('error') or 'unparseable'}). Call the tool again with JSON arguments that match"
            " its schema, or answer without it.",
            tool_call_id=call.get("id") or "",
            name=call.get("name") or "",
            status="error",
        )
        for call in reply.invalid_tool_calls
    ]


def route_after_rank(state: State) -> str:
    """Straight to the draft when the reads planned for this kind of question all came back and the
    question was understood with confidence; the agent (and its tools) otherwise: actions, unclear
    questions, kinds the plan covers only in part, or a branch that failed."""
    entities = state.get("entities") or {}
    query_type = state.get("query_type")
    capability = REGISTRY.get(str(query_type))
    about_a_job = bool(capability and capability.about_a_job)
    settled = (
        bool(capability and capability.settles)  # its reads are the whole answer: one model call (the draft)
        and state.get("confidence", 0.0) >= 0.5
        and bool(state.get("gathered"))
        and not state.get("errors")
        and not entities.get("action")  # "why did X fail and restart it": the order needs the agent
        and (not about_a_job or bool(entities.get("jobs")))  # no job found: the agent looks
    )
    return "draft" if settled else "agent"


def route_after_agent(state: State) -> str:
    if state.get("correcting"):
        return "agent"
    last = state["messages"][-1]
    if isinstance(last, AIMessage) and last.tool_calls:
        return "tools"
    return "draft"


async def tools_node(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    context = runtime.context
    parts = await context.get_parts()
    last = state["messages"][-1]
    assert isinstance(last, AIMessage)
    writer = get_stream_writer()
    config = get_config()
    thread_id = (config.get("configurable") or {}).get("thread_id")
    task = (config.get("metadata") or {}).get("langgraph_checkpoint_ns")  # stable when the task resumes
    who = identity(context)
    messages, calls = [], []
    for index, call in enumerate(last.tool_calls):
        ctx = parts.for_caller(who.caller, who.role, thread_id, call["id"], scope=f"{task}#{index}", memo=context.memo)
        writer({"event": "tool_call", "name": call["name"], "args": call["args"], "status": "started"})
        if parts.catalog.is_write(call["name"]) and state.get("query_type") != "action":
            result = ToolResult(call["name"], "invalid", error=NOT_ASKED)  # a question is not an order
        else:
            result = await parts.catalog.execute(call["name"], call["args"], ctx)
        writer(
            {
                "event": "tool_call",
                "name": call["name"],
                "args": call["args"],
                "status": result.outcome,
                "approval_id": result.approval_id,
            }
        )
        messages.append(
            ToolMessage(
                content=result.for_model(),
                tool_call_id=call["id"],
                name=call["name"],
                status="success" if result.ok else "error",
            )
        )
        calls.append(
            {
                "name": call["name"],
                "args": call["args"],
                "outcome": result.outcome,
                "data": result.data,
                "error": result.error,
                "approval_id": result.approval_id,
            }
        )
    wrong = any(c["outcome"] == "invalid" for c in calls)  # a wrong tool, or wrong arguments
    return {"messages": messages, "tool_calls": calls, "corrections": state.get("corrections", 0) + int(wrong)}


NOT_ASKED = (
    "not done: the user asked a question, not for a change. Answer the question; a change is proposed only"
    " when the user asks for it."
)
