"""Open what the app stands on: the database (migrated, starter knowledge ingested at first start)
and the scheduler (the built-in simulator when no engine is configured)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tools.hwa import HWAClient
from tools.store.db import Pool, database_url, open_pool, release_embedded
from tools.store.documents import DocumentStore
from tools.store.embeddings import ActiveEmbeddings, make_embeddings
from tools.store.incidents import IncidentStore
from tools.store.kg import KnowledgeGraph
from tools.store.migrate import upgrade

from .settings import Settings
from .simulator import builtin_simulator
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
    embedded_dir: Path | None = None  # the embedded server's data folder (released on close)

    async def close(self) -> None:
        try:
            await self.documents.close()
            await self.pool.close()
        finally:
            if self.embedded_dir is not None:
                await asyncio.to_thread(release_embedded, self.embedded_dir)


def embeddings_for(settings: Settings) -> ActiveEmbeddings:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return make_embeddings(
        settings.embeddings, base_url=settings.openai_base_url, api_key=key, model=settings.embeddings_model
    )


async def open_store(settings: Settings, ingest_starter: bool = True) -> Store:
    """Start/attach the database, apply migrations, attach the document store; on an empty document
    store, ingest the starter knowledge base."""
    embedded = None if settings.database_url else settings.data_dir / "pg"
    url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
    try:
        pool = await open_pool(url)
    except BaseException:
        if embedded is not None:
            await asyncio.to_thread(release_embedded, embedded)
        raise
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
        if embedded is not None:
            await asyncio.to_thread(release_embedded, embedded)
        raise
    return Store(url, pool, KnowledgeGraph(pool), IncidentStore(pool), documents, embedded)


@contextlib.asynccontextmanager
async def scheduler(settings: Settings) -> AsyncIterator[HWAClient]:
    """A client of the configured engine; with none configured, of the built-in simulator (started
    for as long as the block runs unless one already answers on ``SIM_HOST:SIM_PORT``)."""
    async with contextlib.AsyncExitStack() as stack:
        if settings.uses_simulator:
            await stack.enter_async_context(builtin_simulator(settings))
        client = hwa_client(settings)
        stack.push_async_callback(client.aclose)
        yield client
