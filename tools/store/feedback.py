"""Answers and what users thought of them: the run behind each chat answer (with its variant) and
one thumbs up/down per user and run (a later one replaces it) — the data of online A/B tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .db import Pool


class UnknownRun(LookupError):
    """No answer with this run id (or not one the caller may rate)."""


async def record_answer(pool: Pool, run_id: str, thread_id: str, caller: str, variant: str) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO answer_runs (run_id, thread_id, caller, variant) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (run_id) DO NOTHING",
            (run_id, thread_id, caller, variant),
        )


async def give_feedback(
    pool: Pool, run_id: str, caller: str, score: int, comment: str | None, any_run: bool = False
) -> dict[str, Any]:
    """Store (or replace) the caller's feedback on an answer they received (``any_run``: admins)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "INSERT INTO feedback (run_id, caller, score, comment, variant)"
            " SELECT run_id, %(caller)s, %(score)s, %(comment)s, variant FROM answer_runs"
            " WHERE run_id = %(run)s AND (caller = %(caller)s OR %(any)s)"
            " ON CONFLICT (run_id, caller) DO UPDATE SET score = excluded.score, comment = excluded.comment,"
            " updated_at = now()"
            " RETURNING run_id::text, caller, score, comment, variant, created_at, updated_at",
            {"run": run_id, "caller": caller, "score": score, "comment": comment, "any": any_run},
        )
        row = await cur.fetchone()
    if row is None:
        raise UnknownRun(f"no answer {run_id} of yours to rate")
    return dict(row)


async def votes_by_user(pool: Pool, since: datetime | None = None) -> list[dict[str, Any]]:
    """Each variant's answers per user, with that user's own votes on them: ``{variant, caller, answers,
    up, down}``. An admin's vote on another user's answer is not that answer's user's opinion, and is
    left out. Users are what the A/B test randomises, so they are the units of its analysis."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT a.variant, a.caller, count(DISTINCT a.run_id) AS answers,"
            " count(*) FILTER (WHERE f.score = 1) AS up, count(*) FILTER (WHERE f.score = -1) AS down"
            " FROM answer_runs a LEFT JOIN feedback f ON f.run_id = a.run_id AND f.caller = a.caller"
            " WHERE %(since)s::timestamptz IS NULL OR a.created_at >= %(since)s"
            " GROUP BY a.variant, a.caller ORDER BY a.variant, a.caller",
            {"since": since},
        )
        rows = await cur.fetchall()
    return [
        {
            "variant": r["variant"],
            "caller": r["caller"],
            "answers": int(r["answers"]),
            "up": int(r["up"]),
            "down": int(r["down"]),
        }
        for r in rows
    ]
