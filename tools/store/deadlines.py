"""The knowledge graph's reads behind the SLA projection (``tools.services.sla``): recent successful
durations, the unfinished jobs and streams with a deadline, and every target's upstream closure with
the latest run and predecessors of each job on it — each in one round trip, whatever the number of
targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from psycopg.rows import args_row

from .db import Pool

DONE = frozenset({"SUCC", "CANCL", "CANCEL", "SUPPR"})  # the engine says CANCL; SUPPR: suppressed, will not run
UNFINISHED = "coalesce(status, '') NOT IN (" + ", ".join(f"'{s}'" for s in sorted(DONE)) + ")"
SETTLED = DONE | {"EXEC"}  # a job whose expected end does not wait for its predecessors


class PathJob(NamedTuple):
    """A job on the way to a deadline: its latest run's start and end when it finished or runs (else
    None), its predecessors when it still waits (else None), and — unless it is done — the median
    seconds of its last successful runs and how many there were (None: it never succeeded)."""

    id: str
    name: str
    status: str | None
    started_at: datetime | None
    ended_at: datetime | None
    preds: list[str] | None
    median: float | None
    runs: int | None


class DeadlineReads:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def durations(self, names: list[str], before: datetime | None, recent: int) -> dict[str, tuple[float, int]]:
        """job name → (median seconds, runs) over its last ``recent`` successful runs ended before ``before``."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                _recent_medians("%(names)s::text[]"), {"names": names, "before": before, "recent": recent}
            )
            return {row["job_name"]: (float(row["median"]), int(row["runs"])) for row in await cur.fetchall()}

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

    async def paths(self, targets: set[str], recent: int) -> list[PathJob]:
        """The targets and the jobs upstream of them that decide when they end, in one query for all
        targets: the walk goes on through jobs that still wait (each once) and stops at finished and
        running ones — their ends do not depend on their predecessors; each job not done comes with
        the median of its last ``recent`` successful runs (as ``durations`` computes it)."""
        async with self.pool.connection() as conn:
            cur = conn.cursor(row_factory=args_row(PathJob))  # tens of thousands of rows: no dict per row
            params = {
                "targets": sorted(targets),
                "settled": sorted(SETTLED),
                "done": sorted(DONE),
                "recent": recent,
                "before": None,
            }
            await cur.execute(WAITING_UPSTREAM, params)
            return await cur.fetchall()


def _recent_medians(names: str) -> str:
    """Per job name in ``names`` (an SQL text[] expression): the median seconds and the count of its
    last ``%(recent)s`` successful runs, ended before ``%(before)s`` when that is not null."""
    return f"""
    SELECT job_name, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds) AS median, count(*)::int AS runs
      FROM (SELECT job_name, extract(epoch FROM ended_at - started_at) AS seconds,
                   row_number() OVER (PARTITION BY job_name ORDER BY ended_at DESC) AS n
              FROM job_runs
             WHERE job_name = ANY({names}) AND status = 'SUCC' AND started_at IS NOT NULL
               AND ended_at > started_at AND (%(before)s::timestamptz IS NULL OR ended_at < %(before)s)) r
     WHERE n <= %(recent)s
     GROUP BY job_name"""


# a job's predecessors: its own, and the jobs of the streams its stream waits for
_PREDECESSORS = """
    SELECT e.pred_id FROM kg_edges e WHERE e.succ_kind = 'job' AND e.succ_id = j.id AND e.pred_kind = 'job'
    UNION ALL
    SELECT p.id FROM kg_edges e JOIN kg_jobs p ON p.job_stream_id = e.pred_id
     WHERE e.succ_kind = 'stream' AND e.succ_id = j.job_stream_id AND e.pred_kind = 'stream'
"""
_SETTLED = "coalesce(j.status, '') = ANY(%(settled)s::text[])"
WAITING_UPSTREAM = f"""
WITH RECURSIVE walk(id) AS (
    SELECT unnest(%(targets)s::text[])
    UNION
    SELECT x.pred FROM walk w JOIN kg_jobs j ON j.id = w.id AND NOT {_SETTLED}
     CROSS JOIN LATERAL ({_PREDECESSORS}) x(pred)
),
path AS (
    SELECT j.id, j.name, j.status, r.started_at, r.ended_at,
           CASE WHEN {_SETTLED} THEN NULL ELSE ARRAY({_PREDECESSORS}) END AS preds
      FROM walk JOIN kg_jobs j USING (id)
      LEFT JOIN LATERAL (  -- the latest run says when a finished job ended, a running one began
          SELECT started_at, ended_at FROM job_runs WHERE job_id = j.id AND {_SETTLED}
           ORDER BY started_at DESC NULLS LAST LIMIT 1) r ON true
),
durations AS (  -- estimates for the jobs not done (a done job's end is known)
    {_recent_medians("ARRAY(SELECT DISTINCT name FROM path WHERE coalesce(status, '') <> ALL(%(done)s::text[]))")}
)
SELECT p.id, p.name, p.status, p.started_at, p.ended_at, p.preds, d.median, d.runs
  FROM path p LEFT JOIN durations d ON d.job_name = p.name
"""
