"""The audit trail of tool executions, written in batches: a read's row costs no database round
trip of its own (rows wait at most ``flush_seconds``, or until ``batch_size`` are pending, and go
in one statement); a write's row is written before the write's result is returned; ``aclose``
writes what is left."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from .db import Pool

log = logging.getLogger(__name__)

INSERT = (
    "INSERT INTO tool_executions (tool, caller, role, arguments, duration_ms, outcome, error, approval_id) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
Row = tuple[str, str, str, str, float, str, str | None, str | None]


class AuditLog:
    def __init__(self, pool: Pool, flush_seconds: float = 0.5, batch_size: int = 200) -> None:
        self.pool = pool
        self.flush_seconds = flush_seconds
        self.batch_size = batch_size
        self._pending: list[Row] = []
        self._timer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # one flush at a time: rows are written in the order they came
        self._counted: dict[tuple[str, str, str], int] = {}  # reads answered from a response cache
        self.dropped = 0

    def add(self, row: Row) -> None:
        """Queue a row; it is written within ``flush_seconds`` (sooner when a batch fills)."""
        self._pending.append(row)
        if len(self._pending) >= self.batch_size:
            self._schedule(0)
        elif self._timer is None or self._timer.done():
            self._schedule(self.flush_seconds)

    def count(self, tool: str, caller: str, role: str) -> None:
        """A read answered without running the tool (a cached response): audited in aggregate, one
        row per tool and caller per flush (``arguments``: how many)."""
        key = (tool, caller, role)
        self._counted[key] = self._counted.get(key, 0) + 1
        if self._timer is None or self._timer.done():
            self._schedule(self.flush_seconds)

    async def write(self, row: Row) -> None:
        """Queue a row and write it (with everything queued before it) now."""
        self._pending.append(row)
        await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            counted, self._counted = self._counted, {}
            rows, self._pending = self._pending, []
            rows += [
                (tool, caller, role, json.dumps({"cached_responses": n}), 0.0, "ok", None, None)
                for (tool, caller, role), n in counted.items()
            ]
            if not rows:
                return
            try:
                async with self.pool.connection() as conn, conn.cursor() as cur:
                    await cur.executemany(INSERT, rows)
            except asyncio.CancelledError:  # not written (the statement rolled back): they wait for the next
                self._pending[:0] = rows
                raise
            except Exception:  # the audit trail must not turn a tool's answer into a crash
                self.dropped += len(rows)
                log.exception("could not record %d tool execution(s)", len(rows))

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
        await self.flush()

    def _schedule(self, delay: float) -> None:
        async def later() -> None:
            await asyncio.sleep(delay)
            await self.flush()

        self._timer = asyncio.get_running_loop().create_task(later())

    def stats(self) -> dict[str, Any]:
        return {"pending": len(self._pending), "dropped": self.dropped}


async def execution_history(pool: Pool, limit: int = 50) -> list[dict[str, Any]]:
    """The newest tool executions, newest first."""
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT * FROM tool_executions ORDER BY id DESC LIMIT %s", (limit,))
        return [dict(row) for row in await cur.fetchall()]


async def execution_counts(pool: Pool) -> list[dict[str, Any]]:
    """Per tool: executions, mean duration (ms) and errors (error, invalid or refused outcomes)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT tool, count(*) AS n, avg(duration_ms) AS avg_ms, "
            "count(*) FILTER (WHERE outcome IN ('error', 'invalid', 'refused')) AS errors "
            "FROM tool_executions GROUP BY tool"
        )
        return [dict(row) for row in await cur.fetchall()]
