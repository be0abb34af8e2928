"""Approvals of write actions: self-contained requests, decided by an operator, executed once.

An approval names exactly what will happen (tool, action, target job id / run id, arguments), who
asked, and the state the requester saw. Its id is random (never derived from a tool-call id), and
the lifecycle is::

    pending → approved → executing → done | failed | stale | unknown
    pending → rejected          pending | approved → expired
    executing (its process died) → done | unknown      unknown → done | failed (recovery pass)

At most one approval per intent (engine, action, job) is open at a time: a second request joins
it. Executing one holds its job's write lock, so two writes on one job never interleave.

Every transition is one conditional UPDATE, so two racing decisions, a replayed resume or a second
execution cannot both succeed. Only ``tools.executor`` moves an approval to ``executing``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import Field

from .db import Pool, try_advisory_lock

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
    engine: Annotated[str, Field(description="the engine the action is bound to")]
    target_key: Annotated[str, Internal]
    checks: Annotated[int, Internal]  # times the recovery pass re-read the engine for an unanswered write
    last_checked_at: Annotated[datetime | None, Internal]

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
    engine: str = "default"

    def target_key(self) -> str:
        """The intent: at most one open approval per engine, action and job (``approvals_one_open_intent``)."""
        return intent_key(self.engine, self.action, str(self.target.get("job_id")))

    def key(self) -> str | None:
        """Identifies the same request when a resumed graph task asks again; None outside a graph."""
        if not self.scope:
            return None
        canonical = json.dumps(
            [self.thread_id, self.scope, self.tool_call_id, self.tool, self.action, self.arguments], sort_keys=True
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def intent_key(engine: str, action: str, job_id: str) -> str:
    return f"{engine}:{action}:{job_id}"


OPEN = ("pending", "approved", "executing")


class ApprovalStore:
    def __init__(self, pool: Pool, ttl: timedelta = timedelta(minutes=30)) -> None:
        self.pool = pool
        self.ttl = ttl

    async def request(self, req: ApprovalRequest) -> tuple[Approval, bool]:
        """Create the pending approval, or find the one this request joins: ``(approval, joined)``.
        A graph task that re-runs on resume finds the one it created (not joined); a request for an
        action on a job that already has an open approval for it joins that one (joined) — one write
        per intent, whoever asks and however often."""
        key = req.key()
        for _ in range(5):  # the open approval may end between the insert and the look-up: ask again
            async with self.pool.connection() as conn:
                cur = await conn.execute(
                    "INSERT INTO approvals (id, thread_id, tool, action, arguments, target, description, requested_by,"
                    " requested_role, request_key, tool_call_id, expires_at, engine, target_key)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now() + %s, %s, %s)"
                    " ON CONFLICT DO NOTHING RETURNING *",
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
                        req.engine,
                        req.target_key(),
                    ),
                )
                row = await cur.fetchone()
            if row is not None:
                return Approval(**row), False
            mine = await self.find(key)  # the request this graph task made (or joined) before its resume
            if mine is not None:
                return mine, mine.request_key != key
            open_one = await self.open_for(req.target_key())
            if open_one is not None:
                await self._remember_join(key, open_one.id, req.requested_by)
                return open_one, True
        raise ApprovalError(f"could not record the request for {req.target_key()}: try again")

    async def _remember_join(self, request_key: str | None, approval_id: str, by: str) -> None:
        """A graph task that joined ``approval_id`` finds it again when it re-runs on resume."""
        if request_key is None:
            return
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO approval_joins (request_key, approval_id, joined_by) VALUES (%s, %s, %s)"
                " ON CONFLICT (request_key) DO NOTHING",
                (request_key, approval_id, by),
            )

    async def open_for(self, target_key: str) -> Approval | None:
        """The open (pending, approved or executing) approval of one intent, if any."""
        await self.expire_stale()
        return await self._one(
            "SELECT * FROM approvals WHERE target_key = %s AND status = ANY(%s)", (target_key, list(OPEN))
        )

    @contextlib.asynccontextmanager
    async def target_lock(self, engine: str, job_id: str, wait_seconds: float) -> AsyncIterator[bool]:
        """Hold the job's write lock (a session advisory lock, shared by every process on this
        database) for the block: yields False when another write on the job held it ``wait_seconds``.
        The lock lives on a connection of its own (never one of the pool's, which the write itself
        needs); a process that dies releases it with that connection."""
        name = f"resync:write:{engine}:{job_id}"
        async with await AsyncConnection.connect(
            str(self.pool.conninfo), autocommit=True, connect_timeout=5, row_factory=dict_row
        ) as conn:
            if not await try_advisory_lock(conn, name, wait_seconds, every=0.1):
                yield False
                return
            try:
                yield True
            finally:
                with contextlib.suppress(Exception):  # a broken connection dropped the lock already
                    await conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (name,))

    async def unanswered(self, executing_for: timedelta, limit: int = 100) -> list[Approval]:
        """Writes whose outcome nobody knows yet: ``executing`` longer than ``executing_for`` (the
        process that sent it died, or it hangs) and every ``unknown``, oldest first."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT * FROM approvals WHERE (status = 'executing' AND executed_at <= now() - %s)"
                " OR status = 'unknown' ORDER BY executed_at NULLS FIRST LIMIT %s",
                (executing_for, limit),
            )
            return [Approval(**row) for row in await cur.fetchall()]

    async def checked(self, approval_id: str) -> None:
        """The recovery pass re-read the engine for this write once more."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "UPDATE approvals SET checks = checks + 1, last_checked_at = now() WHERE id = %s", (approval_id,)
            )

    async def _one(self, sql: str, params: tuple[Any, ...] | dict[str, Any]) -> Approval | None:
        async with self.pool.connection() as conn:
            row = await (await conn.execute(sql, params)).fetchone()
        return Approval(**row) if row else None

    async def find(self, request_key: str | None) -> Approval | None:
        """The approval a graph task already requested or joined (see ``ApprovalRequest.key``), if any."""
        if request_key is None:
            return None
        await self.expire_stale()
        return await self._one(
            "SELECT * FROM approvals WHERE request_key = %(key)s"
            " OR id = (SELECT approval_id FROM approval_joins WHERE request_key = %(key)s) LIMIT 1",
            {"key": request_key},
        )

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
        """executing → done | failed | stale | unknown (or unknown → done | failed once reconciled)."""
        if status not in FINAL - {"rejected", "expired"}:
            raise ValueError(f"not an execution outcome: {status}")
        return await self._move(
            approval_id,
            source,
            status,
            ", reason = %s, result = %s, finished_at = now()",
            (reason, json.dumps(result, default=str) if result is not None else None),
        )
