"""A second's memory of the answers of the cached read routes (``GET /api/v2/jobs/failed``,
``GET /api/v2/system/health``), which are the same for every caller allowed to read them.

A hit still authenticates the key (a revoked key stops at once) and counts the caller's rate limit;
only the route's own work is skipped (routing, the tool call, validation, serialisation), and the
read is audited in aggregate (one row per tool and caller per flush). An answer is at most ``ttl``
seconds older than the Redis cache it came from. Anything but a 200 is never kept; a failed
authentication goes to the route, which answers it as usual."""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHED = {"/api/v2/jobs/failed": "get_failed_jobs", "/api/v2/system/health": "get_system_health"}


class ResponseCache:
    def __init__(self, app: ASGIApp, ttl: float = 1.0) -> None:
        self.app = app
        self.ttl = ttl
        self._held: dict[str, tuple[float, list[tuple[bytes, bytes]], bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        tool = CACHED.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "GET" else None
        resync: Any = getattr(scope["app"].state, "resync", None) if tool else None
        if tool is None or resync is None or self.ttl <= 0:
            await self.app(scope, receive, send)
            return
        key = f"{scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
        held = self._held.get(key)
        if held is not None and held[0] > time.monotonic():
            try:
                principal = await resync.auth.authenticate(Headers(scope=scope))
            except Exception:  # a refusal (401, 429) or the database away: the route answers it as usual
                await self.app(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
            if resync.parts.catalog.audit is not None:
                resync.parts.catalog.audit.count(tool, principal.name, principal.role.value)
            await send({"type": "http.response.start", "status": 200, "headers": list(held[1])})
            await send({"type": "http.response.body", "body": held[2]})
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body") and start.get("status") == 200:
                    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"x-request-id"]
                    self._held[key] = (time.monotonic() + self.ttl, headers, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, keep)
