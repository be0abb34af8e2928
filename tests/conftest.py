"""Shared fixtures: a simulator on a real socket (manual clock), spec loading."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from hwasim import SimConfig, build_plan, create_app
from server.app import create_app as create_api
from server.keys import create_key, hash_key
from tests.apiclient import app_settings
from tests.live import LiveServer

SHARED = Path(__file__).resolve().parents[2] / "shared"
SPEC_PATH = SHARED / "reference" / "hwa-rest-api-v2.openapi.json"
ANCHOR = datetime(2026, 3, 12, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    # CI has shared/ beside the checkout: a missing spec is a failure, never a skip
    assert SPEC_PATH.is_file(), f"official spec not found at {SPEC_PATH}"
    text = SPEC_PATH.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError:  # the stored document once had trailing commas
        return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


def sim_config(**overrides: Any) -> SimConfig:
    values: dict[str, Any] = {
        "users": "admin:admin:rw,viewer:viewer:ro",
        "api_keys": "rw-key-123:rw,ro-key-456:ro",
        "jobs": 300,
        "seed": 42,
        "clock": "manual",
    }
    values.update(overrides)
    return SimConfig(**values)


@pytest.fixture(scope="session")
def sim() -> Iterator[LiveServer]:
    """One simulator for read-only tests (do not mutate its plan)."""
    config = sim_config()
    plan = build_plan(config.seed, config.jobs, anchor=ANCHOR)
    with LiveServer(create_app(config, plan)) as server:
        yield server


@pytest.fixture(scope="session")
def now_sim() -> Iterator[LiveServer]:
    """A read-only simulator anchored at the current time (for "last N hours" questions)."""
    config = sim_config()
    with LiveServer(create_app(config, build_plan(config.seed, config.jobs))) as server:
        yield server


@pytest.fixture
def fresh_now_sim() -> Iterator[LiveServer]:
    """A simulator of its own anchored at the current time, for tests that act on it."""
    config = sim_config()
    with LiveServer(create_app(config, build_plan(config.seed, config.jobs))) as server:
        yield server


@pytest.fixture
def fresh_sim() -> Iterator[LiveServer]:
    """A simulator of its own, for tests that act on the plan or inject faults."""
    config = sim_config()
    plan = build_plan(config.seed, config.jobs, anchor=ANCHOR)
    with LiveServer(create_app(config, plan)) as server:
        yield server


@pytest.fixture
def admin_http(fresh_sim: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fresh_sim.url, timeout=10) as client:
        yield client


# ---------------------------------------------------------------------------- PostgreSQL
DEBIAN_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def embedded_pg(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The embedded PostgreSQL 18 + pgvector, one server for the session (a fresh database per test)."""
    from tools.store.db import embedded_url

    return embedded_url(tmp_path_factory.mktemp("pg") / "data")


def _fresh_database(server_url: str) -> str:
    import uuid

    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return make_conninfo(**{**conninfo_to_dict(server_url), "dbname": name})


@pytest.fixture
def pg_url(embedded_pg: str) -> str:
    return _fresh_database(embedded_pg)


@pytest.fixture
def pg15_url() -> str:
    """A fresh database on the machine's PostgreSQL 15 (no pgvector)."""
    return _fresh_database(DEBIAN_PG)


@pytest.fixture
async def pool(pg_url: str) -> Any:
    from tools.store.db import open_pool
    from tools.store.migrate import upgrade

    db = await open_pool(pg_url)
    await upgrade(db)
    yield db
    await db.close()


# ---------------------------------------------------------------------------- Redis of the tests' own
@pytest.fixture(scope="session")
def session_redis() -> Iterator[Any]:
    from tests.redis_server import RedisServer

    server = RedisServer()
    server.start()
    yield server
    server.stop()


# ---------------------------------------------------------------------------- the HTTP API
@pytest.fixture
async def keys(pool: Any) -> dict[str, str]:
    return {role: (await create_key(pool, role, f"{role}-user"))[2] for role in ("viewer", "operator", "admin")}


@pytest.fixture
def api(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, keys: dict[str, str]
) -> Iterator[LiveServer]:
    redis.Redis.from_url(session_redis.url).flushdb()  # the tests' Redis is shared: each app starts cold
    settings = app_settings(
        fresh_now_sim, pg_url, session_redis, tmp_path, api_keys=f"{hash_key('static-admin-key')}:admin:ops-bot"
    )
    with LiveServer(create_api(settings)) as server:
        yield server


LAST_STARTED = Path(__file__).resolve().parents[1] / ".pytest-last-started"


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Name the running test in a file, so a crash of the interpreter (a C extension's abort) says where it was."""
    LAST_STARTED.write_text(nodeid + "\n")


# ---------------------------------------------------------------- no network attempt, on any path
OUTBOUND: list[str] = []  # connections and name lookups beyond this machine that tests tried
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _local(host: object) -> bool:
    if not isinstance(host, str) or host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False  # a name: resolving it is already a network attempt


def _guard(address: object, what: str) -> None:
    if isinstance(address, tuple) and not _local(address[0]):
        OUTBOUND.append(f"{what} {address[0]}:{address[1]}")
        raise OSError(f"tests may not reach beyond this machine ({address[0]})")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _guard(address, "connect")
    return _connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _guard(address, "connect")
    return _connect_ex(self, address)  # type: ignore[arg-type]


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    if isinstance(host, bytes):
        host = host.decode()
    if host is not None and not _local(host):
        OUTBOUND.append(f"resolve {host}")
        raise socket.gaierror(socket.EAI_NONAME, f"tests may not resolve {host}")
    return _getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]


@pytest.fixture(autouse=True)
def no_outbound_connections() -> Iterator[None]:
    """Every test, on every path (server, CLI in-process, evaluation, background threads): nothing may
    try to reach beyond this machine — no telemetry, no tracing upload, no model download."""
    OUTBOUND.clear()
    yield
    tried, OUTBOUND[:] = list(OUTBOUND), []
    assert not tried, f"tried to reach the network: {tried[:5]}"
