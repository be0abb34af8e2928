"""Open what the app stands on: the database (migrated, starter knowledge ingested at first start)
and the scheduler (the built-in simulator when no engine is configured)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass

from tools.hwa import HWAClient
from tools.store.db import Pool, database_url, open_pool
from tools.store.documents import DocumentStore
from tools.store.embeddings import ActiveEmbeddings, make_embeddings
from tools.store.incidents import IncidentStore
from tools.store.kg import KnowledgeGraph
from tools.store.migrate import upgrade

from .settings import Settings
from .wiring import hwa_client

log = logging.getLogger(__name__)


def load_tools(settings: Settings) -> list[str]:
    """Register the shipped tools and discover operators' own (``TOOL_MODULES``, ``resync_tools_*``)."""
    import tools.catalog  # noqa: F401  (importing registers the shipped tools)
    from tools.registry import get_tool_catalog

    modules = [m.strip() for m in settings.tool_modules.split(",") if m.strip()]
    return get_tool_catalog().discover(modules)


@dataclass
class Store:
    url: str
    pool: Pool
    graph: KnowledgeGraph
    incidents: IncidentStore
    documents: DocumentStore

    async def close(self) -> None:
        await self.documents.close()
        await self.pool.close()


def embeddings_for(settings: Settings) -> ActiveEmbeddings:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return make_embeddings(
        settings.embeddings, base_url=settings.openai_base_url, api_key=key, model=settings.embeddings_model
    )


async def open_store(settings: Settings, ingest_starter: bool = True) -> Store:
    """Start/attach the database, apply migrations, attach the document store; on an empty document
    store, ingest the starter knowledge base."""
    url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
    pool = await open_pool(url)
    try:
        applied = await upgrade(pool)
        if applied:
            log.info("database migrated: %s", ", ".join(f"{m.version:04d}_{m.name}" for m in applied))
        documents = await DocumentStore(pool, url, embeddings_for(settings)).open()
        if ingest_starter and not await documents.sources() and settings.knowledge_dir.is_dir():
            report = await documents.ingest([settings.knowledge_dir])
            log.info("starter knowledge base ingested: %d files, %d chunks", len(report.ingested), report.chunks)
    except BaseException:
        await pool.close()
        raise
    return Store(url, pool, KnowledgeGraph(pool), IncidentStore(pool), documents)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


@contextlib.asynccontextmanager
async def scheduler(settings: Settings) -> AsyncIterator[HWAClient]:
    """A client of the configured engine; with none configured, the built-in simulator is started
    on ``SIM_HOST:SIM_PORT`` for as long as the block runs (unless one already listens there)."""
    server_task = None
    if settings.uses_simulator and _port_free(settings.sim_host, settings.sim_port):
        import uvicorn

        from hwasim import SimConfig, build_plan, create_app

        config = SimConfig(jobs=settings.sim_jobs, seed=settings.sim_seed)
        plan = build_plan(config.seed, config.jobs, days=config.days, failure_rate=config.failure_rate)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(config, plan), host=settings.sim_host, port=settings.sim_port, log_level="warning"
            )
        )
        server_task = asyncio.create_task(server.serve())
        while not server.started and not server_task.done():  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
    client = hwa_client(settings)
    try:
        yield client
    finally:
        await client.aclose()
        if server_task is not None:
            server.should_exit = True
            await server_task
