"""Chat over HTTP (one answer), Server-Sent Events and the WebSocket /ws/tws-agent."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent

from tools.registry import Role
from tools.store.feedback import UnknownRun, give_feedback

from ..auth import Principal, require
from ..chat import ChatRequest, ThreadNotYours, claim_thread, run_events, run_to_end
from ..compose import App
from ..deps import Running
from ..errors import error_response
from ..outages import OUTAGES
from ..schemas import ChatResponse, FeedbackIn, FeedbackOut

log = logging.getLogger(__name__)
router = APIRouter(tags=["chat"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
HEARTBEAT_SECONDS = 15


def check_size(app: App, body: ChatRequest) -> None:
    limit = app.settings.max_message_chars
    if len(body.message) > limit:
        raise HTTPException(413, detail=f"message longer than {limit} characters")


async def claim(app: App, body: ChatRequest, principal: Principal) -> ChatRequest:
    """Size checked and thread claimed, once, before anything runs (a new thread gets its id here)."""
    check_size(app, body)
    try:
        await claim_thread(app, body, principal)
    except ThreadNotYours as exc:
        raise HTTPException(403, detail=str(exc)) from None
    return body


async def claimed(app: Running, body: ChatRequest, principal: Viewer) -> ChatRequest:
    return await claim(app, body, principal)


Claimed = Annotated[ChatRequest, Depends(claimed)]


@router.post("/api/v2/chat", response_model=ChatResponse)
async def chat(app: Running, body: Claimed, principal: Viewer) -> dict[str, Any]:
    return await run_to_end(app, principal, body)


@router.post(
    "/api/v2/chat/stream",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "SSE: metadata, query, token, tool_call, approval_request, end|error",
        }
    },
)
async def chat_stream(app: Running, body: Claimed, principal: Viewer) -> EventSourceResponse:
    """Server-Sent Events through sse-starlette: keep-alive pings, and a client that goes away stops
    the run (it listens for the disconnect). A failure after the stream started is the last event,
    ``error``."""

    async def events() -> AsyncIterator[ServerSentEvent]:
        counter = 0
        try:
            async for event, data in run_events(app, principal, body):
                counter += 1
                yield ServerSentEvent(data=encode(data), event=event, id=str(counter), sep="\n")
        except Exception:
            log.exception("chat stream failed")
            failed = {"message": "the answer failed (internal error); see the server log", "run_failed": True}
            yield ServerSentEvent(data=encode(failed), event="error", sep="\n")

    return EventSourceResponse(events(), ping=HEARTBEAT_SECONDS, sep="\n", headers={"Cache-Control": "no-cache"})


@router.post(
    "/api/v2/feedback",
    response_model=FeedbackOut,
    responses={404: error_response("no answer with this run_id that the caller received")},
)
async def feedback(app: Running, body: FeedbackIn, principal: Viewer) -> dict[str, Any]:
    """Thumbs up/down on an answer the caller received (one per user and run; a later one replaces
    it), stored with the answer's variant and forwarded to LangSmith when it is configured."""
    try:
        stored = await give_feedback(
            app.store.pool, str(body.run_id), principal.name, body.score, body.comment, principal.role == Role.ADMIN
        )
    except UnknownRun as exc:
        raise HTTPException(404, detail=str(exc)) from None
    forward_feedback(str(body.run_id), body.score, body.comment)
    return stored


def forward_feedback(run_id: str, score: int, comment: str | None) -> None:
    """To LangSmith, when a key is configured (never blocks the answer; a failure is only logged)."""
    if not os.environ.get("LANGSMITH_API_KEY"):
        return

    def send() -> None:
        try:
            from langsmith import Client

            Client().create_feedback(run_id, key="user_score", score=score, comment=comment)
        except Exception:
            log.warning("could not forward feedback on %s to LangSmith", run_id, exc_info=True)

    threading.Thread(target=send, daemon=True).start()


def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def parse_ws(text: str) -> ChatRequest:
    """Plain text (as wscat sends it) or the JSON body of POST /api/v2/chat."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return ChatRequest.model_validate(json.loads(stripped))
    return ChatRequest(message=stripped)


def problems(exc: Exception) -> str:
    """A validation error as one line naming the fields (never the input echoed back)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    return str(exc)


class Refused(Exception):
    """The WebSocket must be closed: ``code`` and ``reason`` say why."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


async def ws_caller(websocket: WebSocket, app: App) -> Principal:
    """The key is checked at the handshake and again at every message (a revoked key stops at once)."""
    try:
        return await app.auth.identify(websocket.headers, websocket.query_params.get("api_key"))
    except HTTPException as exc:
        raise Refused(4401 if exc.status_code == 401 else 4403, str(exc.detail)[:120]) from None


async def ws_text(websocket: WebSocket) -> str:
    """The next text frame; Refused (1003) for a binary frame, WebSocketDisconnect when the client left."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    if message.get("text") is None:
        raise Refused(1003, "binary frames are not accepted: send text (JSON or plain)")
    return str(message["text"])


def ws_error(text: str) -> dict[str, Any]:
    return {"type": "error", "sender": "agent", "message": text, "is_final": True}


@router.websocket("/ws/tws-agent")
async def tws_agent(websocket: WebSocket, app: Running) -> None:
    """Chat over a WebSocket. Auth failures close with 4401 (no, invalid or revoked key); binary
    frames get an error and a close with 1003; every message counts against the key's rate limit."""
    await websocket.accept()
    thread_id: str | None = None
    try:
        principal = await ws_caller(websocket, app)
        while True:
            text = await ws_text(websocket)
            principal = await ws_caller(websocket, app)
            try:
                await app.auth.count(principal)
                body = parse_ws(text)
                body.thread_id = body.thread_id or thread_id
                await claim(app, body, principal)
            except (ValidationError, ValueError, HTTPException, RecursionError) as exc:
                await websocket.send_json(ws_error(f"bad message: {problems(exc)}"))
                continue
            try:
                async for event, data in run_events(app, principal, body):
                    if event == "metadata":
                        thread_id = data["thread_id"]
                    await websocket.send_json(ws_frame(event, data))
            except WebSocketDisconnect:
                raise
            except Exception:
                log.exception("websocket run failed")
                await websocket.send_json(ws_error("the answer failed (internal error); see the server log"))
    except OUTAGES:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.send_json(ws_error("the database is unavailable; retry shortly"))
            await websocket.close(code=1011, reason="database unavailable")
    except Refused as exc:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):  # the client may be gone already
            await websocket.send_json(ws_error(exc.reason))
            await websocket.close(code=exc.code, reason=exc.reason)
    except WebSocketDisconnect:
        return


def ws_frame(event: str, data: dict[str, Any]) -> dict[str, Any]:
    if event != "end":
        return {"type": event, "sender": "agent", **data, "is_final": False}
    return {
        "type": "message",
        "sender": "agent",
        "message": data["message"],
        "query_type": data["query_type"],
        "entities": data["entities"],
        "thread_id": data["thread_id"],
        "sources": data["sources"],
        "pending_approval": data["pending_approval"],
        "run_id": data["run_id"],
        "variant": data["variant"],
        "model_failure": data.get("model_failure"),
        "is_final": True,
    }
