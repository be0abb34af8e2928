"""One chat run as a stream of events, shared by POST /api/v2/chat, the SSE stream and the WebSocket:
``metadata`` (run and thread ids) first, then ``query`` (type, entities), ``token``, ``tool_call``,
``reset`` (the model failed mid-answer: drop the tokens so far, the composed answer follows),
``approval_request``, and ``end`` (or ``error``) last; ``end.message`` is the whole answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.types import Command, StreamMode
from pydantic import BaseModel, Field, field_validator

from graph.prompts import available_versions
from tools.registry import Role
from tools.store.access import claim_thread as store_claim
from tools.store.approvals import Approval
from tools.store.feedback import record_answer

from .auth import Principal
from .compose import App
from .schemas import Text
from .settings import Settings

log = logging.getLogger(__name__)
THREAD_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
Event = tuple[str, dict[str, Any]]


class ChatRequest(BaseModel):
    message: Text = Field(min_length=1, max_length=100_000)
    thread_id: str | None = Field(
        None, description="continue this conversation", json_schema_extra={"pattern": THREAD_ID.pattern}
    )
    prompt_version: str | None = Field(
        None, description="system prompt version", json_schema_extra={"enum": [*available_versions(), None]}
    )

    @field_validator("message")
    @classmethod
    def _said_something(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the message is blank: ask a question or give an instruction")
        return value

    @field_validator("thread_id")
    @classmethod
    def _thread(cls, value: str | None) -> str | None:
        if value is not None and not THREAD_ID.match(value):
            raise ValueError("thread_id: 1-100 letters, digits or _ . : -")
        return value

    @field_validator("prompt_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and value not in available_versions():
            raise ValueError(f"unknown prompt version; available: {', '.join(available_versions())}")
        return value


class ThreadNotYours(PermissionError):
    """The thread belongs to another caller."""


async def claim_thread(pool: Any, request: ChatRequest, principal: Principal) -> str:
    """The conversation this request continues (a new one when it names none), claimed once: the
    first caller of a thread owns it; others (but admins) may not continue it."""
    thread_id = request.thread_id or f"t-{uuid.uuid4().hex[:12]}"
    owner = await store_claim(pool, thread_id, principal.name)
    if owner != principal.name and principal.role != Role.ADMIN:
        raise ThreadNotYours(f"thread {thread_id} belongs to another user")
    request.thread_id = thread_id
    return thread_id


async def run_events(
    app: App, principal: Principal, request: ChatRequest, resume: Any = None, with_context: bool = False
) -> AsyncIterator[Event]:
    """Stream one run (or the resumption of a paused one) of a claimed thread as events; the final
    state comes from the same stream (no read back)."""
    assert request.thread_id, "claim the thread first"
    thread_id = request.thread_id
    run_id = str(uuid.uuid4())
    stop = asyncio.Event()
    context = app.turn_context(  # the user's sticky variant; an explicit prompt version wins over its own
        principal.name, principal.role.value, stop=stop, prompt_version=request.prompt_version
    )
    config: RunnableConfig = {
        "configurable": {"thread_id": thread_id},
        "run_id": uuid.UUID(run_id),
        "metadata": {"run_id": run_id},  # on this run's checkpoints: a failed turn finds where it began
    }
    payload: Any = Command(resume=resume) if resume is not None else {"messages": [HumanMessage(request.message)]}
    yield "metadata", {"run_id": run_id, "thread_id": thread_id}
    values: dict[str, Any] = {}
    modes: list[StreamMode] = ["messages", "custom", "values"]
    stream: AsyncIterator[Any] = app.graph.astream(
        payload, config, context=context, stream_mode=modes, durability=app.settings.checkpoint_durability
    )
    try:
        async for mode, chunk in stream:
            if mode == "values":
                values = chunk
            elif mode == "custom" and chunk.get("event") == "metadata":
                yield (
                    "query",
                    {"query_type": chunk["query_type"], "language": chunk["language"], "entities": chunk["entities"]},
                )
            elif mode == "custom" and chunk.get("event") == "tool_call":
                yield "tool_call", {k: v for k, v in chunk.items() if k != "event"}
            elif mode == "custom" and chunk.get("event") == "reset":  # the model failed mid-answer
                yield "reset", {"reason": chunk.get("reason")}
            elif mode == "messages":
                message, meta = chunk
                if meta.get("langgraph_node") == "draft" and isinstance(message, AIMessageChunk) and message.content:
                    yield "token", {"text": str(message.content)}
    except BaseException:  # failed, or cut off (client gone: cancelled or closed): not half-saved
        stop.set()  # first: nothing of the run keeps going while the thread is rolled back
        if resume is None:
            await asyncio.shield(forget_failed_turn(app, thread_id, run_id))
        raise
    finally:  # finished, failed, cancelled or closed (the client went away): nothing keeps running
        stop.set()
        context.memo.cancel()  # speculative reads nobody waited for
    await record_answer(app.store.pool, run_id, thread_id, principal.name, context.variant)
    interrupts = values.get("__interrupt__") or ()
    message = values.get("answer", "")
    if interrupts:
        request_value = interrupts[0].value
        yield "approval_request", {"thread_id": thread_id, **request_value}
        message = waiting_text(request_value, values.get("language", "en"))
    yield (
        "end",
        {
            "thread_id": thread_id,
            "run_id": run_id,
            "message": message,
            "query_type": values.get("query_type"),
            "entities": values.get("entities") or {},
            "tool_calls": [
                {k: c.get(k) for k in ("name", "args", "outcome", "approval_id", "error")}
                for c in values.get("tool_calls") or []
            ],
            "sources": values.get("sources") or [],
            "errors": values.get("errors") or [],
            "model_failure": values.get("model_failure"),  # {kind, detail} when the answer was composed without it
            "pending_approval": interrupts[0].value.get("approval_id") if interrupts else None,
            "variant": context.variant,
            **({"context": values.get("ranked_context") or []} if with_context else {}),
        },
    )


async def forget_failed_turn(app: App, thread_id: str, run_id: str) -> None:
    """A turn that failed is not half-saved: the thread goes back to its newest checkpoint written
    before this run (a copy of it becomes the latest), or is removed when the turn was its first.
    Only a failure reads the history; a turn that succeeds pays nothing for it."""
    checkpointer = app.graph.checkpointer
    assert isinstance(checkpointer, BaseCheckpointSaver)
    try:
        before = None
        async for saved in checkpointer.alist({"configurable": {"thread_id": thread_id}}):
            if saved.metadata.get("run_id") != run_id:
                before = saved
                break
        if before is None:
            await checkpointer.adelete_thread(thread_id)
        else:
            await app.graph.aupdate_state(before.config, None, as_node="__copy__")
    except Exception:  # the database may be the part that failed: then nothing more was saved either
        log.warning("could not roll back the failed turn of thread %s", thread_id, exc_info=True)


async def run_to_end(
    app: App, principal: Principal, request: ChatRequest, resume: Any = None, with_context: bool = False
) -> dict[str, Any]:
    """The ``end`` event of a whole run (for answers that are not streamed)."""
    final: dict[str, Any] = {}
    async for event, data in run_events(app, principal, request, resume, with_context):
        if event == "end":
            final = data
    return final


PT_VERBS = {
    "rerun": "reexecutar",
    "hold": "segurar",
    "release": "liberar",
    "cancel": "cancelar",
    "kill": "matar",
    "confirm_succ": "confirmar como SUCC",
    "confirm_abend": "confirmar como ABEND",
    "release_dependencies": "liberar as dependências de",
}


def waiting_text(request: dict[str, Any], language: str) -> str:
    """An action turn's answer: what is proposed, on which job in which state, and that it waits."""
    description = request["action_requests"][0]["description"]
    if language == "pt":
        target = request.get("target") or {}
        verb = PT_VERBS.get(str(request.get("action")), str(request.get("action")))
        rc = f", código de retorno {target['return_code']}" if target.get("return_code") is not None else ""
        return (
            f"Proposta: {verb} {target.get('job', '?')} (agendado {target.get('scheduled')}; em {target.get('status')}"
            f"{rc} quando pedido). {request.get('consequence_pt') or ''} Nada foi feito ainda: aguarda a aprovação"
            f" de um operador ({request['approval_id']})."
        ).replace("  ", " ")
    return (
        f"Proposed: {description.rstrip('.')}. Nothing is done yet: it waits for an operator's approval"
        f" ({request['approval_id']})."
    )


def outcome_text(approval: Approval, language: str) -> str:
    if language == "pt":
        return f"Aprovação {approval.id} ({approval.description}): {approval.status} — {approval.reason}."
    return f"Approval {approval.id} ({approval.description}): {approval.status} — {approval.reason}."


async def report_decision(app: App, principal: Principal, approval: Approval) -> dict[str, Any] | None:
    """Tell the conversation that asked: resume its paused run (the tool reports the record's outcome),
    or, when the thread has moved on, append the outcome to it. Threads of another thread store
    (``langgraph dev``) learn it when their own paused run is resumed."""
    if not approval.thread_id:
        return None
    graph = app.graph
    config: RunnableConfig = {"configurable": {"thread_id": approval.thread_id}}
    state = await graph.aget_state(config)
    if not state.values:
        return None
    if any(i.value.get("approval_id") == approval.id for i in state.interrupts):
        kind = "reject" if approval.status == "rejected" else "approve"
        request = ChatRequest(message="-", thread_id=approval.thread_id)
        return await run_to_end(app, principal, request, resume={"decisions": [{"type": kind}]})
    if not state.interrupts:  # moved on: the outcome becomes part of the conversation
        text = outcome_text(approval, state.values.get("language", "en"))
        await graph.aupdate_state(config, {"messages": [AIMessage(text)], "answer": text}, as_node="draft")
    return None


async def tell_thread(app: App, approval: Approval) -> None:
    """The conversation that asked learns an outcome reached without anyone deciding (the recovery
    pass): its paused run resumes and its tool reports the record's outcome (nothing is re-sent), or
    the outcome is appended when the thread has moved on."""
    owner = Principal(approval.requested_by, Role(approval.requested_role))
    await report_decision(app, owner, approval)


async def settle_unanswered_writes(app: App, settings: Settings, stop: asyncio.Event) -> None:
    """The recovery pass, at start and every ``APPROVAL_RECOVERY_INTERVAL_SECONDS`` (one worker):
    writes left ``executing`` by a process that died, and ``unknown`` ones, re-read at the engine
    until they end; each conversation that asked is told."""
    executing_for = timedelta(seconds=settings.tws_read_timeout + settings.tws_connect_timeout)
    give_up = timedelta(minutes=settings.approval_unknown_give_up_minutes)
    while not stop.is_set():
        try:
            for approval in await app.actions.recover(executing_for, give_up):
                log.info("approval %s settled by the recovery pass: %s", approval.id, approval.status)
                try:
                    await tell_thread(app, approval)
                except Exception:  # the record holds the outcome; "did it work?" reads it
                    log.warning("could not tell thread %s of approval %s", approval.thread_id, approval.id)
        except Exception:  # the database or the engine is away: the next pass tries again
            log.warning("approval recovery pass failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=settings.approval_recovery_interval_seconds)
