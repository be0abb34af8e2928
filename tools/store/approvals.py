"""Approvals of write actions: self-contained requests, decided by an operator, executed once.

An approval names exactly what will happen (tool, action, target job id / run id, arguments), who
asked, and the state the requester saw. Its id is random (never derived from a tool-call id), and
the lifecycle is::

    pending → approved → executing → done | failed | stale | unknown
    pending → rejected          pending | approved → expired

Every transition is one conditional UPDATE, so two racing decisions, a replayed resume or a second
execution cannot both succeed. Only ``tools.actions`` moves an approval to ``executing``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field

from .db import Pool

FINAL = frozenset({"done", "failed", "stale", "unknown", "rejected", "expired"})
STATUSES = frozenset({"pending", "approved", "executing"}) | FINAL


class ApprovalError(Exception):
    """The approval does not allow what was asked (unknown, not pending, expired, already executed…)."""

    def __init__(self, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


Internal = Field(exclude=True)  # kept in the record, not shown by the API


@dataclass(frozen=True)
class Approval:
    """One approval record; also the API's response schema (``GET /api/v2/approvals/{id}``)."""

    id: str
    thread_id: str | None
    tool: str
    action: Annotated[
        str, Field(description="rerun, hold, release, cancel, kill, confirm_succ, confirm_abend, release_dependencies")
    ]
    arguments: dict[str, Any]
    target: Annotated[
        dict[str, Any], Field(description="the exact job (job_id, run_id) and the state the requester saw")
    ]
    description: str
    requested_by: str
    requested_role: str
    status: Annotated[
        str, Field(description="pending, approved, executing, done, failed, stale, unknown, rejected or expired")
    ]
    decided_by: str | None
    justification: str | None
    ticket: str | None
    category: str | None
    result: dict[str, Any] | None
    reason: Annotated[str | None, Field(description="what happened at the scheduler, or why nothing was done")]
    request_key: Annotated[str | None, Internal]
    tool_call_id: Annotated[str | None, Internal]
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime
    used_at: Annotated[datetime | None, Internal]
    executed_at: datetime | None
    finished_at: datetime | None

    @property
    def final(self) -> bool:
        return self.status in FINAL


@dataclass(frozen=True)
class ApprovalRequest:
    """What a write tool asks for: everything needed to act later from the record alone."""

    tool: str
    action: str
    arguments: dict[str, Any]
    target: dict[str, Any]  # job_id, job, run_id, status, return_code, priority, scheduled…
    description: str
    requested_by: str
    requested_role: str
    thread_id: str | None = None
    tool_call_id: str | None = None
    scope: str | None = None  # the graph task that asked (stable across a resume), None outside a graph

    def key(self) -> str | None:
        """Identifies the same request when a resumed graph task asks again; None outside a graph."""
        if not self.scope:
            return None
        canonical = json.dumps(
            [self.thread_id, self.scope, self.tool_call_id, self.tool, self.action, self.arguments], sort_keys=True
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


class ApprovalStore:
    def __init__(self, pool: Pool, ttl: timedelta = timedelta(minutes=30)) -> None:
        self.pool = pool
        self.ttl = ttl

    async def request(self, req: ApprovalRequest) -> Approval:
        """Create the pending approval; a graph task that re-runs on resume finds the one it created."""
        key = req.key()
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO approvals (id, thread_id, tool, action, arguments, target, description, requested_by,"
                " requested_role, request_key, tool_call_id, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now() + %s)"
                " ON CONFLICT (request_key) DO NOTHING RETURNING *",
                (
                    str(uuid.uuid4()),
                    req.thread_id,
                    req.tool,
                    req.action,
                    json.dumps(req.arguments),
                    json.dumps(req.target, default=str),
                    req.description,
                    req.requested_by,
                    req.requested_role,
                    key,
                    req.tool_call_id,
                    self.ttl,
                ),
            )
            row = await cur.fetchone()
        if row is not None:
            return Approval(**row)
        existing = await self.find(key)  # the request this graph task made before its resume
        assert existing is not None
        return existing

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Approval | None:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(sql, params)).fetchone()
        return Approval(**row) if row else None

    async def find(self, request_key: str | None) -> Approval | None:
        """The approval a graph task already requested (see ``ApprovalRequest.key``), if any."""
        if request_key is None:
            return None
        await self.expire_stale()
        return await self._one("SELECT * FROM approvals WHERE request_key = %s", (request_key,))

    async def get(self, approval_id: str) -> Approval:
        await self.expire_stale()
        approval = await self._one("SELECT * FROM approvals WHERE id = %s", (approval_id,))
        if approval is None:
            raise ApprovalError(f"no approval {approval_id}", not_found=True)
        return approval

    async def list(
        self, status: str | None = "pending", limit: int = 100, thread_id: str | None = None
    ) -> list[Approval]:
        await self.expire_stale()
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM approvals WHERE (%(status)s::text IS NULL OR status = %(status)s)"
                " AND (%(thread)s::text IS NULL OR thread_id = %(thread)s)"
                " ORDER BY created_at DESC LIMIT %(limit)s",
                {"status": status, "limit": limit, "thread": thread_id},
            )
            return [Approval(**row) for row in await cur.fetchall()]

    async def expire_stale(self) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE approvals SET status = 'expired', decided_at = coalesce(decided_at, now()),"
                " finished_at = now(), reason = 'the approval expired before it was executed: nothing was done'"
                " WHERE status IN ('pending', 'approved') AND expires_at <= now()"
            )
            return cur.rowcount

    async def _move(
        self,
        approval_id: str,
        source: str,
        target: str,
        assignments: str,
        params: tuple[Any, ...],
        unexpired: bool = False,
        refusal: str = "",
    ) -> Approval:
        """One conditional transition ``source → target`` returning the moved approval; ApprovalError
        (with ``refusal`` appended) when the approval is elsewhere."""
        await self.expire_stale()
        moved = await self._one(
            f"UPDATE approvals SET status = %s{assignments} WHERE id = %s AND status = %s"
            + (" AND expires_at > now()" if unexpired else "")
            + " RETURNING *",
            (target, *params, approval_id, source),
        )
        if moved is None:
            current = await self.get(approval_id)
            raise ApprovalError(f"approval {approval_id} is {current.status}, not {source}{refusal}")
        return moved

    async def approve(
        self,
        approval_id: str,
        decided_by: str,
        justification: str | None,
        ticket: str | None = None,
        category: str | None = "operator-approval",
    ) -> Approval:
        """pending → approved (the executor then runs it); the justification is the approver's own words."""
        text = (justification or "").strip() or None
        return await self._move(
            approval_id,
            "pending",
            "approved",
            ", decided_by = %s, justification = %s, ticket = %s, category = %s, decided_at = now()",
            (decided_by, text, ticket, category),
        )

    async def reject(self, approval_id: str, decided_by: str, justification: str | None = None) -> Approval:
        text = (justification or "").strip() or None
        return await self._move(
            approval_id,
            "pending",
            "rejected",
            ", decided_by = %s, justification = %s, decided_at = now(), finished_at = now(),"
            " reason = 'rejected: nothing was done'",
            (decided_by, text),
        )

    async def start(self, approval_id: str) -> Approval:
        """approved → executing: taken once, for the one write it allows (a replay or a forged resume fails)."""
        return await self._move(
            approval_id,
            "approved",
            "executing",
            ", executed_at = now(), used_at = now()",
            (),
            unexpired=True,
            refusal=": nothing may be written",
        )

    async def finish(
        self,
        approval_id: str,
        status: str,
        reason: str,
        result: dict[str, Any] | None = None,
        source: str = "executing",
    ) -> Approval:
        """executing → done | failed | stale | unknown (or unknown → done once reconciled)."""
        if status not in FINAL - {"rejected", "expired"}:
            raise ValueError(f"not an execution outcome: {status}")
        return await self._move(
            approval_id,
            source,
            status,
            ", reason = %s, result = %s, finished_at = now()",
            (reason, json.dumps(result, default=str) if result is not None else None),
        )
