"""Who may use Resync and whose conversations are whose: API keys (hashed at rest) and thread owners."""

from __future__ import annotations

from typing import Any

from psycopg.errors import UniqueViolation

from .db import Pool


class KeyNameTaken(ValueError):
    """Another key that is not revoked already has this name (a name is an identity)."""


async def insert_key(pool: Pool, name: str, key_hash: str, role: str) -> int:
    """The new key's id; KeyNameTaken when an active key already has ``name``."""
    try:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO api_keys (name, key_hash, role) VALUES (%s, %s, %s) RETURNING id", (name, key_hash, role)
            )
            row = await cur.fetchone()
    except UniqueViolation:
        raise KeyNameTaken(f"an active key is already named {name!r}; choose another --name") from None
    assert row is not None
    return int(row["id"])


async def key_owner(pool: Pool, key_hash: str) -> tuple[int, str, str] | None:
    """(id, name, role) of a key that is not revoked, or None."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT id, name, role FROM api_keys WHERE key_hash = %s AND revoked_at IS NULL", (key_hash,)
        )
        row = await cur.fetchone()
    return (int(row["id"]), row["name"], row["role"]) if row else None


async def list_keys(pool: Pool) -> list[dict[str, Any]]:
    """Every key (never its hash): id, name, role, created_at, revoked_at."""
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY id")
        return list(await cur.fetchall())


async def revoke_key(pool: Pool, key_id: int) -> dict[str, Any] | None:
    """Revoke the key (it stops working at its next request); the row, or None when there is no such key."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = %s"
            " RETURNING id, name, role, created_at, revoked_at",
            (key_id,),
        )
        return await cur.fetchone()


async def claim_thread(pool: Pool, thread_id: str, owner: str) -> str:
    """The thread's owner: ``owner`` when it is new. One statement that always returns the row's owner
    (a racing second claimant waits for the first and gets the first's name, never its own)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO chat_threads (thread_id, owner) VALUES (%s, %s)"
            " ON CONFLICT (thread_id) DO UPDATE SET owner = chat_threads.owner RETURNING owner",
            (thread_id, owner),
        )
        row = await cur.fetchone()
    if row is None:
        raise RuntimeError(f"thread {thread_id} could not be claimed")
    return str(row["owner"])
