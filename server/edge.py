"""The HTTP edge, as pure ASGI middleware (streaming responses still see client disconnects): a
request id on every response, metrics and a JSON log line per request; NUL in the URL refused; for
requests with a body under ``/api``, the key checked **before** the body is read (401 first) and the
body limited in size **before** it reaches a handler (413)."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from typing import Any

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import Principal
from .metrics import HTTP_LATENCY, HTTP_REQUESTS
from .outages import OUTAGES, RETRY_AFTER_SECONDS, outage_reason

log = logging.getLogger("resync")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UPLOAD_PATHS = frozenset({"/api/v2/knowledge/documents"})
DRAIN_CAP_BYTES = 256 * 1024 * 1024  # a refused body up to this size is read and dropped, not kept
DRAIN_WAIT_SECONDS = 0.5  # a refused body still arriving after this is not waited for
BODY_IDLE_SECONDS = 30.0  # an accepted body with no byte for this long is answered 408


class TooLarge(Exception):
    pass


class Edge:
    def __init__(self, app: ASGIApp, max_request_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = _request_id(headers.get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            refusal = await self._guard(scope, headers)
            if refusal is not None:
                code, detail, extra = refusal
                declared = headers.get("content-length") or "0"
                too_big = declared.isdigit() and int(declared) > DRAIN_CAP_BYTES
                if scope["method"] in BODY_METHODS and (too_big or not await _discard_body(receive)):
                    extra = extra | {"Connection": "close"}
                await send_json(send_with_id, code, {"detail": detail, "request_id": request_id}, extra)
                return
            body = await self._limited_body(scope, headers, receive, send_with_id, request_id)
            if body is None:
                return
            await self.app(scope, body, send_with_id)
        finally:
            self._record(scope, request_id, status["code"], time.perf_counter() - started)

    async def _guard(self, scope: Scope, headers: Headers) -> tuple[int, str, dict[str, str]] | None:
        """(status, reason, headers) when the request is refused before any handler runs."""
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"").lower():
            return 400, "the URL contains a NUL character", {}
        if scope["method"] not in BODY_METHODS or not scope["path"].startswith("/api/"):
            return None
        resync = getattr(scope["app"].state, "resync", None)
        if resync is None:
            return None
        try:
            scope["state"]["principal"] = await resync.auth.authenticate(headers)
        except HTTPException as exc:
            return exc.status_code, str(exc.detail), dict(exc.headers or {})
        except OUTAGES as exc:
            return 503, outage_reason(exc), {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return None

    async def _limited_body(
        self, scope: Scope, headers: Headers, receive: Receive, send: Send, request_id: str
    ) -> Receive | None:
        """A receive that replays the body, read here up to the limit; None after answering 413."""
        if scope["method"] not in BODY_METHODS:
            return receive
        limit = self.max_upload_bytes if scope["path"] in UPLOAD_PATHS else self.max_request_bytes
        too_large = {"detail": f"the request body is limited to {limit} bytes", "request_id": request_id}
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            drained = int(declared) <= DRAIN_CAP_BYTES and await _discard_body(receive)
            await send_json(send, 413, too_large, {} if drained else {"Connection": "close"})
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                async with asyncio.timeout(BODY_IDLE_SECONDS):
                    message = await receive()
            except TimeoutError:  # a body that stops arriving does not hold a worker
                slow = {"detail": f"the request body stalled for {BODY_IDLE_SECONDS:.0f} s", "request_id": request_id}
                await send_json(send, 408, slow, {"Connection": "close"})
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                drained = not message.get("more_body", False) or await _discard_body(receive)
                await send_json(send, 413, too_large, {} if drained else {"Connection": "close"})
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect

        return replay

    @staticmethod
    def _record(scope: Scope, request_id: str, status: int, elapsed: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
        HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
        principal: Principal | None = scope.get("state", {}).get("principal")
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round(elapsed * 1000, 1),
                "caller": principal.name if principal else None,
            },
        )


async def _discard_body(receive: Receive, cap: int = DRAIN_CAP_BYTES) -> bool:
    """Read and drop the rest of a refused body (memory stays flat), so the client can read the answer
    and reuse the connection; False when it is larger than ``cap`` or does not arrive at once (a
    partial body is not waited for: the refusal goes out and the connection is closed)."""
    seen = 0
    while True:
        try:
            async with asyncio.timeout(DRAIN_WAIT_SECONDS):
                message = await receive()
        except TimeoutError:
            return False
        if message["type"] == "http.disconnect":
            return False
        seen += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
        if seen > cap:
            return False


def _request_id(given: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a new one (never echo arbitrary bytes)."""
    if given and len(given) <= 64 and all(c.isalnum() or c in "-_." for c in given):
        return given
    return secrets.token_hex(8)


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    """A JSON answer from pure ASGI code (before any route: refusals at the edge and the MCP endpoint)."""
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
