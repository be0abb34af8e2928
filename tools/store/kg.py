"""The knowledge graph in PostgreSQL, queried relationally (recursive CTEs with depth limits).

Closures follow how work flows: job→job dependencies, a job→its job stream (a stream completes after
its jobs), and a predecessor stream→the jobs of streams that wait for it — breadth-first in one
round trip (``kg_closure``, migration 0009), each node expanded once. See docs/knowledge-graph.md.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tools.hwa.models import WAITING_STATUSES

from .db import Pool
from .snapshot import EDGES, JOBS, RUNS, STREAMS, WORKSTATIONS, MergeCounts, PlanSnapshot, merge, replace_edges_of

MAX_DEPTH = 25
NAMES_MAX_AGE = 30.0  # seconds the names of the graph are kept without a sync of this process


@dataclass(frozen=True)
class GraphNode:
    kind: str  # job | stream
    id: str
    name: str
    depth: int
    status: str | None
    workstation: str | None
    job_stream: str | None
    critical: bool
    deadline: datetime | None


@dataclass(frozen=True)
class Impact:
    job: dict[str, Any]
    blocked_jobs: list[GraphNode]
    blocked_streams: list[str]
    critical_jobs: list[GraphNode]
    with_deadline: list[GraphNode]


def _depth(depth: int) -> int:
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be between 1 and {MAX_DEPTH}")
    return depth


ANALYZE_AFTER = 5_000  # rows changed by one sync that make the planner's statistics stale (autovacuum is late)


class KnowledgeGraph:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.generation = 0  # bumped by every sync this process applies
        self._names: tuple[int, float, tuple[list[str], list[str], list[str]]] | None = None

    # ---------------------------------------------------------------- writes
    async def apply(self, snapshot: PlanSnapshot, full: bool) -> dict[str, MergeCounts]:
        """Store a snapshot in one transaction; ``full`` also deletes what the plan no longer has."""
        async with self.pool.connection() as conn, conn.transaction():
            counts = {
                "workstations": await merge(conn, WORKSTATIONS, snapshot.workstations, delete_missing=full),
                "job_streams": await merge(conn, STREAMS, snapshot.streams, delete_missing=full),
                "jobs": await merge(conn, JOBS, snapshot.jobs, delete_missing=full),
                "runs": await merge(conn, RUNS, snapshot.runs, delete_missing=False),
            }
            if full:
                counts["edges"] = await merge(conn, EDGES, snapshot.edges, delete_missing=True)
            else:
                counts["edges"] = await replace_edges_of(
                    conn, snapshot.edges, snapshot.detailed_jobs, snapshot.detailed_streams
                )
        if sum(c.changed for c in counts.values()) >= ANALYZE_AFTER:
            async with self.pool.connection() as conn:  # fresh statistics: the closures' plans depend on them
                await conn.execute("ANALYZE kg_jobs, kg_job_streams, kg_edges, job_runs")
        self.generation += 1
        return counts

    # ---------------------------------------------------------------- lookups
    async def known_names(self) -> tuple[list[str], list[str], list[str]]:
        """``names()`` kept between syncs: read again after each sync this process applies, at least every
        ``NAMES_MAX_AGE`` seconds (another worker may lead the syncs), and while the graph is empty."""
        now = time.monotonic()
        if self._names is not None and self._names[0] == self.generation and now - self._names[1] < NAMES_MAX_AGE:
            return self._names[2]
        names = await self.names()
        if names[0]:
            self._names = (self.generation, now, names)
        return names

    async def names(self) -> tuple[list[str], list[str], list[str]]:
        """(job names, job stream names, workstation names) the graph knows."""
        async with self.pool.connection() as conn:
            found = []
            for table in ("kg_jobs", "kg_job_streams", "kg_workstations"):
                cur = await conn.execute(f"SELECT DISTINCT name FROM {table} ORDER BY name")
                found.append([row["name"] for row in await cur.fetchall()])
        return found[0], found[1], found[2]

    async def ids(
        self, kind: Literal["jobs", "job_streams"], without_details: bool = False, status_not_in: Collection[str] = ()
    ) -> set[str]:
        """Ids of the jobs (or job streams) in the graph; ``without_details``: only those whose
        dependencies were never fetched; ``status_not_in``: only those whose status is none of these."""
        table = {"jobs": "kg_jobs", "job_streams": "kg_job_streams"}[kind]
        where = " WHERE NOT details_synced" if without_details else ""
        if status_not_in:
            where = " WHERE NOT (coalesce(status, '') = ANY(%(stable)s))"
        async with self.pool.connection() as conn:
            cur = await conn.execute(f"SELECT id FROM {table}{where}", {"stable": sorted(status_not_in)})
            return {row["id"] for row in await cur.fetchall()}

    async def find_job(self, name: str, workstation: str | None = None) -> dict[str, Any] | None:
        """The newest instance of a job by exact name (then case-insensitively)."""
        sql = (
            "SELECT * FROM kg_jobs WHERE {cond} AND (%(ws)s::text IS NULL OR workstation = %(ws)s) "
            "ORDER BY sched_time DESC NULLS LAST LIMIT 1"
        )
        ws = None if workstation is None else (workstation if workstation.startswith("/") else f"/{workstation}")
        async with self.pool.connection() as conn:
            for cond in ("name = %(name)s", "upper(name) = upper(%(name)s)"):
                cur = await conn.execute(sql.format(cond=cond), {"name": name, "ws": ws})
                row = await cur.fetchone()
                if row:
                    return dict(row)
        return None

    async def latest_instance(self, name: str) -> tuple[str, str | None] | None:
        """The id of the newest instance of a job (exact name) as last synced, and its newest started run's
        id: a guess to start reads early — the scheduler's answer decides what is used."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT j.id, (SELECT r.run_id FROM job_runs r WHERE r.job_id = j.id AND r.started_at IS NOT NULL "
                "ORDER BY r.started_at DESC LIMIT 1) AS run_id "
                "FROM kg_jobs j WHERE j.name = %s ORDER BY j.sched_time DESC NULLS LAST LIMIT 1",
                (name,),
            )
            row = await cur.fetchone()
        return (row["id"], row["run_id"]) if row else None

    async def late_jobs(self, now: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Jobs whose deadline has passed, that had not ended (as last synced) and have no late record yet,
        newest deadline first (old stuck ones never starve new ones)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT j.* FROM kg_jobs j WHERE j.deadline < %s AND coalesce(j.status, '') NOT IN "
                "('SUCC', 'CANCL', 'CANCEL', 'SUPPR', 'ABEND', 'FAIL') AND NOT EXISTS (SELECT 1 FROM investigations i "
                "WHERE i.run_id = 'late:' || j.id) ORDER BY j.deadline DESC LIMIT %s",
                (now, limit),
            )
            return [dict(row) for row in await cur.fetchall()]

    async def runs_of(self, job_name: str, since: datetime, limit: int = 100) -> list[dict[str, Any]]:
        """The job's recorded runs (reruns included) that started since ``since``, newest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT run_id, started_at, ended_at, status, return_code, rerun_type, workstation FROM job_runs "
                "WHERE job_name = %s AND coalesce(started_at, recorded_at) >= %s "
                "ORDER BY started_at DESC NULLS LAST LIMIT %s",
                (job_name.upper(), since, limit),
            )
            return [dict(row) for row in await cur.fetchall()]

    async def counts(self) -> dict[str, int]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT (SELECT count(*) FROM kg_workstations) AS workstations, "
                "(SELECT count(*) FROM kg_job_streams) AS job_streams, (SELECT count(*) FROM kg_jobs) AS jobs, "
                "(SELECT count(*) FROM kg_edges) AS edges, (SELECT count(*) FROM job_runs) AS runs"
            )
            row = await cur.fetchone()
            return {k: int(v) for k, v in (row or {}).items()}

    # ---------------------------------------------------------------- closures
    async def closure(self, job_id: str, direction: Literal["down", "up"], depth: int = 3) -> list[GraphNode]:
        """Jobs and streams reachable from ``job_id`` downstream (dependents) or upstream (what it waits for)."""
        sql = """
            SELECT n.node_kind AS kind, n.node_id AS id, n.node_depth AS depth,
                   coalesce(j.name, s.name) AS name, coalesce(j.status, s.status) AS status,
                   coalesce(j.workstation, s.workstation) AS workstation, j.job_stream_name AS job_stream,
                   coalesce(j.critical, false) AS critical, coalesce(j.deadline, s.deadline) AS deadline
              FROM kg_closure(%(job)s, %(down)s, %(depth)s) n
              LEFT JOIN kg_jobs j ON n.node_kind = 'job' AND j.id = n.node_id
              LEFT JOIN kg_job_streams s ON n.node_kind = 'stream' AND s.id = n.node_id
             ORDER BY n.node_depth, name
        """
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, {"job": job_id, "down": direction == "down", "depth": _depth(depth)})
            return [GraphNode(**row) for row in await cur.fetchall()]

    async def downstream(self, job_id: str, depth: int = 3) -> list[GraphNode]:
        return await self.closure(job_id, "down", depth)

    async def upstream(self, job_id: str, depth: int = 3) -> list[GraphNode]:
        return await self.closure(job_id, "up", depth)

    async def impact(self, job_id: str, depth: int = 10) -> Impact:
        """What a failure of ``job_id`` blocks: dependent jobs and streams, the critical ones, deadlines."""
        job = await self._job(job_id)
        nodes = await self.downstream(job_id, depth)
        blocked = [n for n in nodes if n.kind == "job" and (n.status in WAITING_STATUSES or n.status is None)]
        streams = sorted(
            {n.name for n in nodes if n.kind == "stream"} | {n.job_stream for n in blocked if n.job_stream}
        )
        return Impact(
            job=job,
            blocked_jobs=blocked,
            blocked_streams=streams,
            critical_jobs=[n for n in blocked if n.critical],
            with_deadline=sorted((n for n in blocked if n.deadline), key=lambda n: n.deadline or datetime.max),
        )

    async def path(self, from_job: str, to_job: str, max_depth: int = 10) -> list[str] | None:
        """The shortest chain of job ids from ``from_job`` to ``to_job`` following dependencies, if any."""
        sql = """
            WITH RECURSIVE walk(id, path) AS (
                SELECT %(src)s::text, ARRAY[%(src)s::text]
                UNION ALL
                SELECT f.succ_id, w.path || f.succ_id
                  FROM walk w JOIN kg_flow f ON f.pred_kind = 'job' AND f.succ_kind = 'job' AND f.pred_id = w.id
                 WHERE cardinality(w.path) <= %(depth)s AND NOT f.succ_id = ANY(w.path) AND w.id <> %(dst)s
            )
            SELECT path FROM walk WHERE id = %(dst)s ORDER BY cardinality(path) LIMIT 1
        """
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, {"src": from_job, "dst": to_job, "depth": _depth(max_depth)})
            row = await cur.fetchone()
            return list(row["path"]) if row else None

    async def _job(self, job_id: str) -> dict[str, Any]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM kg_jobs WHERE id = %s", (job_id,))
            row = await cur.fetchone()
        if row is None:
            raise KeyError(f"job {job_id} is not in the knowledge graph")
        return dict(row)

    async def resources_of(self, job_id: str) -> list[dict[str, Any]]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT pred_kind AS kind, pred_id AS name, dep_type FROM kg_edges "
                "WHERE succ_kind = 'job' AND succ_id = %s AND pred_kind IN ('resource', 'prompt', 'file') "
                "ORDER BY 1, 2",
                (job_id,),
            )
            return [dict(row) for row in await cur.fetchall()]

    async def kg_context(self, job_id: str, depth: int = 2, limit: int = 12, impact: Impact | None = None) -> str:
        """A compact text of the job's neighbourhood for the LLM (``impact``: reuse one already computed)."""
        impact = impact or await self.impact(job_id, depth=10)
        job = impact.job
        up = [n for n in await self.upstream(job_id, depth) if n.kind == "job"]
        needs = await self.resources_of(job_id)
        flags = [
            f for f, on in (("critical", job["critical"]), (f"deadline {_t(job['deadline'])}", job["deadline"])) if on
        ]
        workstation = (job["workstation"] or "?").lstrip("/")
        lines = [
            f"JOB {workstation}#{job['job_stream_name']}.{job['name']} "
            f"status {job['status']}"
            + (f" rc {job['return_code']}" if job["return_code"] is not None else "")
            + (f" ({', '.join(flags)})" if flags else ""),
            "waits for: " + (_list(up, limit) or "nothing"),
        ]
        if needs:
            lines.append("needs: " + ", ".join(f"{n['kind']} {n['name']}" for n in needs))
        lines.append(
            f"blocks: {len(impact.blocked_jobs)} job(s) in {len(impact.blocked_streams)} stream(s)"
            + (f", {len(impact.critical_jobs)} critical" if impact.critical_jobs else "")
            + (": " + _list(impact.blocked_jobs, limit) if impact.blocked_jobs else "")
        )
        if impact.with_deadline:
            first = impact.with_deadline[0]
            lines.append(f"earliest deadline at risk: {first.name} {_t(first.deadline)}")
        return "\n".join(lines)


def _t(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%MZ") if moment else ""


def _list(nodes: list[GraphNode], limit: int) -> str:
    text = ", ".join(f"{n.name}[{n.status}]" + ("*" if n.critical else "") for n in nodes[:limit])
    return text + (f" (+{len(nodes) - limit} more)" if len(nodes) > limit else "")
