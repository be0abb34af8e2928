"""Read tools over what the watcher found (``tools/watch.py``): the investigations of a period,
root failures with their cascades — the digest of a night."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tools.context import ToolContext
from tools.registry import ToolInputError, ToolPermission, tool
from tools.store.investigations import InvestigationStore, split_cascades

from .common import iso, now_iso
from .schemas import HoursInput


@tool(permission=ToolPermission.READ_ONLY, input_schema=HoursInput, tags=["monitoring", "failures", "digest"])
async def get_investigations(hours: int, ctx: ToolContext) -> dict[str, Any]:
    """What went wrong in the last N hours as the watcher investigated it before anyone asked: each
    root failure (cause category, severity, what it blocks, the next step) with the failures and late
    jobs that follow from it, and the jobs that missed their deadline."""
    if ctx.kg is None:
        raise ToolInputError("the investigation records are not available")
    since = datetime.now(UTC) - timedelta(hours=hours)
    records = await InvestigationStore(ctx.kg.pool).search(since=since, limit=300)
    roots_found, below = split_cascades(records)

    def brief(record: Any) -> dict[str, Any]:
        return {
            "job": record.job_name,
            "kind": record.kind,
            "status": record.status,
            "return_code": record.return_code,
            "when": iso(record.occurred_at),
            "category": record.category,
            "severity": record.severity,
            "blocked_jobs": record.blocked_jobs,
            "evidence": (record.telling_line() or {}).get("text") or record.evidence.get("cause"),
            "next_step": record.next_step,
            "next_step_pt": record.next_step_pt,
            "cascade": below.get(record.run_id, []),
        }

    roots: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for record in roots_found:  # newest first: a job that failed again is one entry, its newest run
        held = seen.get((record.job_name, record.kind))
        if held is not None:
            held["failures"] += 1
            held["cascade"] = sorted(set(held["cascade"]) | set(below.get(record.run_id, [])))
            continue
        entry = {**brief(record), "failures": 1}
        seen[(record.job_name, record.kind)] = entry
        roots.append(entry)
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    roots.sort(key=lambda r: (order.get(r["severity"], 4), r["when"] or ""))
    return {
        "hours": hours,
        "investigations": len(records),
        "roots": roots[:20],
        "cascades": sum(len(jobs) for jobs in below.values()),
        "repeats": sum(r["failures"] - 1 for r in roots),  # failed runs of a job already listed
        "_fetched_at": now_iso(),
    }
