"""The only code that writes to the scheduler: it executes an approved approval from its record.

Each write action is a row of ``ACTIONS``: when it is valid (notes §6), how it is sent, and how its
effect shows on the job (to reconcile a write that timed out). ``ActionExecutor`` decides an approval
(role and four-eyes checks), re-reads the job right before acting, and sends the action only when the
job is still as the requester saw it; every execution ends ``done``, ``failed``, ``stale`` or
``unknown`` with a reason an operator can read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .cache import CacheManager
from .hwa import HWAClient, JobAction, JobInPlan, Justification
from .hwa.errors import HWACircuitOpen, HWAError, HWANotFound, HWATimeout, HWAUnavailable
from .hwa.models import WAITING_STATUSES, ActionResult
from .store.approvals import Approval, ApprovalError, ApprovalStore

log = logging.getLogger(__name__)
Check = Callable[[JobInPlan], str | None]  # why the action is not valid for the job now, or None
Send = Callable[[HWAClient, Approval, Justification], Awaitable[ActionResult]]
Applied = Callable[[dict[str, Any], JobInPlan], bool]  # does the job show the action's effect?


def canceled(job: JobInPlan) -> bool:
    return bool(job.last_run_composite_status and job.last_run_composite_status.canceled)


def _by_id(action: JobAction) -> Send:
    return lambda client, approval, why: client.job_action(approval.target["job_id"], action, why)


def _rerun(client: HWAClient, approval: Approval, why: Justification) -> Awaitable[ActionResult]:
    return client.rerun_run(approval.target["run_id"], why)


@dataclass(frozen=True)
class WriteAction:
    key: str  # the name in APPROVAL_FOUR_EYES_ACTIONS and in the approval record
    verb: str  # what the operator reads: "rerun", "hold", "confirm SUCC"…
    check: Check
    send: Send
    applied: Applied


ACTIONS: dict[str, WriteAction] = {
    a.key: a
    for a in (
        WriteAction(
            "rerun",
            "rerun",
            lambda j: (
                None
                if j.last_run is not None and (j.status in {"SUCC", "ABEND", "FAIL"} or canceled(j))
                else "rerun is allowed from SUCC, ABEND, FAIL or a cancelled job"
            ),
            _rerun,
            lambda seen, job: job.last_run is not None and job.last_run.id != seen.get("run_id"),
        ),
        WriteAction(
            "hold",
            "hold",
            lambda j: (
                None
                if j.status in WAITING_STATUSES and not canceled(j) and j.priority != 0
                else "only a waiting job that is not already held can be held"
            ),
            _by_id(JobAction.HOLD),
            lambda seen, job: job.priority == 0,
        ),
        WriteAction(
            "release",
            "release",
            lambda j: None if j.priority == 0 else "it is not held",
            _by_id(JobAction.RELEASE),
            lambda seen, job: job.priority != 0,
        ),
        WriteAction(
            "cancel",
            "cancel",
            lambda j: (
                "a successful or already cancelled job cannot be cancelled"
                if j.status == "SUCC" or canceled(j)
                else None
            ),
            _by_id(JobAction.CANCEL),
            lambda seen, job: canceled(job),
        ),
        WriteAction(
            "kill",
            "kill",
            lambda j: None if j.status == "EXEC" else "only a running (EXEC) job can be killed",
            _by_id(JobAction.KILL),
            lambda seen, job: job.status == "ABEND",
        ),
        WriteAction(
            "confirm_succ",
            "confirm SUCC",
            lambda j: None if j.status in {"EXEC", "PEND", "ABEND"} else "confirm SUCC applies to ABEND, EXEC, PEND",
            _by_id(JobAction.CONFIRM_SUCC),
            lambda seen, job: job.status == "SUCC",
        ),
        WriteAction(
            "confirm_abend",
            "confirm ABEND",
            lambda j: None if j.status in {"EXEC", "PEND"} else "confirm ABEND applies to EXEC, PEND",
            _by_id(JobAction.CONFIRM_ABEND),
            lambda seen, job: job.status == "ABEND" and seen.get("status") != "ABEND",
        ),
        WriteAction(
            "release_dependencies",
            "release all dependencies of",
            lambda j: None if j.status in WAITING_STATUSES else "only a job still waiting has dependencies to release",
            _by_id(JobAction.RELEASE_ALL_DEPENDENCIES),
            lambda seen, job: job.status != seen.get("status"),
        ),
    )
}


def seen_state(job: JobInPlan) -> dict[str, Any]:
    """The target of an approval: the exact job (and run) and the state the requester saw."""
    run = job.last_run
    return {
        "job_id": job.id,
        "job": job.qualified_name,
        "run_id": run.id if run else None,
        "status": job.status,
        "return_code": job.return_code,
        "priority": job.priority,
        "canceled": canceled(job),
        "scheduled": job.sched_time.strftime("%Y-%m-%dT%H:%M:%SZ") if job.sched_time else None,
    }


def describe_state(state: dict[str, Any]) -> str:
    rc = f" rc {state['return_code']}" if state.get("return_code") is not None else ""
    extra = " (cancelled)" if state.get("canceled") else (" (held)" if state.get("priority") == 0 else "")
    return f"{state.get('status')}{rc}{extra}"


def what_changed(seen: dict[str, Any], now: dict[str, Any]) -> str | None:
    """Why the job is no longer the one the requester saw, or None."""
    for key in ("status", "run_id", "return_code", "canceled"):
        if seen.get(key) != now.get(key):
            return f"was {describe_state(seen)} when requested, now {describe_state(now)}"
    return None


@dataclass(frozen=True)
class ApprovalPolicy:
    four_eyes: bool = False
    four_eyes_actions: frozenset[str] = field(default_factory=frozenset)  # empty: every action

    def needs_second_person(self, approval: Approval) -> bool:
        if not self.four_eyes:
            return False
        names = {approval.action, approval.tool} | ({"confirm"} if approval.action.startswith("confirm_") else set())
        return not self.four_eyes_actions or bool(names & self.four_eyes_actions)


class DecisionRefused(Exception):
    """The decider may not decide this approval (role, four-eyes): nothing changed."""


DECIDER_ROLES = frozenset({"operator", "admin"})


@dataclass(frozen=True)
class Decision:
    kind: str  # approve | reject
    by: str
    role: str
    justification: str | None = None
    ticket: str | None = None


class ActionExecutor:
    """Decides approvals and executes approved ones; holds the only writing client."""

    def __init__(
        self,
        client: HWAClient,
        approvals: ApprovalStore,
        cache: CacheManager | None = None,
        policy: ApprovalPolicy | None = None,
    ) -> None:
        self._client = client
        self.approvals = approvals
        self.cache = cache
        self.policy = policy or ApprovalPolicy()

    async def decide(self, approval_id: str, decision: Decision) -> Approval:
        """Record the decision and, when approved, execute it; returns the approval as it ended."""
        approval = await self.approvals.get(approval_id)
        if decision.role not in DECIDER_ROLES:
            raise DecisionRefused(f"role {decision.role} may not decide approvals (needs operator)")
        if decision.kind not in {"approve", "reject"}:
            raise DecisionRefused(f"unknown decision {decision.kind!r}: approve or reject")
        if self.policy.needs_second_person(approval) and decision.by == approval.requested_by:
            raise DecisionRefused(
                f"four-eyes rule: {decision.by} requested this {approval.action} and may not decide it;"
                " another operator must"
            )
        if decision.kind == "reject":
            return await self.approvals.reject(approval_id, decision.by, decision.justification)
        await self.approvals.approve(approval_id, decision.by, decision.justification, decision.ticket)
        return await self.execute(approval_id)

    async def execute(self, approval_id: str) -> Approval:
        """approved → executing → done | failed | stale | unknown; shielded: a caller that goes away
        does not leave the approval half-executed."""
        return await asyncio.shield(self._execute(approval_id))

    async def _execute(self, approval_id: str) -> Approval:
        approval = await self.approvals.start(approval_id)  # raises unless approved (once)
        action = ACTIONS.get(approval.action)
        if action is None:
            return await self.approvals.finish(approval_id, "failed", f"unknown action {approval.action}: nothing sent")
        try:
            job = await self._client.get_job(approval.target["job_id"])
        except HWANotFound:
            return await self.approvals.finish(
                approval_id, "stale", "the job is no longer in the plan — nothing was done; ask again"
            )
        except HWAError as exc:
            return await self.approvals.finish(
                approval_id, "failed", f"could not re-check the job before acting ({exc.message}) — nothing was sent"
            )
        now = seen_state(job)
        changed = what_changed(approval.target, now) or action.check(job)
        if changed:
            return await self.approvals.finish(
                approval_id, "stale", f"{changed} — nothing was done; ask again", {"job_now": now}
            )
        try:
            result = await action.send(self._client, approval, justification_for(approval))
        except (HWACircuitOpen, HWAUnavailable) as exc:
            if isinstance(exc, HWATimeout) or (exc.status is not None and not isinstance(exc, HWACircuitOpen)):
                return await self._unknown(approval, action, exc)
            return await self.approvals.finish(
                approval_id, "failed", f"the scheduler could not be reached ({exc.message}) — nothing was sent"
            )
        except HWAError as exc:
            return await self.approvals.finish(approval_id, "failed", f"the scheduler refused: {exc.message}")
        except Exception as exc:  # we cannot know whether the engine acted
            log.exception("action %s of approval %s", approval.action, approval_id)
            return await self._unknown(approval, action, exc)
        await self._invalidate(approval)
        after = await self._read_back(approval)
        return await self.approvals.finish(
            approval_id,
            "done",
            f"{approval.description}: done",
            {"engine_result": result.model_dump(exclude_none=True), "job_now": after},
        )

    async def _unknown(self, approval: Approval, action: WriteAction, exc: Exception) -> Approval:
        """The write may have been applied: re-read the job; the change visible → done, else unknown."""
        await self._invalidate(approval)
        try:
            job = await self._client.get_job(approval.target["job_id"])
        except Exception:
            job = None
        if job is not None and action.applied(approval.target, job):
            return await self.approvals.finish(
                approval.id,
                "done",
                f"the scheduler did not confirm ({exc}), but the job now shows it: {describe_state(seen_state(job))}",
                {"job_now": seen_state(job), "reconciled": True},
            )
        now = f"; the job now reads {describe_state(seen_state(job))}" if job is not None else ""
        return await self.approvals.finish(
            approval.id,
            "unknown",
            f"the scheduler did not confirm the {action.verb} ({exc}): it may or may not have been applied{now}."
            " Check the job before asking again",
            {"job_now": seen_state(job) if job is not None else None},
        )

    async def reconcile(self, approval_id: str) -> Approval:
        """An ``unknown`` approval whose effect is now visible becomes ``done``."""
        approval = await self.approvals.get(approval_id)
        action = ACTIONS.get(approval.action)
        if approval.status != "unknown" or action is None:
            return approval
        job = await self._client.get_job(approval.target["job_id"])
        if not action.applied(approval.target, job):
            return approval
        return await self.approvals.finish(
            approval_id,
            "done",
            f"reconciled: the job now shows the {action.verb} ({describe_state(seen_state(job))})",
            {"job_now": seen_state(job), "reconciled": True},
            source="unknown",
        )

    async def _read_back(self, approval: Approval) -> dict[str, Any] | None:
        try:
            return seen_state(await self._client.get_job(approval.target["job_id"]))
        except HWAError:
            return None

    async def _invalidate(self, approval: Approval) -> None:
        if self.cache is None:
            return
        name = str(approval.target.get("job", "")).rsplit(".", 1)[-1]
        await self.cache.invalidate_job_cache(name)
        await self.cache.invalidate_pattern("tws:static:*")


def justification_for(approval: Approval) -> Justification:
    """The engine's audit headers, from the approver's own words (never invented)."""
    said = approval.justification or "no justification given"
    return Justification(
        category=approval.category or "operator-approval",
        description=f"{said} (approved by {approval.decided_by} via Resync, approval {approval.id})",
        ticket_number=approval.ticket,
    )


__all__ = [
    "ACTIONS",
    "ActionExecutor",
    "ApprovalError",
    "ApprovalPolicy",
    "Decision",
    "DecisionRefused",
    "WriteAction",
    "seen_state",
]
