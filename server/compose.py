"""The composition root: every part Resync runs on, built once from ``Settings`` and closed in
reverse order — the database (migrated, starter knowledge ingested at first start), the scheduler
client (the built-in simulator when no engine is configured), the cache, the tools, the model, the
approval executor, the checkpointer and the compiled graph — as one ``App`` whose ``parts`` the
graph and the tools share (``open_app``)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.graph.state import CompiledStateGraph

from graph.classifier import KnownNames
from graph.context import Context
from graph.facade import ServiceOrchestrator
from graph.graph import build_graph
from graph.models.factory import make_chat_model
from graph.turns import TurnRunner
from graph.variants import Variant, assign, load_variant
from tools.cache import CacheManager, CacheTTLs, configure_cache_manager
from tools.context import Parts
from tools.days import ProductionDays, parse_start
from tools.executor import ActionExecutor, ApprovalPolicy
from tools.hwa import HWAClient, HWAClientConfig
from tools.registry import get_tool_catalog
from tools.services.notify import Notifier
from tools.services.watch import Watcher
from tools.store.approvals import ApprovalStore
from tools.store.db import Pool, database_url, one_at_a_time, open_pool, release_embedded, unbounded
from tools.store.documents import DocumentStore
from tools.store.embeddings import ActiveEmbeddings, make_embeddings
from tools.store.incidents import IncidentStore
from tools.store.investigations import InvestigationStore
from tools.store.kg import KnowledgeGraph
from tools.store.migrate import upgrade

from .auth import Authenticator
from .keys import parse_static_keys
from .limits import RateLimiter
from .settings import SIM_PASSWORD, SIM_USER, Settings, comma_list
from .simulator import builtin_simulator

log = logging.getLogger(__name__)
T = TypeVar("T")


# ---------------------------------------------------------------- the scheduler client and the cache
def engine_url(settings: Settings) -> str:
    return settings.tws_base_url or f"http://{settings.sim_host}:{settings.sim_port}"


def hwa_client_config(settings: Settings) -> HWAClientConfig:
    """The client settings; the built-in simulator is reached with its demo read-write user."""
    secret = settings.tws_password.get_secret_value() if settings.tws_password else None
    api_key = settings.tws_api_key.get_secret_value() if settings.tws_api_key else None
    username = settings.tws_username
    if settings.uses_simulator and not (username or api_key):
        username, secret = SIM_USER, SIM_PASSWORD
    return HWAClientConfig(
        base_url=engine_url(settings),
        username=username,
        password=secret,
        api_key=api_key,
        verify_tls=settings.tws_verify_tls,
        ca_bundle=str(settings.tws_ca_bundle) if settings.tws_ca_bundle else None,
        connect_timeout=settings.tws_connect_timeout,
        read_timeout=settings.tws_read_timeout,
        max_retries=settings.tws_max_retries,
        breaker_threshold=settings.tws_breaker_threshold,
        breaker_reset_seconds=settings.tws_breaker_reset_seconds,
        page_size=settings.tws_page_size,
    )


def hwa_client(settings: Settings) -> HWAClient:
    return HWAClient(hwa_client_config(settings))


def cache_manager(settings: Settings) -> CacheManager:
    """The process's cache manager, configured with the TTL settings."""
    ttls = CacheTTLs(
        job_status=settings.cache_ttl_job_status,
        logs=settings.cache_ttl_logs,
        dependencies=settings.cache_ttl_dependencies,
        static=settings.cache_ttl_static,
    )
    return configure_cache_manager(settings.redis_url, ttls)


# ---------------------------------------------------------------- the database and the scheduler
def load_tools(settings: Settings) -> list[str]:
    """Register the shipped tools and discover operators' own (``TOOL_MODULES``, ``resync_tools_*``)."""
    import tools.catalog  # noqa: F401  (importing registers the shipped tools)
    from tools.registry import get_tool_catalog

    modules = comma_list(settings.tool_modules)
    return get_tool_catalog().discover(modules)


@dataclass
class Store:
    url: str
    pool: Pool
    kg: KnowledgeGraph
    incidents: IncidentStore
    documents: DocumentStore
    embedded_dir: Path | None = None  # the embedded server's data folder (released on close)

    @property
    def investigations(self) -> InvestigationStore:
        return InvestigationStore(self.pool)

    async def close(self) -> None:
        try:
            await self.documents.close()
            await self.pool.close()
        finally:
            if self.embedded_dir is not None:
                await asyncio.to_thread(release_embedded, self.embedded_dir)


def embeddings_for(settings: Settings) -> ActiveEmbeddings:
    return make_embeddings(
        settings.embeddings,
        base_url=settings.openai_base_url,
        api_key=settings.openai_key,
        model=settings.embeddings_model,
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
        async with one_at_a_time(pool, "resync:schema"):  # workers starting together: one at a time
            applied = await upgrade(pool)
            if applied:
                log.info("database migrated: %s", ", ".join(f"{m.version:04d}_{m.name}" for m in applied))
            with unbounded():  # the document tables and the vectors' backfill: schema work
                embedder = await asyncio.to_thread(embeddings_for, settings)  # may probe the model server once
                documents = await DocumentStore(pool, url, embedder).open()
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


# ---------------------------------------------------------------- everything, assembled
@dataclass
class App:
    """The running application: its settings, the database, the parts, and what is built on them once
    (the compiled graph with its Postgres checkpointer, the API-key authenticator, the REST facade).
    Routes receive it through ``Depends(running)``; the graph receives ``parts`` through its Context."""

    settings: Settings
    store: Store
    parts: Parts
    graph: CompiledStateGraph[Any, Any, Any, Any]
    auth: Authenticator
    orchestrator: ServiceOrchestrator
    variants: list[Variant]  # online A/B: the variants live traffic is shared between
    by_variant: dict[str, Parts] = field(default_factory=dict)  # each variant's parts (its own model)

    def turn_context(
        self,
        caller: str,
        role: str,
        variant: Variant | None = None,
        *,
        stop: asyncio.Event | None = None,
        prompt_version: str | None = None,
    ) -> Context:
        """The context of one turn — the same for the server, the CLI and evaluations: who asks, the
        variant's knobs and model (the caller's assigned variant when none is given), and an explicit
        prompt version over the variant's."""
        chosen = variant or assign(caller, self.variants)
        context = chosen.apply(Context(role=role, caller=caller, parts=self.parts_for(chosen), stop=stop))
        return replace(context, prompt_version=prompt_version) if prompt_version else context

    @functools.cached_property
    def turns(self) -> TurnRunner:
        """The one runner of a turn, for the server's chat, ``resync chat`` and evaluations alike."""
        return TurnRunner(self.graph, self.store.pool, self.settings.checkpoint_durability)

    def parts_for(self, variant: Variant) -> Parts:
        """The parts a variant's runs use: these, with the variant's model (built once per variant)."""
        if variant.name not in self.by_variant:
            assert self.parts.chat_model is not None
            model = variant.chat_model(self.parts.chat_model, functools.partial(chat_model, self.settings))
            self.by_variant[variant.name] = replace(self.parts, chat_model=model)
        return self.by_variant[variant.name]

    # the server always opens these parts; typed without the Optional the tool layer allows
    @property
    def approvals(self) -> ApprovalStore:
        return _present(self.parts.approvals, "approvals")

    @property
    def actions(self) -> ActionExecutor:
        return _present(self.parts.actions, "actions")

    @property
    def incidents(self) -> IncidentStore:
        return _present(self.parts.incidents, "incidents")

    @property
    def documents(self) -> DocumentStore:
        return _present(self.parts.documents, "documents")

    @property
    def cache(self) -> CacheManager:
        return _present(self.parts.cache, "cache")

    @property
    def saver(self) -> BaseCheckpointSaver[Any]:
        """The compiled graph's Postgres checkpointer."""
        saver = self.graph.checkpointer
        if not isinstance(saver, BaseCheckpointSaver):
            raise RuntimeError("the graph was compiled without a checkpointer")
        return saver


def _present(part: T | None, name: str) -> T:
    if part is None:
        raise RuntimeError(f"the application was opened without {name}")
    return part


def chat_model(
    settings: Settings, model: str | None = None, base_url: str | None = None, api_key: str | None = None
) -> BaseChatModel:
    """The chat model with the settings' temperature, budget and reply cap: the configured one, or
    (a variant's) another model, server or key on the same terms."""
    return make_chat_model(
        model or settings.llm_model,
        base_url=base_url or settings.openai_base_url,
        api_key=api_key or settings.openai_key,
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout_seconds,
        max_tokens=settings.llm_max_tokens,
    )


def active_variants(settings: Settings) -> list[Variant]:
    """The variants of the online A/B test (``AB_VARIANTS``); with none, the baseline as the settings
    configure it (``PROMPT_VERSION``, ``TOKEN_BUDGET``)."""
    names = comma_list(settings.ab_variants)
    if not names:
        baseline = load_variant("baseline")
        return [
            baseline.model_copy(
                update={"prompt_version": settings.prompt_version, "token_budget": settings.token_budget}
            )
        ]
    variants = [load_variant(name) for name in names]
    idle = [v.name for v in variants if v.weight == 0 and any(other.weight > 0 for other in variants)]
    if idle:
        log.warning("AB_VARIANTS: %s have weight 0 and get no live traffic", ", ".join(idle))
    return variants


def approval_policy(settings: Settings) -> ApprovalPolicy:
    actions = set(comma_list(settings.approval_four_eyes_actions))
    return ApprovalPolicy(settings.approval_four_eyes, frozenset(actions), settings.approval_require_justification)


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
            async with one_at_a_time(store.pool, "resync:checkpointer-setup"):
                with unbounded():
                    await checkpointer.setup()
            approvals = ApprovalStore(store.pool, timedelta(seconds=settings.approval_ttl_seconds))
            parts = Parts(
                client=client,
                catalog=catalog,
                chat_model=chat_model(settings),
                model_budget_seconds=settings.llm_timeout_seconds,
                reader=reader_for(settings),
                days=ProductionDays(client, parse_start(settings.production_day_start)),
                kg=store.kg,
                incidents=store.incidents,
                documents=store.documents,
                approvals=approvals,
                cache=cache,
                actions=ActionExecutor(
                    client,
                    approvals,
                    cache,
                    approval_policy(settings),
                    lock_wait_seconds=settings.tws_read_timeout + settings.tws_connect_timeout,
                ),
            )
            limiter = RateLimiter(settings.rate_limit_per_minute, cache.redis)  # the cache's Redis client
            auth = Authenticator(store.pool, parse_static_keys(settings.api_keys), settings.auth_disabled, limiter)
            graph = build_graph().compile(checkpointer=checkpointer)
            try:
                async with auth.listening():
                    yield App(
                        settings, store, parts, graph, auth, ServiceOrchestrator.of(parts), active_variants(settings)
                    )
            finally:
                await catalog.aclose()  # the audit rows still queued
    finally:
        await cache.aclose()
        await store.close()


def watcher_for(settings: Settings, client: HWAClient, store: Store) -> Watcher:
    """The watcher on these parts, with the settings' concurrency and first look-back."""
    return Watcher(
        client,
        store.kg,
        store.incidents,
        store.investigations,
        settings.watch_concurrency,
        timedelta(hours=settings.watch_lookback_hours),
        reader=reader_for(settings),
    )


def reader_for(settings: Settings) -> Any | None:
    """The model that refines unsure diagnoses: only a configured one (offline, the catalogue decides)."""
    return chat_model(settings) if settings.openai_base_url or settings.openai_api_key else None


def notifier_for(settings: Settings, pool: Pool) -> Notifier | None:
    """The configured notification channels (None when there is none)."""
    channels = settings.notifier_channels()
    if not channels:
        return None
    return Notifier(pool, channels, settings.smtp(), digest_hour=settings.notify_digest_hour)


async def known_names(app: App) -> KnownNames:
    """Names from the knowledge graph; from the scheduler when the graph was never synced."""
    jobs, streams, stations = await app.store.kg.names()
    if not jobs:
        listed = [j async for j in app.parts.client.iter_jobs()]
        jobs = sorted({j.name for j in listed})
        streams = sorted({j.job_stream_name for j in listed if j.job_stream_name})
        stations = sorted({(j.workstation or "").lstrip("/") for j in listed if j.workstation})
    return KnownNames(jobs, streams, stations)
