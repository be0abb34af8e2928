"""One turn of a conversation, run the same way for every caller — the HTTP JSON answer, the SSE
stream, the WebSocket, ``resync chat`` and the evaluation bench: the thread claimed by its first
caller, the run streamed as events, a failed turn rolled back, the waiting text of a paused write,
and the answer recorded for feedback.

Events: ``metadata`` (run and thread ids) first, then ``query`` (type, entities), ``token``,
``tool_call``, ``reset`` (the model failed mid-answer: drop the tokens so far, the composed answer
follows), ``approval_request``, and ``end`` last; ``end.message`` is the whole answer."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Command, StreamMode

from tools.actions import ACTIONS
from tools.store.access import claim_thread
from tools.store.db import Pool
from tools.store.feedback import record_answer

from .context import Context

log = logging.getLogger(__name__)
Event = tuple[str, dict[str, Any]]
Durability = Literal["exit", "async", "sync"]


class ThreadNotYours(PermissionError):
    """The thread belongs to another caller."""


@dataclass
class Turn:
    """What one turn runs: a question (or the decision that resumes a paused run) on a thread, with
    the context of who asks (``App.turn_context``). ``values`` holds the run's final state after it."""

    thread_id: str
    context: Context
    message: str | None = None
    resume: Any = None
    with_context: bool = False  # the ranked context in the ``end`` event (/api/v2/investigate)
    callbacks: list[Any] = field(default_factory=list)  # e.g. the bench's token counter
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class TurnRunner:
    """The one runner of a turn (built once per application, beside the compiled graph)."""

    graph: CompiledStateGraph[Any, Any, Any, Any]
    pool: Pool
    durability: Durability = "async"

    async def claim(self, thread_id: str | None, caller: str, admin: bool = False) -> str:
        """The conversation a turn continues (a new one when none is named), claimed once: its first
        caller owns it; others (but admins) may not continue it."""
        thread_id = thread_id or f"t-{uuid.uuid4().hex[:12]}"
        owner = await claim_thread(self.pool, thread_id, caller)
        if owner != caller and not admin:
            raise ThreadNotYours(f"thread {thread_id} belongs to another user")
        return thread_id

    async def run(self, turn: Turn) -> dict[str, Any]:
        """The ``end`` event of a whole turn (for answers that are not streamed)."""
        final: dict[str, Any] = {}
        async for event, data in self.events(turn, tokens=False):
            if event == "end":
                final = data
        return final

    async def events(self, turn: Turn, tokens: bool = True) -> AsyncIterator[Event]:
        """Stream one run (or the resumption of a paused one) of a claimed thread as events; the final
        state comes from the same stream (no read back). Without ``tokens`` the answer is not streamed
        word by word (no ``token`` events: nobody reads them, and each costs a callback round)."""
        context, config = turn.context, self._config(turn)
        stop = context.stop = context.stop or asyncio.Event()
        payload: Any = (
            Command(resume=turn.resume) if turn.resume is not None else {"messages": [HumanMessage(turn.message or "")]}
        )
        yield "metadata", {"run_id": turn.run_id, "thread_id": turn.thread_id}
        modes: list[StreamMode] = ["messages", "custom", "values"] if tokens else ["custom", "values"]
        stream = self.graph.astream(payload, config, context=context, stream_mode=modes, durability=self.durability)
        try:
            async for mode, chunk in stream:
                if mode == "values" and isinstance(chunk, dict):  # the state after each step; a pause adds
                    turn.values = {**turn.values, **chunk} if "__interrupt__" in chunk else chunk  # its interrupts
                elif (event := _event(mode, chunk)) is not None:
                    yield event
        except BaseException:  # failed, or cut off (client gone: cancelled or closed): not half-saved
            stop.set()  # first: nothing of the run keeps going while the thread is rolled back
            if turn.resume is None:
                await asyncio.shield(self.forget_failed_turn(turn.thread_id, turn.run_id))
            raise
        finally:  # finished, failed, cancelled or closed (the client went away): nothing keeps running
            stop.set()
            context.memo.cancel()  # speculative reads nobody waited for
        await record_answer(self.pool, turn.run_id, turn.thread_id, context.caller, context.variant)
        interrupts = turn.values.get("__interrupt__") or ()
        if interrupts:
            yield "approval_request", {"thread_id": turn.thread_id, **interrupts[0].value}
        yield "end", self._end(turn, interrupts)

    def _config(self, turn: Turn) -> RunnableConfig:
        return {
            "configurable": {"thread_id": turn.thread_id},
            "run_id": uuid.UUID(turn.run_id),
            "metadata": {"run_id": turn.run_id},  # on this run's checkpoints: a failed turn finds where it began
            "callbacks": turn.callbacks,
        }

    def _end(self, turn: Turn, interrupts: Any) -> dict[str, Any]:
        values = turn.values
        message = values.get("answer", "")
        if interrupts:  # what the user is shown while the run waits for a decision
            message = waiting_text(interrupts[0].value, values.get("language", "en"))
        return {
            "thread_id": turn.thread_id,
            "run_id": turn.run_id,
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
            "variant": turn.context.variant,
            **({"context": values.get("ranked_context") or []} if turn.with_context else {}),
        }

    async def forget_failed_turn(self, thread_id: str, run_id: str) -> None:
        """A turn that failed is not half-saved: the thread goes back to its newest checkpoint written
        before this run (a copy of it becomes the latest), or is removed when the turn was its first.
        Only a failure reads the history; a turn that succeeds pays nothing for it."""
        checkpointer = self.graph.checkpointer
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
                await self.graph.aupdate_state(before.config, None, as_node="__copy__")
        except Exception:  # the database may be the part that failed: then nothing more was saved either
            log.warning("could not roll back the failed turn of thread %s", thread_id, exc_info=True)


def _event(mode: str, chunk: Any) -> Event | None:
    """A streamed chunk as the event a client sees, or None (not for clients)."""
    if mode == "custom":
        kind = chunk.get("event")
        if kind == "metadata":
            return "query", {k: chunk[k] for k in ("query_type", "language", "entities")}
        if kind == "tool_call":
            return "tool_call", {k: v for k, v in chunk.items() if k != "event"}
        if kind == "reset":  # the model failed mid-answer
            return "reset", {"reason": chunk.get("reason")}
        return None
    if mode == "messages":
        message, meta = chunk
        if meta.get("langgraph_node") == "draft" and isinstance(message, AIMessageChunk) and message.content:
            return "token", {"text": str(message.content)}
    return None


def waiting_text(request: dict[str, Any], language: str) -> str:
    """An action turn's answer: what is proposed, on which job in which state, and that it waits."""
    if language == "pt":
        target = request.get("target") or {}
        action = ACTIONS.get(str(request.get("action")))
        verb = action.verb_pt if action else str(request.get("action"))
        rc = f", código de retorno {target['return_code']}" if target.get("return_code") is not None else ""
        return (
            f"Proposta: {verb} {target.get('job', '?')} (agendado {target.get('scheduled')}; em {target.get('status')}"
            f"{rc} quando pedido). {request.get('consequence_pt') or ''} Nada foi feito ainda: aguarda a aprovação"
            f" de um operador ({request['approval_id']})."
        ).replace("  ", " ")
    description = request["action_requests"][0]["description"]
    return (
        f"Proposed: {description.rstrip('.')}. Nothing is done yet: it waits for an operator's approval"
        f" ({request['approval_id']})."
    )
