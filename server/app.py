"""The FastAPI application: a lifespan that opens everything once (database + migrations, scheduler,
cache, tools, checkpointer, compiled graph) and fails fast when a required part is missing; request
ids, JSON logs, CORS, errors as JSON with a reason (``edge.py``, ``errors.py``)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse
from fastapi_offline import FastAPIOffline
from starlette.routing import Route

from .background import Background
from .compose import open_app
from .edge import Edge
from .errors import document_errors, install_errors
from .mcp_tools import HttpEndpoint, mcp_server
from .microcache import ResponseCache
from .openapi import exact_openapi, no_unknown_query
from .routes import approvals, chat, investigations, knowledge, ops, sla, v2
from .settings import Settings, comma_list

log = logging.getLogger("resync")
PAGE = Path(__file__).resolve().parent / "static" / "index.html"


SECRET_IN_URL = re.compile(r"((?:api_key|apikey|token|password)=)[^&\s\"']+", re.IGNORECASE)
# our keys wherever they appear (a DEBUG log of handshake headers), and any bearer token
SECRET_TOKENS = re.compile(r"\b(rsk_|bearer\s+)[A-Za-z0-9_\-.~+/=]{6,}", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    return SECRET_TOKENS.sub(r"\1***", SECRET_IN_URL.sub(r"\1***", text))


class JsonFormatter(logging.Formatter):
    """One JSON line per record; keys in query strings (``?api_key=``) are masked."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for key in ("request_id", "method", "path", "status", "ms", "caller"):
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["error"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # one line per scheduler call is debugging detail, not an operations log
    logging.getLogger("httpx").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    tools_server = mcp_server(lambda: app.state.resync)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.auth_disabled:
            log.warning("!!! AUTH_DISABLED=true: NO API KEYS, EVERY CALLER IS ADMIN. NEVER IN PRODUCTION !!!")
        async with open_app(settings) as running, tools_server.session_manager.run():
            app.state.resync = running
            parts = running.parts
            assert parts.cache is not None
            parts.cache.register_warmer("tws:static:engine", lambda: _engine(parts.client), "static")
            await parts.cache.warm_cache()
            background = Background(running, settings)
            background.start()
            await _announce(parts.client, settings)
            try:
                yield
            finally:
                await background.close()

    app = FastAPIOffline(  # Swagger UI and ReDoc from the package's own assets: /docs works offline
        title="Resync",
        version="0.1.0",
        lifespan=lifespan,
        description="AI operations assistant for IBM Workload Scheduler / HCL Workload Automation",
        dependencies=[Depends(no_unknown_query)],
    )
    exact_openapi(app)
    _middleware(app, settings)
    # the tool registry over MCP (streamable HTTP), behind the same API keys
    endpoint = HttpEndpoint(tools_server, lambda: app.state.resync.auth)
    app.router.routes.append(Route("/mcp", endpoint=endpoint, methods=["GET", "POST", "DELETE"]))
    install_errors(app)
    for router in ROUTERS:
        document_errors(router)
        app.include_router(router)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(PAGE.read_text(encoding="utf-8"))

    return app


ROUTERS = (v2.router, chat.router, approvals.router, investigations.router, sla.router, ops.router, knowledge.router)


def _middleware(app: FastAPI, settings: Settings) -> None:
    app.add_middleware(ResponseCache, ttl=settings.response_cache_seconds)  # inside the edge
    app.add_middleware(Edge, max_request_bytes=settings.max_request_bytes, max_upload_bytes=settings.max_upload_bytes)
    origins = comma_list(settings.cors_origins)
    if origins:  # outermost: refusals from the edge carry CORS headers too
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )


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
