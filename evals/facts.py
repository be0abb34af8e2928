"""Facts a case's answer must (or must not) state, resolved against the scheduler when the case runs:
plans are anchored at the current time, so a fact is a question to the engine ("the return code of
PAYROLL_NIGHTLY's last failed run"), not a constant. Resolved through the scheduler client alone —
never through the tools or the graph under test.

A fact is ``{"fact": kind, ...}``; resolving it gives the strings the answer is checked for and how
many of them it must name (``need``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.hwa import HWAClient, JobInPlan

FAILED = {"ABEND", "FAIL"}


@dataclass(frozen=True)
class Expectation:
    """The answer passes when it names at least ``need`` of ``any_of`` (case-insensitive words);
    ``approval`` facts look at the run's pending approval instead."""

    label: str
    any_of: tuple[str, ...] = ()
    need: int = 1
    approval: bool | None = None  # True: an approval must be pending; False: none may be

    def met(self, answer: str, pending_approval: str | None) -> bool:
        if self.approval is not None:
            return (pending_approval is not None) == self.approval
        return sum(1 for value in self.any_of if mentions(answer, value)) >= self.need

    def as_dict(self) -> dict[str, Any]:
        return {"label": self.label, "any_of": list(self.any_of), "need": self.need, "approval": self.approval}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Expectation:
        return cls(data["label"], tuple(data["any_of"]), data["need"], data["approval"])


def mentions(answer: str, value: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", answer, re.IGNORECASE) is not None


async def latest(client: HWAClient, job: str) -> JobInPlan:
    found = await client.find_jobs(job)
    if not found:
        raise LookupError(f"the plan has no job {job}")
    return found[0]


async def resolve(client: HWAClient, spec: dict[str, Any]) -> Expectation:
    """The expectation a fact spec stands for, on the scheduler's current state."""
    kind = spec["fact"]
    job = str(spec.get("job") or "")
    if kind == "mention":
        return Expectation(f"mentions {spec['text']}", (spec["text"],))
    if kind == "job":
        return Expectation(f"names {job}", (job,))
    if kind == "approval_pending":
        return Expectation("asks for approval", approval=True)
    if kind == "no_approval":
        return Expectation("asks for no approval", approval=False)
    if kind == "status":
        found = await latest(client, job)
        return Expectation(f"status of {job} ({found.status})", (str(found.status),))
    if kind == "return_code":
        detail = await client.get_job((await latest(client, job)).id)
        runs = [r for r in detail.jobruns if r.return_code is not None and r.status in FAILED] or [
            r for r in detail.jobruns if r.return_code is not None
        ]
        if not runs:
            raise LookupError(f"{job} has no run with a return code")
        return Expectation(f"return code of {job}", (str(runs[-1].return_code),))
    if kind in {"successor", "predecessor"}:
        found = await latest(client, job)
        nodes = await (client.job_successors if kind == "successor" else client.job_predecessors)(found.id)
        names = tuple(sorted({n.name for n in nodes if n.name}))
        if not names:
            raise LookupError(f"{job} has no {kind}s")
        return Expectation(f"a {kind} of {job}", names)
    if kind == "failed_job":  # runs that ended ABEND/FAIL in the window (reruns included)
        since = datetime.now(UTC) - timedelta(hours=int(spec.get("hours", 24)))
        names = tuple(
            sorted(
                {
                    j.name
                    for j in await client.jobs_with_failed_runs(since)
                    for r in j.jobruns
                    if r.status in FAILED
                    and r.time_info
                    and r.time_info.actual_end_time
                    and r.time_info.actual_end_time >= since
                }
            )
        )
        if not names:
            return Expectation("says nothing failed", ("No job failed", "Nenhum job falhou", "no job run failed"))
        return Expectation(
            f"jobs failed in {spec.get('hours', 24)} h", names, need=min(spec.get("need", 2), len(names))
        )
    if kind == "workstation_down":
        stations = [w async for w in _workstations(client)]
        names = tuple(sorted(w.name for w in stations if not w.linked))
        return Expectation("workstations down", names)
    raise ValueError(f"unknown fact kind {kind!r}")


async def _workstations(client: HWAClient) -> Any:
    page = await client.query_workstations(limit=500)
    for station in page.results:
        yield station


async def resolve_all(client: HWAClient, specs: list[dict[str, Any]]) -> list[Expectation]:
    return [await resolve(client, spec) for spec in specs]
