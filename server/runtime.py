"""The assembled application: store, scheduler client, cache, tools, model and checkpointer, built
once from the settings and handed to the graph as ``Services``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from graph.context import Services
from graph.models import make_chat_model
from graph.rules import KnownNames
from tools.actions import ActionExecutor, ApprovalPolicy
from tools.registry import get_tool_catalog
from tools.store.approvals import ApprovalStore

from .bootstrap import Store, load_tools, open_store, scheduler
from .settings import Settings
from .wiring import cache_manager


@dataclass
class App:
    settings: Settings
    store: Store
    services: Services
    checkpointer: AsyncPostgresSaver


def chat_model(settings: Settings) -> object:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return make_chat_model(
        settings.llm_model,
        base_url=settings.openai_base_url,
        api_key=key,
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout_seconds,
    )


def approval_policy(settings: Settings) -> ApprovalPolicy:
    actions = {a.strip() for a in settings.approval_four_eyes_actions.split(",") if a.strip()}
    return ApprovalPolicy(settings.approval_four_eyes, frozenset(actions))


@contextlib.asynccontextmanager
async def open_app(settings: Settings) -> AsyncIterator[App]:
    """Everything the graph needs, opened in order and closed in reverse."""
    store = await open_store(settings)
    cache = cache_manager(settings)
    try:
        async with scheduler(settings) as client:
            load_tools(settings)
            catalog = get_tool_catalog().recording_to(store.pool)
            checkpointer = AsyncPostgresSaver(store.pool)
            await checkpointer.setup()
            approvals = ApprovalStore(store.pool, timedelta(seconds=settings.approval_ttl_seconds))
            services = Services(
                client=client,
                catalog=catalog,
                chat_model=chat_model(settings),  # type: ignore[arg-type]
                graph=store.graph,
                incidents=store.incidents,
                documents=store.documents,
                approvals=approvals,
                cache=cache,
                actions=ActionExecutor(client, approvals, cache, approval_policy(settings)),
            )
            yield App(settings, store, services, checkpointer)
    finally:
        await cache.aclose()
        await store.close()


async def known_names(app: App) -> KnownNames:
    """Names from the knowledge graph; from the scheduler when the graph was never synced."""
    jobs, streams, stations = await app.store.graph.names()
    if not jobs:
        listed = [j async for j in app.services.client.iter_jobs()]
        jobs = sorted({j.name for j in listed})
        streams = sorted({j.job_stream_name for j in listed if j.job_stream_name})
        stations = sorted({(j.workstation or "").lstrip("/") for j in listed if j.workstation})
    return KnownNames(jobs, streams, stations)
