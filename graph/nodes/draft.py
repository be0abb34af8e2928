"""draft: the final answer with the query type's prompt, in the user's language, with sources."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

from ..context import Context, identity
from ..models.guard import ModelUnavailable, ask
from ..models.offline import OfflineChatModel
from ..state import State
from .agent import prompt_messages


def sources(state: State) -> list[str]:
    out = []
    for item in state.get("ranked_context") or []:
        data = item.get("data") or {}
        if item["branch"] == "logs":
            out.append(f"log {data.get('job')} run {data.get('run_id')}")
        elif item["branch"] == "knowledge":
            out.extend(f"runbook {p['source']}" for p in data.get("passages", [])[:2])
        elif item["branch"] == "incidents":
            out.extend(f"incident {i['run_id']}" for i in data.get("incidents", [])[:3])
        else:
            out.append(f"{item['tool']}({', '.join(f'{k}={v}' for k, v in item['args'].items())})")
    return list(dict.fromkeys(out))


def action_notes(state: State, context: Context) -> dict[str, Any]:
    entities = state.get("entities") or {}
    if state.get("query_type") != "action" or state.get("tool_calls"):
        return {}
    action = entities.get("action")
    if action and not entities.get("jobs") and not entities.get("job_streams"):
        return {"missing_job": action}
    role = identity(context).role
    if action and role == "viewer":
        subject = (entities.get("jobs") or entities.get("job_streams") or ["?"])[0]
        return {"denied": {"role": role, "action": action, "job": subject}}
    return {}


async def draft_node(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """The answer from the model; when the model gives none (a failure of any kind, this turn), the
    answer composed from the same facts by the offline model, opening with one line that says so."""
    context = runtime.context
    parts = await context.get_parts()
    notes = action_notes(state, context)
    failure = state.get("model_failure")
    reply: AIMessage | None = None
    if failure is None and state.get("drafted") and not notes:  # the agent step answered already
        reply = AIMessage(content=state["drafted"])
    elif failure is None:
        try:
            reply = await ask(
                parts.model(),
                prompt_messages(state, context, "draft", **notes),
                budget_seconds=parts.model_budget_seconds - state.get("model_seconds", 0.0),
                phase="draft",
            )
        except ModelUnavailable as exc:
            failure = exc.failure.as_dict()
            get_stream_writer()({"event": "reset", "reason": failure["kind"]})  # what it streamed is not the answer
    if reply is None:
        composed = await OfflineChatModel().ainvoke(
            prompt_messages(state, context, "draft", model_failure=failure, **notes)
        )
        assert isinstance(composed, AIMessage)
        reply = composed
    answer = reply.text if isinstance(reply.text, str) else str(reply.content)
    usage = [dict(reply.usage_metadata)] if reply.usage_metadata else []
    # the reply itself (same id as the streamed chunks, so it is not streamed twice)
    return {"messages": [reply], "answer": answer, "sources": sources(state), "usage": usage, "model_failure": failure}
