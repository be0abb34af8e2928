"""Work that must run in one process at a time however many workers serve (the knowledge-graph
sync): whoever holds a PostgreSQL advisory lock does it; the others try again every few seconds and
take over when the leader goes (its connection closes, the lock is released). Replicas on other hosts
share the database: a leader whose host vanishes without closing its connection is noticed by the
server's TCP keepalives, set short on the leader's connection (about 25 s), and its lock released."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg

from .db import bounded

log = logging.getLogger(__name__)

# the server probes a silent leader after 10 s idle, every 5 s, and drops it after 3 missed probes;
# data it sent that stays unacknowledged for 25 s drops it too (keepalives wait behind retransmission)
KEEPALIVES = (
    "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3; "
    "SET tcp_user_timeout = 25000"
)
CHECK_SECONDS = 5.0  # the leader's own check of its connection: unanswered this long, it stops leading


async def lead(
    conninfo: str, name: str, work: Callable[[], Coroutine[Any, Any, None]], retry_seconds: float = 10.0
) -> None:
    """Run ``work`` while this process holds the advisory lock ``name`` (held by a connection of its
    own, checked every ``retry_seconds``); wait and try again otherwise. Runs until cancelled."""
    while True:
        task: asyncio.Task[None] | None = None
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(KEEPALIVES)
                cur = await conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (name,))
                row = await cur.fetchone()
                if row and row[0]:
                    log.info("this process leads %s", name)
                    task = asyncio.create_task(work())
                    while not task.done():
                        await asyncio.wait({task}, timeout=retry_seconds)
                        if not task.done():
                            # the lock lives with this connection: unanswered (a partition), stop leading
                            await bounded(lambda: conn.execute("SELECT 1"), CHECK_SECONDS)
                    await task  # work that ends ends the leadership (its error is logged below)
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database went away: the lock with it; try again
            log.warning("%s: not leading (%s); trying again in %.0f s", name, exc, retry_seconds)
        finally:
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await asyncio.sleep(retry_seconds)
