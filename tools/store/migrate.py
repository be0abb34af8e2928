"""Versioned schema migrations: ordered ``NNNN_name.sql`` files applied once each, under an advisory
lock so that two processes starting together do not race. ``resync db upgrade`` and every start call it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from .db import Pool, unbounded

LOCK_KEY = 0x5E5F_0001  # pg_advisory_xact_lock key of Resync's migrations
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available() -> list[Migration]:
    folder = resources.files("tools.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text()))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration versions: {versions}")
    return found


async def upgrade(pool: Pool) -> list[Migration]:
    """Apply the migrations not applied yet; returns those applied now (empty when up to date)."""
    with unbounded():  # schema work takes what it takes
        return await _apply(pool)


async def _apply(pool: Pool) -> list[Migration]:
    applied_now: list[Migration] = []
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS resync_schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur = await conn.execute("SELECT version FROM resync_schema_migrations")
        done = {row["version"] for row in await cur.fetchall()}
        for migration in available():
            if migration.version in done:
                continue
            await conn.execute(migration.sql, prepare=False)
            await conn.execute(
                "INSERT INTO resync_schema_migrations (version, name) VALUES (%s, %s)",
                (migration.version, migration.name),
            )
            applied_now.append(migration)
    return applied_now


async def current_version(pool: Pool) -> int:
    async with pool.connection() as conn:
        cur = await conn.execute("SELECT to_regclass('resync_schema_migrations') AS t")
        row = await cur.fetchone()
        if row is None or row["t"] is None:
            return 0
        cur = await conn.execute("SELECT coalesce(max(version), 0) AS v FROM resync_schema_migrations")
        result = await cur.fetchone()
        return int(result["v"]) if result else 0
