"""Chat requests as turns of ``graph.turns`` (shared by POST /api/v2/chat, the SSE stream and the
WebSocket), and an approval's outcome told to the conversation that asked."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from langchain_core.messages import AIMessage
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field, field_validator

from graph.prompts import available_versions
from graph.turns import Event, ThreadNotYours, Turn, waiting_text
from tools.registry import Role
from tools.store.approvals import Approval

from .auth import Principal
from .compose import App
from .schemas import Text
from .settings import Settings

log = logging.getLogger(__name__)
THREAD_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")
__all__ = ["ThreadNotYours", "waiting_text"]  # what the routes and tests take from here


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


async def claim_thread(app: App, request: ChatRequest, principal: Principal) -> str:
    """The conversation this request continues (a new one when it names none), claimed once."""
    request.thread_id = await app.turns.claim(request.thread_id, principal.name, principal.role == Role.ADMIN)
    return request.thread_id


def turn_of(
    app: App, principal: Principal, request: ChatRequest, resume: Any = None, with_context: bool = False
) -> Turn:
    """A claimed request as the turn the runner runs: the user's sticky variant (an explicit prompt
    version wins over its own)."""
    assert request.thread_id, "claim the thread first"
    context = app.turn_context(principal.name, principal.role.value, prompt_version=request.prompt_version)
    return Turn(request.thread_id, context, request.message, resume, with_context)


def run_events(
    app: App, principal: Principal, request: ChatRequest, resume: Any = None, with_context: bool = False
) -> AsyncIterator[Event]:
    """Stream one run (or the resumption of a paused one) of a claimed thread as events."""
    return app.turns.events(turn_of(app, principal, request, resume, with_context))


async def run_to_end(
    app: App, principal: Principal, request: ChatRequest, resume: Any = None, with_context: bool = False
) -> dict[str, Any]:
    """The ``end`` event of a whole run (for answers that are not streamed)."""
    return await app.turns.run(turn_of(app, principal, request, resume, with_context))


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
