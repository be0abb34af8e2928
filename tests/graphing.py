"""Services for graph tests on real parts (simulator, embedded PostgreSQL, Redis)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel

from graph.context import Services
from graph.offline import OfflineChatModel
from tests.tooling import tool_context

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"


@asynccontextmanager
async def services(
    sim_url: str, pool: Any, pg_url: str, redis_url: str, model: BaseChatModel | None = None
) -> AsyncIterator[Services]:
    async with tool_context(sim_url, pool, pg_url, redis_url) as (ctx, catalog):
        assert ctx.documents is not None
        await ctx.documents.ingest([KNOWLEDGE])
        yield Services(
            client=ctx.client,
            catalog=catalog,
            chat_model=model or OfflineChatModel(),
            graph=ctx.graph,
            incidents=ctx.incidents,
            documents=ctx.documents,
            approvals=ctx.approvals,
            cache=ctx.cache,
            actions=ctx.actions,
        )
