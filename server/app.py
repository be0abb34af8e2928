"""The FastAPI application: a lifespan that opens everything once (database + migrations, scheduler,
cache, tools, checkpointer, compiled graph) and fails fast when a required part is missing; request
ids, JSON logs, CORS, errors as JSON with a reason (``edge.py``, ``errors.py``)."""

from __future__ import annotations

import asyncio
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

from tools.services.watch import watch_periodically
from tools.store.db import revive_embedded
from tools.store.kg_sync import KnowledgeGraphSync, sync_periodically
from tools.store.leader import lead
from tools.store.retention import prune

from .chat import settle_unanswered_writes
from .compose import notifier_for, open_app, watcher_for
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


async def _first_sync(sync: KnowledgeGraphSync, incidents: Any, client: Any) -> None:
    try:
        report = await sync.sync(full=True)
        await incidents.harvest(client)
        log.info(
            "knowledge graph synced in full: %d detail GETs in %.1f s; incident history harvested",
            report.details_fetched,
            report.seconds,
        )
    except Exception:  # the server serves without a fresh graph; the loop retries
        log.exception("initial knowledge-graph sync failed")


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
            assert parts.cache is not None and parts.kg is not None
            parts.cache.register_warmer("tws:static:engine", lambda: _engine(parts.client), "static")
            await parts.cache.warm_cache()
            sync = KnowledgeGraphSync(parts.client, parts.kg)
            stop = asyncio.Event()

            async def keep_the_graph_synced() -> None:  # a full sync, then incremental ones
                await _first_sync(sync, parts.incidents, parts.client)
                await sync_periodically(sync, settings.kg_sync_interval_seconds, stop, wait_first=True)

            async def keep_within_retention() -> None:
                while True:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=settings.prune_interval_seconds)
                        return
                    try:
                        report = await prune(running.store.pool, running.saver, settings.retention())
                        log.info("pruned past retention: %s", report.as_dict())
                    except Exception:  # the next interval tries again
                        log.exception("pruning failed")

            async def keep_the_embedded_database_up() -> None:  # every process: whoever sees it dead revives it
                folder = running.store.embedded_dir
                while folder is not None and not stop.is_set():
                    try:
                        if await asyncio.to_thread(revive_embedded, folder):
                            log.warning("the embedded PostgreSQL had stopped: started again in %s", folder)
                    except Exception:  # the next look tries again
                        log.warning("could not start the embedded PostgreSQL again", exc_info=True)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=2.0)

            async def keep_approvals_answered() -> None:  # at start, then every interval
                await settle_unanswered_writes(running, settings, stop)

            watcher = watcher_for(settings, parts.client, running.store)
            notifier = notifier_for(settings, running.store.pool)

            async def watch() -> None:
                for _ in range(120):  # severity needs the graph: let the first sync land (up to a minute)
                    if (await running.store.kg.counts())["jobs"] or stop.is_set():
                        break
                    await asyncio.sleep(0.5)
                after = notifier.after_pass if notifier else None
                await watch_periodically(watcher, settings.watch_interval_seconds, stop, after)

            conninfo = str(running.store.pool.conninfo)
            retry = min(settings.kg_sync_interval_seconds, 15.0)
            background = [  # one process of all the workers does each
                asyncio.create_task(lead(conninfo, "resync:kg-sync", keep_the_graph_synced, retry)),
                asyncio.create_task(lead(conninfo, "resync:prune", keep_within_retention, 60.0)),
                asyncio.create_task(lead(conninfo, "resync:approvals", keep_approvals_answered, retry)),
            ]
            background.append(asyncio.create_task(keep_the_embedded_database_up()))
            if settings.watch_interval_seconds > 0:
                background.append(asyncio.create_task(lead(conninfo, "resync:watch", watch, retry)))
            await _announce(parts.client, settings)
            try:
                yield
            finally:
                stop.set()
                for task in background:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    app = FastAPIOffline(  # Swagger UI and ReDoc from the package's own assets: /docs works offline
        title="Resync",
        version="0.1.0",
        lifespan=lifespan,
        description="AI operations assistant for IBM Workload Scheduler / HCL Workload Automation",
        dependencies=[Depends(no_unknown_query)],
    )
    exact_openapi(app)
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
    # the tool registry over MCP (streamable HTTP), behind the same API keys
    endpoint = HttpEndpoint(tools_server, lambda: app.state.resync.auth)
    app.router.routes.append(Route("/mcp", endpoint=endpoint, methods=["GET", "POST", "DELETE"]))
    install_errors(app)
    for router in (
        v2.router,
        chat.router,
        approvals.router,
        investigations.router,
        sla.router,
        ops.router,
        knowledge.router,
    ):
        document_errors(router)
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
