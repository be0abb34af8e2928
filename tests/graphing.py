"""The parts for graph tests on real parts (simulator, embedded PostgreSQL, Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from graph.models.offline import OfflineChatModel
from tests.tooling import tool_context
from tools.context import Parts

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


@asynccontextmanager
async def services(
    sim_url: str, pool: Any, pg_url: str, redis_url: str, model: BaseChatModel | None = None
) -> AsyncIterator[Parts]:
    async with tool_context(sim_url, pool, pg_url, redis_url) as (ctx, _catalog):
        assert ctx.documents is not None
        await ctx.documents.ingest([KNOWLEDGE])
        yield replace(ctx.parts, chat_model=model or OfflineChatModel())


@asynccontextmanager
async def services_on_a_new_database(
    sim_url: str, server_url: str, redis_url: str, model: BaseChatModel | None = None
) -> AsyncIterator[Parts]:
    """``services`` on a database of its own (for module-scoped fixtures of read-only tests)."""
    from tests.conftest import _fresh_database
    from tools.store.db import open_pool
    from tools.store.migrate import upgrade

    url = _fresh_database(server_url)
    pool = await open_pool(url)
    await upgrade(pool)
    try:
        async with services(sim_url, pool, url, redis_url, model) as built:
            yield built
    finally:
        await pool.close()
