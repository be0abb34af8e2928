"""Approvals of write actions: requested by a tool call, decided by an operator, used exactly once.

The lifecycle is ``pending → approved | rejected | expired`` and ``approved → used``; every
transition is a single conditional UPDATE, so two racing decisions or a replayed approval cannot
both succeed. Nothing is written to the scheduler without an approval moved to ``used``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .db import Pool


class ApprovalError(Exception):
    """The approval does not allow what was asked (unknown, not pending, expired, already used…)."""


@dataclass(frozen=True)
class Approval:
    id: str
    thread_id: str | None
    tool: str
    arguments: dict[str, Any]
    target: dict[str, Any]
    description: str
    requested_by: str
    requested_role: str
    status: str
    decided_by: str | None
    justification: str | None
    ticket: str | None
    category: str | None
    result: dict[str, Any] | None
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime
    used_at: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.__dict__.items()}


class ApprovalStore:
    def __init__(self, pool: Pool, ttl: timedelta = timedelta(minutes=30)) -> None:
        self.pool = pool
        self.ttl = ttl

    async def request(
        self,
        approval_id: str,
        *,
        tool: str,
        arguments: dict[str, Any],
        target: dict[str, Any],
        description: str,
        requested_by: str,
        requested_role: str,
        thread_id: str | None = None,
    ) -> Approval:
        """Create the pending approval, or return the existing one with this id (a resumed node
        re-runs from its start and asks again: it must find the same approval)."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO approvals (id, thread_id, tool, arguments, target, description, requested_by,"
                " requested_role, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now() + %s)"
                " ON CONFLICT (id) DO NOTHING",
                (
                    approval_id,
                    thread_id,
                    tool,
                    json.dumps(arguments),
                    json.dumps(target, default=str),
                    description,
                    requested_by,
                    requested_role,
                    self.ttl,
                ),
            )
        return await self.get(approval_id)

    async def get(self, approval_id: str) -> Approval:
        await self.expire_stale()
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT * FROM approvals WHERE id = %s", (approval_id,))
            row = await cur.fetchone()
        if row is None:
            raise ApprovalError(f"no approval {approval_id}")
        return Approval(**row)

    async def list(self, status: str | None = "pending", limit: int = 100) -> list[Approval]:
        await self.expire_stale()
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM approvals WHERE %(status)s::text IS NULL OR status = %(status)s "
                "ORDER BY created_at DESC LIMIT %(limit)s",
                {"status": status, "limit": limit},
            )
            return [Approval(**row) for row in await cur.fetchall()]

    async def expire_stale(self) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE approvals SET status = 'expired', decided_at = now() "
                "WHERE status IN ('pending', 'approved') AND expires_at <= now()"
            )
            return cur.rowcount

    async def _decide(
        self,
        approval_id: str,
        status: str,
        decided_by: str,
        justification: str | None,
        ticket: str | None,
        category: str | None,
    ) -> Approval:
        await self.expire_stale()
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE approvals SET status = %s, decided_by = %s, justification = %s, ticket = %s, category = %s,"
                " decided_at = now() WHERE id = %s AND status = 'pending' RETURNING id",
                (status, decided_by, justification, ticket, category, approval_id),
            )
            if await cur.fetchone() is None:
                current = await self.get(approval_id)
                raise ApprovalError(f"approval {approval_id} is {current.status}, not pending")
        return await self.get(approval_id)

    async def approve(
        self,
        approval_id: str,
        decided_by: str,
        justification: str,
        ticket: str | None = None,
        category: str | None = "operator-approval",
    ) -> Approval:
        if not justification.strip():
            raise ApprovalError("an approval needs a justification")
        return await self._decide(approval_id, "approved", decided_by, justification.strip(), ticket, category)

    async def reject(self, approval_id: str, decided_by: str, justification: str | None = None) -> Approval:
        return await self._decide(approval_id, "rejected", decided_by, justification, None, None)

    async def consume(self, approval_id: str) -> Approval:
        """Take an approved approval for the write it allows; a second call (or a forged resume) fails."""
        await self.expire_stale()
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE approvals SET status = 'used', used_at = now() "
                "WHERE id = %s AND status = 'approved' AND expires_at > now() RETURNING id",
                (approval_id,),
            )
            if await cur.fetchone() is None:
                current = await self.get(approval_id)
                raise ApprovalError(f"approval {approval_id} is {current.status}: nothing may be written")
        return await self.get(approval_id)

    async def record_result(self, approval_id: str, result: dict[str, Any]) -> None:
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE approvals SET result = %s WHERE id = %s", (json.dumps(result, default=str), approval_id)
            )
