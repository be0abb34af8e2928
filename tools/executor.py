"""The only code that writes to the scheduler: it decides approvals and executes an approved one from
its record. ``ActionExecutor`` checks the decider (role, four-eyes, a justification), takes the job's
write lock, re-reads the job right before acting and sends the action only when the job is still as
the requester saw it; every execution ends ``done``, ``failed``, ``stale`` or ``unknown`` with a
reason an operator can read, and the recovery pass (``recover``) settles the writes whose end nobody
heard (a server killed mid-write, an engine that timed out).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .actions import ACTIONS, WriteAction, describe_state, seen_state, what_changed
from .cache import CacheManager
from .hwa import HWAClient, JobInPlan, Justification
from .hwa.errors import HWACircuitOpen, HWAError, HWANotFound, HWATimeout, HWAUnavailable
from .store.approvals import Approval, ApprovalError, ApprovalStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApprovalPolicy:
    four_eyes: bool = False
    four_eyes_actions: frozenset[str] = field(default_factory=frozenset)  # empty: every action
    require_justification: bool = True  # every client alike: the REST API, the chat page, Agent Chat UI, MCP

    def needs_second_person(self, approval: Approval) -> bool:
        if not self.four_eyes:
            return False
        names = {approval.action, approval.tool} | ({"confirm"} if approval.action.startswith("confirm_") else set())
        return not self.four_eyes_actions or bool(names & self.four_eyes_actions)


class DecisionRefused(Exception):
    """The decider may not decide this approval (role, four-eyes): nothing changed."""


class JustificationRequired(DecisionRefused):
    """An approval without the approver's reason (at least three characters): nothing changed."""


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
        lock_wait_seconds: float = 30.0,
    ) -> None:
        self._client = client
        self.approvals = approvals
        self.cache = cache
        self.policy = policy or ApprovalPolicy()
        self.lock_wait_seconds = lock_wait_seconds  # how long a write waits for another write on its job

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
        if self.policy.require_justification and len((decision.justification or "").strip()) < 3:
            raise JustificationRequired(
                "a justification is required to approve a write: say why (approve with a message);"
                f" approval {approval_id} is still {approval.status}"
            )
        await self.approvals.approve(approval_id, decision.by, decision.justification, decision.ticket)
        return await self.execute(approval_id)

    async def execute(self, approval_id: str) -> Approval:
        """approved → executing → done | failed | stale | unknown; shielded: a caller that goes away
        does not leave the approval half-executed."""
        return await asyncio.shield(self._execute(approval_id))

    async def _execute(self, approval_id: str) -> Approval:
        approval = await self.approvals.get(approval_id)
        job_id = str(approval.target.get("job_id"))
        async with self.approvals.target_lock(approval.engine, job_id, self.lock_wait_seconds) as held:
            try:
                approval = await self.approvals.start(approval_id)  # raises unless approved (once)
            except ApprovalError:
                current = await self.approvals.get(approval_id)
                if current.status == "executing":
                    return current  # another request executes it now: its outcome is the one
                raise
            if not held:
                return await self._end(
                    approval, "stale", "another write on this job was still in progress — nothing was done; ask again"
                )
            return await self._write(approval)

    async def outcome(self, approval_id: str) -> Approval:
        """The approval once its execution ended, waiting (up to the lock wait and a write's time) for
        a write under way in another request; the record as it is when that time is up."""
        deadline = asyncio.get_running_loop().time() + 2 * self.lock_wait_seconds
        approval = await self.approvals.get(approval_id)
        while approval.status in {"approved", "executing"} and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.2)
            approval = await self.approvals.get(approval_id)
        return approval

    async def _write(self, approval: Approval) -> Approval:
        """Re-read the job, send the action only when it is still as the requester saw it, report."""
        action = ACTIONS.get(approval.action)
        if action is None:
            return await self._end(approval, "failed", f"unknown action {approval.action}: nothing sent")
        try:
            job = await self._client.get_job(approval.target["job_id"])
        except HWANotFound:
            return await self._end(approval, "stale", "the job is no longer in the plan — nothing was done; ask again")
        except HWAError as exc:
            return await self._end(
                approval, "failed", f"could not re-check the job before acting ({exc.message}) — nothing was sent"
            )
        now = seen_state(job)
        changed = what_changed(approval.target, now) or action.check(job)
        if changed:
            return await self._end(approval, "stale", f"{changed} — nothing was done; ask again", {"job_now": now})
        try:
            result = await action.send(self._client, approval, justification_for(approval))
        except (HWACircuitOpen, HWAUnavailable) as exc:
            if isinstance(exc, HWATimeout) or (exc.status is not None and not isinstance(exc, HWACircuitOpen)):
                return await self._unknown(approval, action, exc)
            return await self._end(
                approval, "failed", f"the scheduler could not be reached ({exc.message}) — nothing was sent"
            )
        except HWAError as exc:
            return await self._end(approval, "failed", f"the scheduler refused: {exc.message}")
        except Exception as exc:  # we cannot know whether the engine acted
            log.exception("action %s of approval %s", approval.action, approval.id)
            return await self._unknown(approval, action, exc)
        await self._invalidate(approval)
        after = await self._read_back(approval)
        return await self._end(
            approval,
            "done",
            f"{approval.description}: done",
            {"engine_result": result.model_dump(exclude_none=True), "job_now": after},
        )

    async def _end(
        self, approval: Approval, status: str, reason: str, result: dict[str, Any] | None = None
    ) -> Approval:
        """executing → the outcome; when the recovery pass already ended it (this write outlived its
        timeout), the record keeps that outcome."""
        try:
            return await self.approvals.finish(approval.id, status, reason, result)
        except ApprovalError:
            return await self.approvals.get(approval.id)

    async def _unknown(self, approval: Approval, action: WriteAction, exc: Exception) -> Approval:
        """The write may have been applied: re-read the job; the change visible → done, else unknown
        (the recovery pass keeps checking)."""
        await self._invalidate(approval)
        try:
            job = await self._client.get_job(approval.target["job_id"])
        except Exception:
            job = None
        if job is not None and action.applied(approval.target, job):
            return await self._end(
                approval,
                "done",
                f"the scheduler did not confirm ({exc}), but the job now shows it: {describe_state(seen_state(job))}",
                {"job_now": seen_state(job), "reconciled": True},
            )
        now = f"; the job now reads {describe_state(seen_state(job))}" if job is not None else ""
        return await self._end(
            approval,
            "unknown",
            f"the scheduler did not confirm the {action.verb} ({exc}): it may or may not have been applied{now}."
            " Resync keeps checking the job; check it before asking again",
            {"job_now": seen_state(job) if job is not None else None},
        )

    async def reconcile(self, approval_id: str, give_up_after: timedelta = timedelta(hours=1)) -> Approval:
        """Settle one write whose outcome nobody knows: ``executing`` with no process behind it (its
        job's write lock is free) or ``unknown``. The effect visible at the engine → ``done``; not
        yet → ``unknown``, checked again on the next pass; still not after ``give_up_after`` →
        ``failed``, said plainly. A write still in flight elsewhere is left to its process."""
        approval = await self.approvals.get(approval_id)
        action = ACTIONS.get(approval.action)
        if approval.status not in {"executing", "unknown"} or action is None:
            return approval
        async with self.approvals.target_lock(approval.engine, str(approval.target.get("job_id")), 0) as free:
            if not free:
                return approval  # a live process is writing to this job now
            approval = await self.approvals.get(approval_id)
            if approval.status not in {"executing", "unknown"}:
                return approval
            try:
                job: JobInPlan | None = await self._client.get_job(approval.target["job_id"])
            except HWANotFound:
                job = None
            await self.approvals.checked(approval.id)
            return await self._settle(approval, action, job, give_up_after)

    async def _settle(
        self, approval: Approval, action: WriteAction, job: JobInPlan | None, give_up_after: timedelta
    ) -> Approval:
        source = approval.status
        if job is not None and action.applied(approval.target, job):
            state = seen_state(job)
            return await self.approvals.finish(
                approval.id,
                "done",
                f"reconciled: the job now shows the {action.verb} ({describe_state(state)})",
                {"job_now": state, "reconciled": True},
                source=source,
            )
        now = f"the job reads {describe_state(seen_state(job))}" if job else "the job is no longer in the plan"
        started = approval.executed_at or approval.created_at
        if source == "unknown" and datetime.now(UTC) - started >= give_up_after:
            minutes = int(give_up_after.total_seconds() // 60)
            return await self.approvals.finish(
                approval.id,
                "failed",
                f"not applied: the {action.verb} never showed at the scheduler in {minutes} min of checks ({now});"
                " treat it as not done and ask again if it is still needed",
                {"job_now": seen_state(job) if job else None, "gave_up": True},
                source=source,
            )
        if source == "executing":
            return await self.approvals.finish(
                approval.id,
                "unknown",
                f"the write was in flight when Resync stopped or the scheduler did not answer; {now} and does not"
                f" show the {action.verb} yet — Resync keeps checking; check the job before asking again",
                {"job_now": seen_state(job) if job else None},
            )
        return approval

    async def recover(self, executing_for: timedelta, give_up_after: timedelta = timedelta(hours=1)) -> list[Approval]:
        """One recovery pass: every unanswered write (``executing`` for longer than ``executing_for``
        with nobody writing, and every ``unknown``) re-read at the engine; returns those that ended
        or changed (so their conversations can be told). An engine that fails leaves them to the next pass."""
        changed: list[Approval] = []
        for approval in await self.approvals.unanswered(executing_for):
            try:
                after = await self.reconcile(approval.id, give_up_after)
            except Exception as exc:  # one approval's trouble never stops the others' recovery
                log.warning("recovery of approval %s: %s (next pass)", approval.id, exc)
                continue
            if after.status != approval.status:
                changed.append(after)
        return changed

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


__all__ = ["ActionExecutor", "ApprovalError", "ApprovalPolicy", "Decision", "DecisionRefused", "JustificationRequired"]
