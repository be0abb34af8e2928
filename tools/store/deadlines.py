"""The knowledge graph's reads behind the SLA projection (``tools.services.sla``): recent successful
durations, the unfinished jobs and streams with a deadline, and every target's upstream closure with
the latest run and predecessors of each job on it — each in one round trip, whatever the number of
targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .db import Pool

DONE = frozenset({"SUCC", "CANCL", "CANCEL", "SUPPR"})  # the engine says CANCL; SUPPR: suppressed, will not run
UNFINISHED = "coalesce(status, '') NOT IN (" + ", ".join(f"'{s}'" for s in sorted(DONE)) + ")"
CLOSURE_DEPTH = 25


class DeadlineReads:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def durations(self, names: list[str], before: datetime | None, recent: int) -> dict[str, tuple[float, int]]:
        """job name → (median seconds, runs) over its last ``recent`` successful runs ended before ``before``."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                """
                SELECT job_name, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median, count(*) AS n
                  FROM (SELECT job_name, extract(epoch FROM ended_at - started_at) AS seconds,
                               row_number() OVER (PARTITION BY job_name ORDER BY ended_at DESC) AS recent
                          FROM job_runs
                         WHERE job_name = ANY(%(names)s) AND status = 'SUCC' AND started_at IS NOT NULL
                           AND ended_at > started_at AND (%(before)s::timestamptz IS NULL OR ended_at < %(before)s)) r
                 WHERE recent <= %(recent)s
                 GROUP BY job_name
                """,
                {"names": names, "before": before, "recent": recent},
            )
            return {row["job_name"]: (float(row["median"]), int(row["n"])) for row in await cur.fetchall()}

    async def targets(
        self, since: datetime, until: datetime, jobs: int, streams: int
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[str]]]:
        """(unfinished jobs with a deadline in [since, until], likewise streams, stream id → its job ids),
        earliest deadlines first, at most ``jobs`` and ``streams``."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT id, name, job_stream_id, job_stream_name, status, deadline FROM kg_jobs "
                f"WHERE deadline IS NOT NULL AND deadline <= %s AND deadline >= %s AND {UNFINISHED} "
                "ORDER BY deadline LIMIT %s",
                (until, since, jobs),
            )
            job_targets = [dict(r) for r in await cur.fetchall()]
            cur = await conn.execute(
                "SELECT id, name, deadline FROM kg_job_streams "
                f"WHERE deadline IS NOT NULL AND deadline <= %s AND deadline >= %s AND {UNFINISHED} "
                "ORDER BY deadline LIMIT %s",
                (until, since, streams),
            )
            stream_targets = [dict(r) for r in await cur.fetchall()]
            stream_jobs: dict[str, list[str]] = {}
            if stream_targets:
                cur = await conn.execute(
                    "SELECT id, job_stream_id FROM kg_jobs WHERE job_stream_id = ANY(%s)",
                    ([s["id"] for s in stream_targets],),
                )
                for row in await cur.fetchall():
                    stream_jobs.setdefault(row["job_stream_id"], []).append(row["id"])
        return job_targets, stream_targets, stream_jobs

    async def paths(self, targets: set[str]) -> tuple[dict[str, dict[str, Any]], dict[str, list[str]]]:
        """(job id → the job and its latest run's start and end, job id → its predecessor job ids) over
        the targets and their upstream closures (one query for all closures)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT DISTINCT c.node_id FROM unnest(%s::text[]) t(id), LATERAL kg_closure(t.id, false, %s) c "
                "WHERE c.node_kind = 'job'",
                (sorted(targets), CLOSURE_DEPTH),
            )
            ids = sorted(targets | {row["node_id"] for row in await cur.fetchall()})
            cur = await conn.execute(
                "SELECT j.id, j.name, j.status, r.started_at, r.ended_at FROM kg_jobs j LEFT JOIN LATERAL "
                "(SELECT started_at, ended_at FROM job_runs WHERE job_id = j.id "
                "ORDER BY started_at DESC NULLS LAST LIMIT 1) r ON true WHERE j.id = ANY(%s)",
                (ids,),
            )
            jobs = {row["id"]: dict(row) for row in await cur.fetchall()}
            cur = await conn.execute(
                "SELECT pred_id, succ_id FROM kg_edges WHERE pred_kind = 'job' AND succ_kind = 'job' "
                "AND succ_id = ANY(%(ids)s) AND pred_id = ANY(%(ids)s) "
                "UNION ALL "  # a job's stream waits for a stream: the job waits for that stream's jobs
                "SELECT p.id, j.id FROM kg_jobs j JOIN kg_edges e ON e.succ_kind = 'stream' "
                "AND e.succ_id = j.job_stream_id AND e.pred_kind = 'stream' JOIN kg_jobs p ON p.job_stream_id = "
                "e.pred_id WHERE j.id = ANY(%(ids)s) AND p.id = ANY(%(ids)s)",
                {"ids": ids},
            )
            preds: dict[str, list[str]] = {}
            for row in await cur.fetchall():
                preds.setdefault(row["succ_id"], []).append(row["pred_id"])
        return jobs, preds
