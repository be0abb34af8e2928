"""Chat over HTTP (one answer), Server-Sent Events and the WebSocket /ws/tws-agent."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from tools.registry import Role

from ..auth import Principal, require, websocket_principal
from ..chat import ChatRequest, ThreadNotYours, claim_thread, run_events
from ..schemas import ChatResponse

router = APIRouter(tags=["chat"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
HEARTBEAT_SECONDS = 15.0
DISCONNECT_POLL_SECONDS = 0.5


def check_size(request: Request | WebSocket, body: ChatRequest) -> None:
    limit = request.app.state.settings.max_message_chars
    if len(body.message) > limit:
        raise HTTPException(413, detail=f"message longer than {limit} characters")


async def check_thread(request: Request | WebSocket, body: ChatRequest, principal: Principal) -> None:
    if body.thread_id:
        try:
            await claim_thread(request.app.state.store.pool, body.thread_id, principal)
        except ThreadNotYours as exc:
            raise HTTPException(403, detail=str(exc)) from None


@router.post("/api/v2/chat", response_model=ChatResponse)
async def chat(request: Request, body: ChatRequest, principal: Viewer) -> dict[str, Any]:
    check_size(request, body)
    await check_thread(request, body, principal)
    final: dict[str, Any] = {}
    async for event, data in run_events(request.app.state, principal, body):
        if event == "end":
            final = data
    return final


async def sse(events: AsyncIterator[tuple[str, dict[str, Any]]], request: Request) -> AsyncIterator[str]:
    """SSE framing as the LangGraph server does it, with heartbeat comments; a client that goes away
    cancels the run (the generator is closed)."""
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for item in events:
                await queue.put(item)
        except Exception as exc:  # reported to the client as the last event
            await queue.put(("error", {"message": f"{type(exc).__name__}: {exc}"}))
        finally:
            await queue.put(None)

    task = asyncio.create_task(pump())
    counter, last_sent = 0, asyncio.get_running_loop().time()
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), DISCONNECT_POLL_SECONDS)
            except TimeoutError:
                if await request.is_disconnected():
                    return  # the client went away: stop the run (finally cancels it)
                if asyncio.get_running_loop().time() - last_sent >= HEARTBEAT_SECONDS:
                    last_sent = asyncio.get_running_loop().time()
                    yield ": heartbeat\n\n"
                continue
            if item is None:
                return
            counter += 1
            last_sent = asyncio.get_running_loop().time()
            event, data = item
            yield f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\nid: {counter}\n\n"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


@router.post(
    "/api/v2/chat/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "SSE: metadata, query, token, tool_call, approval_request, end|error",
        }
    },
)
async def chat_stream(request: Request, body: ChatRequest, principal: Viewer) -> StreamingResponse:
    check_size(request, body)
    await check_thread(request, body, principal)
    return StreamingResponse(
        sse(run_events(request.app.state, principal, body), request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def parse_ws(text: str) -> ChatRequest:
    """Plain text (as wscat sends it) or the JSON body of POST /api/v2/chat."""
    stripped = text.strip()
    if stripped.startswith("{"):
        return ChatRequest.model_validate(json.loads(stripped))
    return ChatRequest(message=stripped)


@router.websocket("/ws/tws-agent")
async def tws_agent(websocket: WebSocket) -> None:
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
                check_size(websocket, body)
                body.thread_id = body.thread_id or thread_id
                await check_thread(websocket, body, principal)
            except (ValidationError, ValueError, HTTPException) as exc:
                await websocket.send_json(
                    {"type": "error", "sender": "agent", "message": f"bad message: {exc}", "is_final": True}
                )
                continue
            async for event, data in run_events(websocket.app.state, principal, body):
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
