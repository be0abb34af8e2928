"""Investigation records in PostgreSQL: one per failed run (or late job), idempotent by run id,
with the watcher's reading mark."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from .db import Pool

SEVERITIES = ("critical", "high", "medium", "low")
COLUMNS = (
    "run_id, kind, job_id, job_name, workstation, job_stream, status, return_code, occurred_at, category, "
    "severity, root_run_id, blocked_jobs, blocked_streams, critical_blocked, evidence, next_step, next_step_pt, action"
)


@dataclass
class Investigation:
    run_id: str
    kind: str  # failure | late
    job_name: str
    category: str
    severity: str
    next_step: str
    next_step_pt: str
    job_id: str | None = None
    workstation: str | None = None
    job_stream: str | None = None
    status: str | None = None
    return_code: int | None = None
    occurred_at: datetime | None = None
    root_run_id: str | None = None
    blocked_jobs: int = 0
    blocked_streams: int = 0
    critical_blocked: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    action: str | None = None
    id: int | None = None
    created_at: datetime | None = None

    def telling_line(self) -> dict[str, Any] | None:
        """The numbered log line that gave the cause away (the cause's match), else the first error line."""
        lines = self.evidence.get("log_lines") or []
        match = str(self.evidence.get("cause") or "").removeprefix("log: ").lower()
        found = next((line for line in lines if match and match in str(line.get("text", "")).lower()), None)
        return found or (lines[0] if lines else None)


def split_cascades(records: list[Investigation]) -> tuple[list[Investigation], dict[str, list[str]]]:
    """(the roots — records whose root failure is not among them — in their order; a root's run id →
    the job names of the records that follow from it)."""
    listed = {r.run_id for r in records}
    roots: list[Investigation] = []
    below: dict[str, list[str]] = {}
    for record in records:
        if record.root_run_id and record.root_run_id in listed:
            below.setdefault(record.root_run_id, []).append(record.job_name)
        else:
            roots.append(record)
    return roots, below


class InvestigationStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def known(self, run_ids: list[str]) -> set[str]:
        """The run ids that already have a record."""
        if not run_ids:
            return set()
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT run_id FROM investigations WHERE run_id = ANY(%s)", (run_ids,))
            return {row["run_id"] for row in await cur.fetchall()}

    async def save(self, record: Investigation) -> int | None:
        """Store a record; None when the run already had one (a second watcher, a restart)."""
        values = asdict(record)
        values["evidence"] = json.dumps(record.evidence, default=str)
        names = [c.strip() for c in COLUMNS.split(",")]
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"INSERT INTO investigations ({COLUMNS}) VALUES ({', '.join(['%s'] * len(names))}) "
                "ON CONFLICT (run_id) DO NOTHING RETURNING id",
                [values[name] for name in names],
            )
            row = await cur.fetchone()
        return int(row["id"]) if row else None

    async def search(
        self,
        since: datetime | None = None,
        severity: str | None = None,
        category: str | None = None,
        limit: int = 200,
    ) -> list[Investigation]:
        """Newest first; ``severity`` is a floor (``high``: critical and high)."""
        wanted = list(SEVERITIES[: SEVERITIES.index(severity) + 1]) if severity else list(SEVERITIES)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM investigations WHERE (%(since)s::timestamptz IS NULL OR coalesce(occurred_at, "
                "created_at) >= %(since)s) AND severity = ANY(%(sev)s) AND (%(cat)s::text IS NULL OR category = "
                "%(cat)s) ORDER BY coalesce(occurred_at, created_at) DESC, id DESC LIMIT %(limit)s",
                {"since": since, "sev": wanted, "cat": category, "limit": limit},
            )
            return [Investigation(**row) for row in await cur.fetchall()]

    async def get(self, investigation_id: int) -> Investigation | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM investigations WHERE id = %s", (investigation_id,))
            row = await cur.fetchone()
        return Investigation(**row) if row else None

    async def by_run(self, run_id: str) -> Investigation | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM investigations WHERE run_id = %s", (run_id,))
            row = await cur.fetchone()
        return Investigation(**row) if row else None

    async def latest_for_jobs(self, job_ids: list[str]) -> dict[str, str]:
        """job id → the run id of its newest failure record (to point a cascade at its root)."""
        if not job_ids:
            return {}
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT DISTINCT ON (job_id) job_id, run_id FROM investigations "
                "WHERE job_id = ANY(%s) AND kind = 'failure' ORDER BY job_id, occurred_at DESC NULLS LAST",
                (job_ids,),
            )
            return {row["job_id"]: row["run_id"] for row in await cur.fetchall()}

    async def mark(self, name: str) -> datetime | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT mark FROM watch_marks WHERE name = %s", (name,))
            row = await cur.fetchone()
        return row["mark"] if row else None

    async def set_mark(self, name: str, mark: datetime) -> None:
        """Move the mark forward (never back: two watchers cannot rewind each other)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO watch_marks (name, mark) VALUES (%s, %s) ON CONFLICT (name) DO UPDATE "
                "SET mark = greatest(watch_marks.mark, excluded.mark), updated_at = now()",
                (name, mark),
            )
