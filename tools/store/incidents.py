"""Incident history: failed runs with the error signature of their job log, operators' resolutions,
and "has this failed like this before?" across every job.

A signature is the first error line of the log with the variable parts replaced: paths, numbers,
ids, hosts and object names, e.g. ``ERROR: file not found: <path>``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tools.diagnosis import diagnose
from tools.hwa import HWAClient, HWAError

from .db import Pool

ERROR_LINE = re.compile(
    r"\b(ERROR|FATAL|SEVERE|Exception|Traceback|SQLSTATE|ORA-\d+|AWS[A-Z]{3}\d{3,4}E|deadlock|"
    r"No space left|Permission denied|timed out|could not be launched|not found|killed)\b",
    re.IGNORECASE,
)
_SUBSTITUTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"(?<![\w<])(/[\w.\-@]+)+/?"), "<path>"),
    (re.compile(r"\b[A-Za-z]:\\[^\s]+"), "<path>"),
    (re.compile(r"\b[\w\-]+(\.[\w\-]+)+:\d+\b"), "<host>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<str>"),
    (re.compile(r"\b[A-Z][A-Z0-9_]*\.[A-Z][A-Z0-9_]*\b"), "<object>"),
    (re.compile(r"\buser \w+"), "user <user>"),
    (re.compile(r"\bon [A-Z][A-Z0-9_]+\b"), "on <workstation>"),
    (re.compile(r"(?<![\w<])\d+(\.\d+)?(?![\w>])"), "<n>"),
    (re.compile(r"\s+"), " "),
]
MAX_EXCERPT_LINES = 40


def normalise(line: str) -> str:
    text = line.strip()
    for pattern, replacement in _SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    return text.strip()[:300]


def error_signature(log_text: str, return_code: int | None = None) -> tuple[str, str | None]:
    """(signature, original error line) of a job log: the line the diagnosis finds decisive (not an
    error a retry recovered, nor cleanup after it), else the first error line; the return code when
    no line says more."""
    decisive = diagnose(log_text, None, return_code).line
    if decisive:
        return normalise(decisive), decisive
    body = [line for line in log_text.splitlines() if line.strip() and not line.startswith("=")]
    for line in body:
        if ERROR_LINE.search(line):
            return normalise(line), line.strip()
    return (
        f"exit code {return_code} without an error message" if return_code is not None else "no error message"
    ), None


@dataclass
class Incident:
    run_id: str
    job_name: str
    status: str
    return_code: int | None
    signature: str
    error_line: str | None
    occurred_at: datetime | None
    match: str = ""
    resolutions: list[dict[str, Any]] = field(default_factory=list)


class IncidentStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def record(self, run_id: str, log_text: str) -> Incident:
        """Store the incident of a failed run (known from ``job_runs``) with its log's signature."""
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM job_runs WHERE run_id = %s", (run_id,))
            run = await cur.fetchone()
            if run is None:
                raise KeyError(f"run {run_id} is unknown: sync the knowledge graph first")
            signature, line = error_signature(log_text, run["return_code"])
            excerpt = "\n".join([x for x in log_text.splitlines() if not x.startswith("=")][-MAX_EXCERPT_LINES:])
            await conn.execute(
                "INSERT INTO incidents (run_id, job_name, status, return_code, signature, error_line, log_excerpt,"
                " occurred_at) VALUES (%s, %s, %s, %s, %s, %s, %s, coalesce(%s, %s)) ON CONFLICT (run_id) DO UPDATE"
                " SET signature = EXCLUDED.signature, error_line = EXCLUDED.error_line,"
                " log_excerpt = EXCLUDED.log_excerpt",
                (
                    run_id,
                    run["job_name"],
                    run["status"],
                    run["return_code"],
                    signature,
                    line,
                    excerpt,
                    run["ended_at"],
                    run["started_at"],
                ),
            )
        return Incident(run_id, run["job_name"], run["status"], run["return_code"], signature, line, run["ended_at"])

    async def harvest(self, client: HWAClient, concurrency: int = 8) -> int:
        """Record every failed run that has no incident yet (fetching its log); returns how many."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT r.run_id FROM job_runs r LEFT JOIN incidents i USING (run_id) "
                "WHERE r.status IN ('ABEND', 'FAIL') AND i.run_id IS NULL"
            )
            pending = [row["run_id"] for row in await cur.fetchall()]
        gate = asyncio.Semaphore(concurrency)

        async def one(run_id: str) -> bool:
            async with gate:
                try:
                    text = await client.job_log(run_id, content_only=True)
                except HWAError:
                    return False
            await self.record(run_id, text)
            return True

        return sum(await asyncio.gather(*(one(r) for r in pending)))

    async def attach_resolution(self, run_id: str, resolution: str, author: str) -> int:
        text = resolution.strip()
        if not text or len(text) > 10_000:
            raise ValueError("a resolution is 1 to 10,000 characters")
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT 1 FROM incidents WHERE run_id = %s", (run_id,))
            if await cur.fetchone() is None:
                raise KeyError(f"no incident for run {run_id}")
            cur = await conn.execute(
                "INSERT INTO incident_resolutions (run_id, resolution, author) VALUES (%s, %s, %s) RETURNING id",
                (run_id, text, author),
            )
            row = await cur.fetchone()
            assert row is not None
            return int(row["id"])

    async def latest_for_job(self, job_name: str) -> Incident | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT run_id, job_name, status, return_code, signature, error_line, occurred_at FROM incidents "
                "WHERE job_name = %s ORDER BY occurred_at DESC NULLS LAST LIMIT 1",
                (job_name,),
            )
            row = await cur.fetchone()
            return Incident(**row) if row else None

    async def similar(
        self, job_name: str | None = None, error_text: str | None = None, limit: int = 10
    ) -> list[Incident]:
        """Earlier incidents like this one, on any job: same signature first (resolved ones first),
        then signatures sharing words, then the same job's other failures."""
        exclude = None
        if error_text:
            signature = error_signature(error_text)[0] if "\n" in error_text else normalise(error_text)
        elif job_name:
            latest = await self.latest_for_job(job_name)
            if latest is None:
                return []
            signature, exclude = latest.signature, latest.run_id
        else:
            raise ValueError("give a job name or an error text")
        words = sorted({w.lower() for w in re.findall(r"[A-Za-z]{3,}", signature)})
        sql = """
            SELECT i.run_id, i.job_name, i.status, i.return_code, i.signature, i.error_line, i.occurred_at,
                   CASE WHEN i.signature = %(sig)s THEN 'signature'
                        WHEN %(tsq)s <> '' AND i.signature_tsv @@ to_tsquery('simple', %(tsq)s) THEN 'similar text'
                        ELSE 'same job' END AS match,
                   coalesce((SELECT json_agg(json_build_object('id', r.id, 'resolution', r.resolution,
                                     'author', r.author, 'created_at', r.created_at) ORDER BY r.created_at DESC)
                               FROM incident_resolutions r WHERE r.run_id = i.run_id), '[]'::json) AS resolutions
              FROM incidents i
             WHERE (i.signature = %(sig)s
                    OR (%(tsq)s <> '' AND i.signature_tsv @@ to_tsquery('simple', %(tsq)s))
                    OR i.job_name = %(job)s)
               AND i.run_id IS DISTINCT FROM %(exclude)s
             ORDER BY (i.signature = %(sig)s) DESC,
                      EXISTS (SELECT 1 FROM incident_resolutions r WHERE r.run_id = i.run_id) DESC,
                      ts_rank(i.signature_tsv, to_tsquery('simple', coalesce(nullif(%(tsq)s, ''), 'x'))) DESC,
                      i.occurred_at DESC NULLS LAST
             LIMIT %(limit)s
        """
        params = {"sig": signature, "tsq": " | ".join(words), "job": job_name, "exclude": exclude, "limit": limit}
        async with self.pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return [Incident(**row) for row in await cur.fetchall()]
