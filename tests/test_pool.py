"""The pool's checkout check on a real PostgreSQL: a connection the server closed is replaced before
anyone uses it — at once when it was used a moment ago (no round trip: its socket is read for the
close), and by an empty query when it sat idle."""

from __future__ import annotations

import asyncio

import psycopg

from tools.store import db
from tools.store.db import open_pool


async def backend_of(pool: db.Pool) -> int:
    async with pool.connection() as conn:
        row = await (await conn.execute("SELECT pg_backend_pid() AS pid")).fetchone()
    assert row is not None
    return int(row["pid"])


async def test_a_connection_the_server_closed_is_replaced_at_checkout(pg_url: str) -> None:
    pool = await open_pool(pg_url, min_size=1, max_size=1)
    try:
        for idle in (0.0, db.RECENT_SECONDS + 0.2):  # checked without a round trip, then with one
            first = await backend_of(pool)
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (first,))
            await asyncio.sleep(idle + 0.1)  # the server's close reaches the socket
            assert await backend_of(pool) != first  # no error: a new connection answered
    finally:
        await pool.close()
