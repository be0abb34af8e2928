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

    async def undone(self, channel: str, keys: list[str], max_attempts: int) -> set[str]:
        """Those of ``keys`` that ``channel`` has neither received nor given up on (one query)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT key FROM notifications WHERE channel = %s AND key = ANY(%s) "
                "AND (status = 'sent' OR attempts >= %s)",
                (channel, keys, max_attempts),
            )
            finished = {row["key"] for row in await cur.fetchall()}
        return set(keys) - finished

    async def record(self, channel: str, keys: list[str], thread: str | None, error: str | None) -> None:
        """One delivery attempt of the message that carried ``keys``: sent, or failed with ``error``
        (never a secret) — for all of them in one statement."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO notifications (channel, key, thread_key, status, error) "
                "SELECT %s, k, %s, %s, %s FROM unnest(%s::text[]) AS k "
                "ON CONFLICT (channel, key) DO UPDATE SET status = excluded.status, error = excluded.error, "
                "attempts = notifications.attempts + 1, sent_at = now()",
                (channel, thread, "failed" if error else "sent", error, keys),
            )
