"""The watcher: follows the plan incrementally and investigates every new failed run (and every job
past its deadline) before anyone asks — one record per run in PostgreSQL (``store/investigations.py``)
with its cause category, severity, evidence and next step, and cascades pointed at their root.

Incremental: each tick asks the engine only for jobs with a failed run that ended since the watcher's
mark (one OQL query; never a full plan scan). Bounded: at most ``concurrency`` investigations at once
(each reads one job log), and the loop backs off when the engine fails. Idempotent: one record per run
id, whatever restarts or how many watchers (the server runs one, under an advisory lock)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..catalog.common import failed_runs, iso
from ..causes import Category, cause_for, error_lines
from ..diagnosis import Diagnosis, diagnose
from ..diagnosis_model import refined
from ..hwa import HWAClient
from ..hwa.errors import HWANotFound
from ..hwa.models import FAILED_STATUSES
from ..store.incidents import IncidentStore
from ..store.investigations import Investigation, InvestigationStore
from ..store.kg import Impact, KnowledgeGraph

log = logging.getLogger(__name__)

MARK = "failures"
OVERLAP = timedelta(hours=1)  # runs whose end the engine reports late are read again (records are idempotent)
LATE_CATEGORY: dict[str, Category] = {"HOLD": "dependency", "WAIT": "dependency", "READY": "agent", "EXEC": "timeout"}


@dataclass
class WatchReport:
    failures_seen: int = 0
    investigated: int = 0
    late: int = 0
    already_known: int = 0
    failed: int = 0
    seconds: float = 0.0
    records: list[Investigation] = field(default_factory=list, repr=False)  # the new ones


def severity_of(critical: bool, impact: Impact | None, now: datetime) -> str:
    """critical: the job or something it blocks is critical; high: a deadline it blocks is within 6 h,
    or it blocks 3+ streams or 10+ jobs; medium: it blocks something; low: nothing waits for it."""
    if critical or (impact is not None and impact.critical_jobs):
        return "critical"
    if impact is None or not impact.blocked_jobs:
        return "low"
    first = impact.with_deadline[0].deadline if impact.with_deadline else None
    if (first is not None and first - now < timedelta(hours=6)) or (
        len(impact.blocked_streams) >= 3 or len(impact.blocked_jobs) >= 10
    ):
        return "high"
    return "medium"


class Watcher:
    def __init__(
        self,
        client: HWAClient,
        kg: KnowledgeGraph,
        incidents: IncidentStore,
        store: InvestigationStore,
        concurrency: int = 4,
        lookback: timedelta = timedelta(hours=24),
        reader: Any | None = None,
    ) -> None:
        self.reader = reader  # a configured model that refines unsure diagnoses, as the chat's tools do
        self.client = client
        self.kg = kg
        self.incidents = incidents
        self.store = store
        self.gate = asyncio.Semaphore(concurrency)
        self.lookback = lookback

    async def tick(self, now: datetime | None = None) -> WatchReport:
        """Investigate what failed (or went late) since the last tick; move the mark."""
        started = time.perf_counter()
        now = now or datetime.now(UTC)
        report = WatchReport()
        mark = await self.store.mark(MARK) or now - self.lookback
        runs = failed_runs(await self.client.jobs_with_failed_runs(mark - OVERLAP), mark - OVERLAP)
        report.failures_seen = len(runs)
        known = await self.store.known([r["run_id"] for r in runs])
        report.already_known = len(known)
        fresh = [r for r in runs if r["run_id"] not in known]
        failed_now = {r["id"]: r["run_id"] for r in runs if r["still_failed"]}
        results = await asyncio.gather(
            *(self._bounded(self._failure, run, failed_now, now) for run in fresh), return_exceptions=True
        )
        late = await self.kg.late_jobs(now)  # past their deadline, not done, no record yet
        results += await asyncio.gather(
            *(self._bounded(self._late_job, job, now) for job in late), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                report.failed += 1
                log.warning("an investigation failed: %s", result)
            elif result is not None:
                report.records.append(result)
                report.investigated += 1
                report.late += result.kind == "late"
        ended = [t for r in runs if (t := _time(r.get("ended")))]
        if ended:  # the engine's clock, not ours: a skewed clock or a late end time cannot skip a run
            await self.store.set_mark(MARK, max(ended))
        elif await self.store.mark(MARK) is None:
            await self.store.set_mark(MARK, mark)
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    async def _bounded(self, work: Any, *args: Any) -> Investigation | None:
        """``work(*args)`` once a place is free (the call is made then: a cancelled wait leaves nothing)."""
        async with self.gate:
            result: Investigation | None = await work(*args)
            return result

    async def _impact(self, job_id: str) -> Impact | None:
        try:
            return await self.kg.impact(job_id)
        except KeyError:  # not in the graph yet (synced later): no downstream facts
            return None

    async def _root(self, job_id: str, failed_now: dict[str, str]) -> tuple[str | None, list[str]]:
        """The run id of the farthest failed ancestor (the root of a cascade), and the failed ancestors' names."""
        try:
            upstream = [n for n in await self.kg.upstream(job_id, depth=10) if n.kind == "job"]
        except (KeyError, ValueError):
            return None, []
        failed = [n for n in upstream if n.status in FAILED_STATUSES or n.id in failed_now]
        if not failed:
            return None, []
        root = max(failed, key=lambda n: n.depth)
        run_id = failed_now.get(root.id) or (await self.store.latest_for_jobs([root.id])).get(root.id)
        return run_id, [n.name for n in failed]

    async def _failure(self, run: dict[str, Any], failed_now: dict[str, str], now: datetime) -> Investigation | None:
        text = ""
        with contextlib.suppress(HWANotFound):  # a run that never started (FAIL) may have no log;
            text = await self.client.job_log(run["run_id"])  # any other error: retried on the next pass
        diagnosis = await refined(diagnose(text, run["status"], run["return_code"]), text, self.reader)
        lines = with_decisive(error_lines(text), diagnosis)
        impact = await self._impact(run["id"])
        root_run, upstream_failed = await self._root(run["id"], failed_now)
        category: Category = diagnosis.category
        if category == "unknown" and root_run:
            category = "dependency"
        similar = await self._similar(run, lines[-1]["text"]) if lines else []
        step_en, step_pt = _next_step(diagnosis, category, upstream_failed if root_run else [])
        record = Investigation(
            run_id=run["run_id"],
            kind="failure",
            job_id=run["id"],
            job_name=run["job"],
            workstation=run.get("workstation"),
            job_stream=run.get("job_stream"),
            status=run["status"],
            return_code=run["return_code"],
            occurred_at=_time(run.get("ended")),
            category=category,
            # a run a rerun has since recovered is history: noted, never an alarm
            severity=severity_of(bool(run.get("critical")), impact, now) if run["still_failed"] else "low",
            root_run_id=root_run,
            blocked_jobs=len(impact.blocked_jobs) if impact else 0,
            blocked_streams=len(impact.blocked_streams) if impact else 0,
            critical_blocked=len(impact.critical_jobs) if impact else 0,
            evidence=_evidence(decisive_evidence(diagnosis), lines, impact, upstream_failed, similar, run)
            | {
                "meaning": diagnosis.meaning_en,
                "rerun_helps": diagnosis.rerun_helps,
                "confidence": diagnosis.confidence,
            },
            next_step=step_en,
            next_step_pt=step_pt,
            action=None if root_run or not run["still_failed"] else "rerun",
        )
        record.id = await self.store.save(record)
        return record if record.id is not None else None

    async def _similar(self, run: dict[str, Any], error: str) -> list[dict[str, Any]]:
        """Other runs' incidents with the same error (this job's own first), with what resolved them."""
        found = await self.incidents.similar(job_name=run["job"], error_text=error, limit=4)
        return [
            {
                "run_id": i.run_id,
                "job": i.job_name,
                "when": iso(i.occurred_at),
                "signature": i.signature,
                "resolutions": [r.get("resolution") for r in i.resolutions][:3],
            }
            for i in found
            if i.run_id != run["run_id"]
        ][:3]

    async def _late_job(self, job: dict[str, Any], now: datetime) -> Investigation | None:
        current = await self.client.get_job(job["id"])  # the engine's word, not the graph's last sync
        status = current.status or ""
        if status in {"SUCC", "CANCL", "CANCEL", "SUPPR"} | FAILED_STATUSES:  # done (or a failure: investigated as one)
            return None
        category = LATE_CATEGORY.get(status, "unknown")
        impact = await self._impact(job["id"])
        root_run, upstream_failed = await self._root(job["id"], {})  # late because something above failed?
        step = cause_for(category)
        step_en, step_pt = step.next_en, step.next_pt
        if root_run:
            roots = ", ".join(upstream_failed[:3])
            step_en = f"it waits for the failed {roots}: fix that first. {step_en}"
            step_pt = f"ele espera pelo {roots}, que falhou: resolva isso primeiro. {step_pt}"
        deadline = job["deadline"]
        record = Investigation(
            run_id=f"late:{job['id']}",
            kind="late",
            job_id=job["id"],
            job_name=job["name"],
            workstation=(job.get("workstation") or "").lstrip("/") or None,
            job_stream=job.get("job_stream_name"),
            status=status,
            occurred_at=deadline,
            category=category,
            root_run_id=root_run,
            severity=severity_of(bool(job.get("critical")), impact, now),
            blocked_jobs=len(impact.blocked_jobs) if impact else 0,
            blocked_streams=len(impact.blocked_streams) if impact else 0,
            critical_blocked=len(impact.critical_jobs) if impact else 0,
            evidence={
                "cause": f"deadline {iso(deadline)} passed with the job {status}",
                "status": status,
                "upstream_failed": upstream_failed[:10],
            },
            next_step=f"it missed its deadline ({iso(deadline)}) while {status}: " + step_en,
            next_step_pt=f"perdeu o prazo ({iso(deadline)}) em {status}: " + step_pt,
        )
        record.id = await self.store.save(record)
        return record if record.id is not None else None


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def decisive_evidence(diagnosis: Diagnosis) -> str:
    """What gave the cause away, as the evidence's ``cause``: the decisive line (or the reading)."""
    return f"log: {diagnosis.line}" if diagnosis.line else diagnosis.meaning_en


def with_decisive(lines: list[dict[str, Any]], diagnosis: Diagnosis) -> list[dict[str, Any]]:
    """The log's error lines with the decisive one among them (it may not look like an "error")."""
    if diagnosis.line_number is None or any(line["line"] == diagnosis.line_number for line in lines):
        return lines
    kept = [*lines[-7:], {"line": diagnosis.line_number, "text": diagnosis.line or ""}]
    return sorted(kept, key=lambda line: int(line["line"]))


def _evidence(
    cause: str,
    lines: list[dict[str, Any]],
    impact: Impact | None,
    upstream_failed: list[str],
    similar: list[dict[str, Any]],
    run: dict[str, Any],
) -> dict[str, Any]:
    return {
        "cause": cause,
        "log_lines": lines,
        "blocked_sample": [n.name for n in impact.blocked_jobs[:10]] if impact else [],
        "blocked_streams": impact.blocked_streams[:10] if impact else [],
        "earliest_deadline": iso(impact.with_deadline[0].deadline) if impact and impact.with_deadline else None,
        "upstream_failed": upstream_failed[:10],
        "similar_incidents": similar,
        "rerun": run.get("next"),
    }


async def watch_periodically(
    watcher: Watcher,
    interval_seconds: float,
    stop: asyncio.Event,
    after: Callable[[WatchReport], Awaitable[None]] | None = None,
) -> None:
    """Tick every ``interval_seconds``; after a failed tick wait twice as long (up to 10 minutes).
    ``after`` (the notifications) follows a pass in the background, one at a time, so a slow channel
    never delays the next investigations: while one runs, passes do not start another (what is
    pending stays in the outbox for the next)."""
    failures = 0
    following: asyncio.Task[None] | None = None
    try:
        while not stop.is_set():
            try:
                report = await watcher.tick()
                if after is not None and (following is None or following.done()):
                    following = asyncio.create_task(_after(after, report))
                failures = 0
                if report.investigated:
                    log.info("watcher: %s", report)
            except Exception as exc:  # the engine or the database is away: back off, try again
                failures += 1
                log.warning("watcher tick failed (%s); next in %.0f s", exc, min(interval_seconds * 2**failures, 600))
            delay = min(interval_seconds * 2**failures, 600.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
    finally:
        if following is not None and not following.done():
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following


async def _after(after: Callable[[WatchReport], Awaitable[None]], report: WatchReport) -> None:
    try:
        await after(report)
    except Exception:  # the next pass tries again (the outbox keeps what was not sent)
        log.exception("notifications after a watcher pass failed")


def _next_step(diagnosis: Diagnosis, category: Category, upstream_failed: list[str]) -> tuple[str, str]:
    """The next step in en and pt: the diagnosis' own, or its category's when the category changed; a
    failure that follows an upstream one says to fix that first."""
    step = cause_for(category)
    en, pt = (diagnosis.next_en, diagnosis.next_pt) if category == diagnosis.category else (step.next_en, step.next_pt)
    if upstream_failed:
        roots = ", ".join(upstream_failed[:3])
        en = f"fix the root failure first ({roots}); this job follows it. " + en
        pt = f"resolva primeiro a falha de origem ({roots}); este job vem depois. " + pt
    return en, pt
