"""Chat over HTTP (one answer), Server-Sent Events and the WebSocket /ws/tws-agent."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent

from tools.registry import Role

from ..auth import Principal, require, websocket_principal
from ..chat import ChatRequest, ThreadNotYours, claim_thread, run_events, run_to_end
from ..compose import App
from ..deps import Running
from ..schemas import ChatResponse

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
        await claim_thread(app.store.pool, body, principal)
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
        except Exception as exc:
            log.exception("chat stream failed")
            yield ServerSentEvent(data=encode({"message": f"{type(exc).__name__}: {exc}"}), event="error", sep="\n")

    return EventSourceResponse(events(), ping=HEARTBEAT_SECONDS, sep="\n", headers={"Cache-Control": "no-cache"})


def encode(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)


def parse_ws(text: str) -> ChatRequest:
    """Plain text (as wscat sends it) or the JSON body of POST /api/v2/chat."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return ChatRequest.model_validate(json.loads(stripped))
    return ChatRequest(message=stripped)


@router.websocket("/ws/tws-agent")
async def tws_agent(websocket: WebSocket, app: Running) -> None:
    try:
        principal = await websocket_principal(websocket)
    except HTTPException as exc:
        await websocket.close(code=4401 if exc.status_code == 401 else 4403, reason=str(exc.detail)[:120])
        return
    await websocket.accept()
    thread_id: str | None = None
    try:
        while True:
            text = await websocket.receive_text()
            try:
                body = parse_ws(text)
                body.thread_id = body.thread_id or thread_id
                await claim(app, body, principal)
            except (ValidationError, ValueError, HTTPException) as exc:
                await websocket.send_json(
                    {"type": "error", "sender": "agent", "message": f"bad message: {exc}", "is_final": True}
                )
                continue
            async for event, data in run_events(app, principal, body):
                if event == "metadata":
                    thread_id = data["thread_id"]
                if event == "end":
                    await websocket.send_json(
                        {
                            "type": "message",
                            "sender": "agent",
                            "message": data["message"],
                            "query_type": data["query_type"],
                            "entities": data["entities"],
                            "thread_id": data["thread_id"],
                            "sources": data["sources"],
                            "pending_approval": data["pending_approval"],
                            "is_final": True,
                        }
                    )
                else:
                    await websocket.send_json({"type": event, "sender": "agent", **data, "is_final": False})
    except WebSocketDisconnect:
        return
