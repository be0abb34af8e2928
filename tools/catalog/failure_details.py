"""What the reads add to a failure: a failed run's diagnosis (the one diagnosis, an unsure one refined
by a configured model), and, for a failure list, what each job still failed holds up downstream (from
the knowledge graph) and its cause (from its log) — each asked for by a flag of ``get_failed_jobs``,
so a list that needs neither reads neither."""

from __future__ import annotations

import asyncio
from typing import Any

from tools.context import ToolContext
from tools.diagnosis import diagnose
from tools.diagnosis_model import refined


async def blocking(ctx: ToolContext, runs: list[dict[str, Any]]) -> None:
    """What each still-failed job's failure holds up downstream (``blocks``, ``blocks_critical``), from
    the knowledge graph — what "which first?" is decided by; left out when the graph does not know it.
    One graph walk per job, however many of its runs failed."""
    kg = ctx.kg
    if kg is None:
        return
    jobs = list(dict.fromkeys(r["id"] for r in runs if r["still_failed"]))

    async def held_up(job_id: str) -> tuple[int, int] | None:
        try:
            impact = await kg.impact(job_id)
        except KeyError:  # not synced into the knowledge graph yet
            return None
        return len(impact.blocked_jobs), len(impact.critical_jobs)

    found = dict(zip(jobs, await asyncio.gather(*(held_up(j) for j in jobs)), strict=True))
    for run in runs:
        if found.get(run["id"]) is not None:
            run["blocks"], run["blocks_critical"] = found[run["id"]]


CAUSES_READ = 10  # failed runs whose log one read looks at for the cause
CAUSE_LINES = 400  # the end of a log its cause is read from


async def causes(ctx: ToolContext, runs: list[dict[str, Any]]) -> None:
    """Each still-failed job's cause (``cause``: category, rerun-helps, the decisive line) from the end
    of its newest failed run's log, the first ``CAUSES_READ`` jobs, their logs read concurrently and
    diagnosed off the event loop; a log that cannot be read leaves it unsaid."""
    newest: dict[str, dict[str, Any]] = {}
    for run in runs:
        if run.get("still_failed"):
            newest.setdefault(run["job"], run)
    chosen = list(newest.values())[:CAUSES_READ]
    logs = await asyncio.gather(*(ctx.client.job_log(r["run_id"]) for r in chosen), return_exceptions=True)
    for run, log in zip(chosen, logs, strict=True):
        if isinstance(log, str):
            tail = "\n".join(log.splitlines()[-CAUSE_LINES:])
            reading = await asyncio.to_thread(diagnose, tail, run.get("status"), run.get("return_code"))
            run["cause"] = {"category": reading.category, "rerun_helps": reading.rerun_helps, "line": reading.line}


async def diagnosis_of(ctx: ToolContext, text: str, status: str | None, return_code: int | None) -> dict[str, Any]:
    """The one diagnosis of a failed run's whole log (``tools.diagnosis``; an unsure one refined by a
    configured model that must quote the log), in both languages."""
    found = await refined(diagnose(text, status, return_code), text, ctx.parts.reader)
    return {
        **found.as_json("en"),
        "meaning_pt": found.meaning_pt,
        "next_step_pt": found.next_pt,
    }
