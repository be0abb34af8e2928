"""Who may use Resync and whose conversations are whose: API keys (hashed at rest) and thread owners."""

from __future__ import annotations

from .db import Pool


async def insert_key(pool: Pool, name: str, key_hash: str, role: str) -> None:
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO api_keys (name, key_hash, role) VALUES (%s, %s, %s)", (name, key_hash, role))


async def key_owner(pool: Pool, key_hash: str) -> tuple[str, str] | None:
    """(name, role) of a key that is not revoked, or None."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT name, role FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL", (key_hash,)
        )
        row = await cur.fetchone()
    return (row["name"], row["role"]) if row else None


async def claim_thread(pool: Pool, thread_id: str, owner: str) -> str:
    """The thread's owner: ``owner`` when it is new (one round trip either way)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "WITH claimed AS (INSERT INTO chat_threads (thread_id, owner) VALUES (%s, %s)"
            " ON CONFLICT (thread_id) DO NOTHING RETURNING owner)"
            " SELECT owner FROM claimed UNION ALL SELECT owner FROM chat_threads WHERE thread_id = %s",
            (thread_id, owner, thread_id),
        )
        row = await cur.fetchone()
    return str(row["owner"]) if row else owner
