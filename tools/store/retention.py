"""How long records are kept, and the pruning that enforces it (settings ``RETENTION_*``; 0 keeps
forever; notifications follow the investigations' days). Run by one server process every
``PRUNE_INTERVAL_SECONDS`` (``server.leader``) and by ``resync db prune``. The approvals (the
record of every write to the scheduler) and the incident history are never pruned."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from .db import Pool, unbounded

BATCH = 5000  # rows (or threads) per statement: no long lock on a busy table


@dataclass(frozen=True)
class Retention:
    tool_executions_days: int = 30
    threads_days: int = 30  # a conversation's checkpoints, from its last turn
    answers_days: int = 180  # answer runs and their feedback (the online A/B record)
    investigations_days: int = 90


@dataclass
class PruneReport:
    tool_executions: int = 0
    threads: int = 0
    answers: int = 0
    investigations: int = 0
    notifications: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _delete_older(pool: Pool, table: str, column: str, days: int, key: str) -> int:
    """Delete rows of ``table`` older than ``days`` days, in batches; how many went."""
    if days <= 0:
        return 0
    total = 0
    while True:
        async with pool.connection() as conn:
            exists = await (await conn.execute("SELECT to_regclass(%s) IS NOT NULL AS ok", (table,))).fetchone()
            if not exists or not exists["ok"]:
                return 0
            cur = await conn.execute(
                f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} "
                f"WHERE {column} < now() - make_interval(days => %s) LIMIT %s)",
                (days, BATCH),
            )
            total += cur.rowcount
            if cur.rowcount < BATCH:
                return total


async def idle_threads(pool: Pool, days: int, limit: int = BATCH) -> list[str]:
    """Threads whose last checkpoint is older than ``days`` days."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT thread_id FROM checkpoints WHERE checkpoint_ns = '' GROUP BY thread_id "
            "HAVING max((checkpoint->>'ts')::timestamptz) < now() - make_interval(days => %s) LIMIT %s",
            (days, limit),
        )
        return [row["thread_id"] for row in await cur.fetchall()]


async def prune(pool: Pool, saver: BaseCheckpointSaver[Any], retention: Retention) -> PruneReport:
    with unbounded():  # bulk deletes of a large database take what they take
        return await _prune(pool, saver, retention)


async def _prune(pool: Pool, saver: BaseCheckpointSaver[Any], retention: Retention) -> PruneReport:
    started = time.perf_counter()
    report = PruneReport()
    report.tool_executions = await _delete_older(
        pool, "tool_executions", "created_at", retention.tool_executions_days, "id"
    )
    report.answers = await _delete_older(pool, "answer_runs", "created_at", retention.answers_days, "run_id")
    report.investigations = await _delete_older(
        pool, "investigations", "created_at", retention.investigations_days, "id"
    )
    report.notifications = await _delete_older(  # what was sent about them goes with them
        pool, "notifications", "sent_at", retention.investigations_days, "id"
    )
    if retention.threads_days > 0:
        while threads := await idle_threads(pool, retention.threads_days):
            for thread_id in threads:
                await saver.adelete_thread(thread_id)
            async with pool.connection() as conn:
                await conn.execute("DELETE FROM chat_threads WHERE thread_id = ANY(%s)", (threads,))
            report.threads += len(threads)
            if len(threads) < BATCH:
                break
    report.seconds = round(time.perf_counter() - started, 3)
    return report
