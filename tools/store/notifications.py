"""The notification outbox's table: which investigations a channel still has to receive, and what
happened to each delivery (sent, or failed with the reason and how many attempts)."""

from __future__ import annotations

from .db import Pool
from .investigations import Investigation


class Outbox:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def pending(self, channel: str, severities: list[str], max_attempts: int, limit: int) -> list[Investigation]:
        """Investigations of the last two days at one of ``severities`` that ``channel`` has neither
        received nor given up on, oldest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT i.* FROM investigations i WHERE i.created_at > now() - interval '2 days' "
                "AND i.severity = ANY(%s) AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.channel = %s "
                "AND n.key = 'investigation:' || i.id AND (n.status = 'sent' OR n.attempts >= %s)) "
                "ORDER BY i.id LIMIT %s",
                (severities, channel, max_attempts, limit),
            )
            return [Investigation(**row) for row in await cur.fetchall()]

    async def done(self, channel: str, key: str, max_attempts: int) -> bool:
        """Whether ``key`` was sent to ``channel``, or failed there ``max_attempts`` times."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT status, attempts FROM notifications WHERE channel = %s AND key = %s", (channel, key)
            )
            row = await cur.fetchone()
        return row is not None and (row["status"] == "sent" or row["attempts"] >= max_attempts)

    async def record(self, channel: str, key: str, thread: str | None, error: str | None) -> None:
        """One delivery attempt: sent, or failed with ``error`` (never a secret)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO notifications (channel, key, thread_key, status, error) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (channel, key) DO UPDATE SET status = excluded.status, error = excluded.error, "
                "attempts = notifications.attempts + 1, sent_at = now()",
                (channel, key, thread, "failed" if error else "sent", error),
            )
