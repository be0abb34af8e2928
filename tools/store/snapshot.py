"""A snapshot of the plan as the knowledge graph stores it, and its bulk, idempotent upsert.

Rows are written with COPY into temporary tables and merged with ``INSERT … ON CONFLICT DO UPDATE
… WHERE row IS DISTINCT FROM``: a sync that finds nothing new changes nothing (zero rows touched).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]  # key columns first
    sticky: tuple[str, ...] = ()  # booleans that, once true, an incremental sync keeps true


WORKSTATIONS = Table("kg_workstations", ("id",), ("id", "name", "type", "os", "linked", "running"))
STREAMS = Table(
    "kg_job_streams",
    ("id",),
    ("id", "name", "workstation", "sched_time", "status", "deadline", "details_synced"),
    sticky=("details_synced",),
)
JOBS = Table(
    "kg_jobs",
    ("id",),
    (
        "id",
        "name",
        "workstation",
        "job_stream_id",
        "job_stream_name",
        "sched_time",
        "status",
        "return_code",
        "critical",
        "deadline",
        "details_synced",
    ),
    sticky=("details_synced",),
)
EDGES = Table(
    "kg_edges",
    ("pred_kind", "pred_id", "succ_kind", "succ_id"),
    ("pred_kind", "pred_id", "succ_kind", "succ_id", "dep_type"),
)
RUNS = Table(
    "job_runs",
    ("run_id",),
    (
        "run_id",
        "job_id",
        "job_name",
        "workstation",
        "job_stream",
        "started_at",
        "ended_at",
        "return_code",
        "status",
        "rerun_type",
    ),
)


@dataclass
class PlanSnapshot:
    workstations: list[tuple[Any, ...]] = field(default_factory=list)
    streams: list[tuple[Any, ...]] = field(default_factory=list)
    jobs: list[tuple[Any, ...]] = field(default_factory=list)
    edges: set[tuple[str, str, str, str, str]] = field(default_factory=set)
    runs: list[tuple[Any, ...]] = field(default_factory=list)
    detailed_jobs: set[str] = field(default_factory=set)  # jobs whose dependencies were fetched now
    detailed_streams: set[str] = field(default_factory=set)


@dataclass
class MergeCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0

    def __iadd__(self, other: MergeCounts) -> MergeCounts:
        self.inserted += other.inserted
        self.updated += other.updated
        self.deleted += other.deleted
        return self

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted


async def _stage(conn: AsyncConnection[Any], table: Table, rows: list[tuple[Any, ...]] | set[Any]) -> str:
    stage = f"stage_{table.name}"
    await conn.execute(f"CREATE TEMP TABLE {stage} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP")
    columns = ", ".join(table.columns)
    async with conn.cursor().copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
        for row in rows:
            await copy.write_row(row)
    return stage


async def merge(
    conn: AsyncConnection[Any], table: Table, rows: list[tuple[Any, ...]] | set[Any], delete_missing: bool
) -> MergeCounts:
    """Upsert ``rows`` into ``table``; with ``delete_missing`` also remove rows absent from them."""
    stage = await _stage(conn, table, rows)
    key = ", ".join(table.key)
    values = [c for c in table.columns if c not in table.key]
    counts = MergeCounts()
    assign = ", ".join(
        f"{c} = {table.name}.{c} OR EXCLUDED.{c}" if c in table.sticky else f"{c} = EXCLUDED.{c}" for c in values
    )
    changed = " OR ".join(f"{table.name}.{c} IS DISTINCT FROM EXCLUDED.{c}" for c in values if c not in table.sticky)
    sticky = " OR ".join(f"(EXCLUDED.{c} AND NOT {table.name}.{c})" for c in table.sticky)
    condition = " OR ".join(p for p in (changed, sticky) if p)
    touch = ", synced_at = now()" if table in (WORKSTATIONS, STREAMS, JOBS) else ""
    sql = (
        f"INSERT INTO {table.name} ({', '.join(table.columns)}) SELECT {', '.join(table.columns)} FROM {stage} "
        f"ON CONFLICT ({key}) DO UPDATE SET {assign}{touch} WHERE {condition} RETURNING (xmax = 0) AS inserted"
    )
    cur = await conn.execute(sql)
    for row in await cur.fetchall():
        if _first(row):
            counts.inserted += 1
        else:
            counts.updated += 1
    if delete_missing:
        cur = await conn.execute(
            f"DELETE FROM {table.name} t WHERE NOT EXISTS "
            f"(SELECT 1 FROM {stage} s WHERE {' AND '.join(f's.{k} = t.{k}' for k in table.key)})"
        )
        counts.deleted = cur.rowcount
    return counts


async def replace_edges_of(
    conn: AsyncConnection[Any], edges: set[tuple[str, str, str, str, str]], jobs: set[str], streams: set[str]
) -> MergeCounts:
    """Incremental sync: the detailed jobs/streams get exactly the incoming edges in ``edges``."""
    counts = await merge(conn, EDGES, edges, delete_missing=False)
    cur = await conn.execute(
        "DELETE FROM kg_edges e WHERE ((e.succ_kind = 'job' AND e.succ_id = ANY(%s)) "
        "OR (e.succ_kind = 'stream' AND e.succ_id = ANY(%s))) AND NOT EXISTS (SELECT 1 FROM stage_kg_edges s "
        "WHERE s.pred_kind = e.pred_kind AND s.pred_id = e.pred_id AND s.succ_kind = e.succ_kind "
        "AND s.succ_id = e.succ_id)",
        (list(jobs), list(streams)),
    )
    counts.deleted += cur.rowcount
    return counts


def _first(row: Any) -> Any:
    return row["inserted"] if isinstance(row, dict) else row[0]
