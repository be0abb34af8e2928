"""The FastAPI application: a lifespan that opens everything once (database + migrations, scheduler,
cache, tools, checkpointer, compiled graph) and fails fast when a required part is missing; request
ids, JSON logs, CORS, errors as JSON with a reason."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tools.store.kg_sync import KnowledgeGraphSync, sync_periodically

from .auth import Principal, parse_static_keys
from .compose import open_app
from .metrics import HTTP_LATENCY, HTTP_REQUESTS
from .routes import approvals, chat, ops, v2
from .settings import Settings

log = logging.getLogger("resync")
PAGE = Path(__file__).resolve().parent / "static" / "index.html"


SECRET_IN_URL = re.compile(r"((?:api_key|apikey|token|password)=)[^&\s\"']+", re.IGNORECASE)


class JsonFormatter(logging.Formatter):
    """One JSON line per record; keys in query strings (``?api_key=``) are masked."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": SECRET_IN_URL.sub(r"\1***", record.getMessage()),
        }
        for key in ("request_id", "method", "path", "status", "ms", "caller"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # one line per scheduler call is debugging detail, not an operations log
    logging.getLogger("httpx").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


async def _first_sync(sync: KnowledgeGraphSync, incidents: Any, client: Any) -> None:
    try:
        await sync.sync(full=True)
        await incidents.harvest(client)
    except Exception:  # the server serves without a fresh graph; the loop retries
        log.exception("initial knowledge-graph sync failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    parse_static_keys(settings.api_keys)  # a bad API_KEYS fails here, before anything starts

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auth_disabled:
            log.warning("!!! AUTH_DISABLED=true: NO API KEYS, EVERY CALLER IS ADMIN. NEVER IN PRODUCTION !!!")
        async with open_app(settings) as running:
            app.state.resync = running
            parts = running.parts
            assert parts.cache is not None and parts.kg is not None
            parts.cache.register_warmer("tws:static:engine", lambda: _engine(parts.client), "static")
            await parts.cache.warm_cache()
            sync = KnowledgeGraphSync(parts.client, parts.kg)
            stop = asyncio.Event()
            first = asyncio.create_task(_first_sync(sync, parts.incidents, parts.client))
            loop = asyncio.create_task(sync_periodically(sync, settings.kg_sync_interval_seconds, stop))
            await _announce(parts.client, settings)
            try:
                yield
            finally:
                stop.set()
                for task in (first, loop):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    app = FastAPI(
        title="Resync",
        version="0.1.0",
        lifespan=lifespan,
        description="AI operations assistant for IBM Workload Scheduler / HCL Workload Automation",
    )
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
        )
    app.add_middleware(RequestContext)
    _install_errors(app)
    for router in (v2.router, chat.router, approvals.router, ops.router):
        app.include_router(router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    return app


async def _announce(client: Any, settings: Settings) -> None:
    """'Resync ready' only once the scheduler answers; otherwise say plainly that it does not."""
    engine = settings.tws_base_url or f"built-in simulator http://{settings.sim_host}:{settings.sim_port}"
    try:
        info = await client.engine_info()
    except Exception as exc:
        log.error("Resync is serving, but the scheduler (%s) does not answer: %s", engine, exc)
        return
    log.info("Resync ready: scheduler %s answers (HWA %s)", engine, info.display_version)


async def _engine(client: Any) -> dict[str, Any]:
    info = await client.engine_info()
    return {"version": info.display_version, "timezone": info.timezone}


class RequestContext:
    """Pure ASGI middleware (so streaming responses still see client disconnects): a request id on
    every response, HTTP metrics and a JSON log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict((k.decode().lower(), v.decode()) for k, v in scope.get("headers", []))
        request_id = headers.get("x-request-id") or uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], route, str(status["code"])).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
            principal: Principal | None = scope.get("state", {}).get("principal")
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status["code"],
                    "ms": round(elapsed * 1000, 1),
                    "caller": principal.name if principal else None,
                },
            )


def _install_errors(app: FastAPI) -> None:
    def body(request: Request, detail: Any) -> dict[str, Any]:
        return {"detail": detail, "request_id": getattr(request.state, "request_id", None)}

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(body(request, exc.detail), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse(body(request, problems), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"request_id": getattr(request.state, "request_id", None)})
        return JSONResponse(
            body(request, f"internal error ({type(exc).__name__}); see the server log"), status_code=500
        )
