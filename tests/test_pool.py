"""The pool's checkout check on a real PostgreSQL: a connection used a moment ago with nothing on its
socket is taken without a round trip; one the server closed is replaced before anyone uses it —
found on its socket when it was used a moment ago, by an empty query when it sat idle."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest
from psycopg_pool import AsyncConnectionPool

from tools.store import db
from tools.store.db import open_pool


async def backend_of(pool: db.Pool) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone()
    assert row is not None
    return int(row["pid"])


def terminate(url: str, pid: int) -> None:
    """End a backend and wait until the server has let it go (its socket closed)."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        deadline = time.monotonic() + 10
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the backend did not end"
            time.sleep(0.02)


async def test_the_checkout_check_costs_a_round_trip_only_when_needed(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_trips: list[int] = []
    original = AsyncConnectionPool.check_connection

    async def counted(conn: Any) -> None:
        round_trips.append(1)
        await original(conn)

    monkeypatch.setattr(AsyncConnectionPool, "check_connection", counted)
    pool = await open_pool(pg_url, min_size=1, max_size=1)
    try:
        first = await backend_of(pool)
        before = len(round_trips)
        assert await backend_of(pool) == first and len(round_trips) == before  # used a moment ago: none
        terminate(pg_url, first)
        second = await backend_of(pool)  # the close is on the socket: checked, replaced, no error
        assert second != first and len(round_trips) > before
        await asyncio.sleep(db.RECENT_SECONDS + 0.2)
        before = len(round_trips)
        assert await backend_of(pool) == second and len(round_trips) == before + 1  # idle: one empty query
        await asyncio.sleep(db.RECENT_SECONDS + 0.2)
        terminate(pg_url, second)
        assert await backend_of(pool) != second  # idle and closed: the empty query fails, a new one answers
    finally:
        await pool.close()
