"""The tool registry as an MCP server (the official ``mcp`` SDK, low-level ``Server``): the tools a
caller's role may use, called through the same registry (validation, roles, audit). A write tool
never acts from here: it creates a pending approval and answers with its id and how to decide it.
Two transports: streamable HTTP at ``/mcp`` on the server (the same API keys, ``Authorization:
Bearer`` or ``X-API-Key``) and stdio (``resync mcp``, the key from ``RESYNC_API_KEY``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import mcp.types as types
from fastapi import HTTPException
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from tools.store.access import claim_thread

from .auth import Authenticator, Principal
from .compose import App
from .edge import send_json

PRINCIPAL = "resync_principal"  # where the HTTP endpoint leaves the caller (the request's state)


async def mcp_thread(pool: Any, name: str) -> str | None:
    """The caller's MCP conversation, claimed for them like any thread (nobody else may continue it);
    None when someone else claimed the name first (the call then belongs to no thread)."""
    thread_id = f"mcp-{hashlib.sha256(name.encode()).hexdigest()[:16]}"
    return thread_id if await claim_thread(pool, thread_id, name) == name else None


def mcp_server(running: Callable[[], App], stdio_principal: Principal | None = None) -> Server[Any]:
    """``running``: the opened application (read at each request); ``stdio_principal``: the caller of a
    stdio session (over HTTP each request carries its own)."""

    def caller(ctx: ServerRequestContext[Any, Any]) -> Principal:
        request = ctx.request
        state = getattr(request, "scope", {}).get("state", {}) if request is not None else {}
        principal = state.get(PRINCIPAL) or stdio_principal
        if principal is None:
            raise PermissionError("no API key: this session has no caller")
        return principal

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        who = caller(ctx)
        specs = running().parts.catalog.list_tools(who.role.value)
        return types.ListToolsResult(
            tools=[
                types.Tool(name=s.name, description=s.description, input_schema=s.input_schema.model_json_schema())
                for s in specs
            ]
        )

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        who = caller(ctx)
        app = running()
        thread = await mcp_thread(app.store.pool, who.name)
        tool_ctx = app.parts.for_caller(  # a call of its own: a repeated call is a new request, never a resume
            who.name, who.role.value, thread_id=thread, tool_call_id=f"mcp-{uuid.uuid4().hex}"
        )
        result = await app.parts.catalog.execute(params.name, dict(params.arguments or {}), tool_ctx)
        if result.outcome == "pending_approval":
            text = json.dumps(
                {
                    "outcome": "pending_approval",
                    "approval_id": result.approval_id,
                    "nothing_done_yet": True,
                    "how_to_decide": f"an operator approves with POST /api/v2/approvals/{result.approval_id}/approve "
                    f"(or rejects with .../reject); `resync` shows it in GET /api/v2/approvals",
                }
            )
            return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=False)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=result.for_model())], is_error=not result.ok
        )

    return Server("resync", on_list_tools=list_tools, on_call_tool=call_tool)


class HttpEndpoint:
    """The streamable-HTTP endpoint behind our API keys (401 without a valid one, before any MCP). An
    ASGI app (a class, so that a route serves it as it is)."""

    def __init__(self, server: Server[Any], authenticator: Callable[[], Authenticator]) -> None:
        inner = server.streamable_http_app(streamable_http_path="/mcp", stateless_http=True, json_response=True)
        self.handler: ASGIApp = next(r.app for r in inner.routes if getattr(r, "path", None) == "/mcp")  # type: ignore[attr-defined]
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            principal = await self.authenticator().authenticate(Headers(scope=scope))
        except HTTPException as exc:
            await send_json(send, exc.status_code, {"detail": exc.detail}, dict(exc.headers or {}))
            return
        scope.setdefault("state", {})[PRINCIPAL] = principal
        await self.handler(scope, receive, send)
