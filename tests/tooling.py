"""Build a full ToolContext on real parts (simulator, embedded PostgreSQL, Redis) for tool tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import tools.catalog  # noqa: F401  (registers the shipped tools)
from tools.cache import CacheManager
from tools.context import Parts, ToolContext
from tools.executor import ActionExecutor, ApprovalPolicy
from tools.hwa import HWAClient, HWAClientConfig
from tools.registry import ToolCatalog, get_tool_catalog
from tools.store.approvals import ApprovalStore
from tools.store.documents import DocumentStore
from tools.store.embeddings import make_embeddings
from tools.store.incidents import IncidentStore
from tools.store.kg import KnowledgeGraph
from tools.store.kg_sync import KnowledgeGraphSync


@asynccontextmanager
async def tool_context(
    sim_url: str,
    pool: Any,
    pg_url: str,
    redis_url: str,
    role: str = "operator",
    caller: str = "ana",
    approval_ttl: timedelta = timedelta(minutes=30),
    sync: bool = True,
    policy: ApprovalPolicy | None = None,
) -> AsyncIterator[tuple[ToolContext, ToolCatalog]]:
    catalog = get_tool_catalog().recording_to(pool)
    async with HWAClient(HWAClientConfig(sim_url, "admin", "admin")) as client:
        graph, incidents = KnowledgeGraph(pool), IncidentStore(pool)
        documents = await DocumentStore(pool, pg_url, make_embeddings("hashing")).open()
        cache = CacheManager(redis_url)
        await cache.invalidate_pattern("tws:*")
        if sync:
            await KnowledgeGraphSync(client, graph).sync(full=True)
            await incidents.harvest(client)
        approvals = ApprovalStore(pool, approval_ttl)
        parts = Parts(
            client,
            catalog,
            cache=cache,
            kg=graph,
            incidents=incidents,
            documents=documents,
            approvals=approvals,
            actions=ActionExecutor(client, approvals, cache, policy),
        )
        ctx = parts.for_caller(caller, role, thread_id=f"thread-{uuid.uuid4().hex[:8]}")
        try:
            yield ctx, catalog
        finally:
            await catalog.aclose()
            await documents.close()
            await cache.aclose()
