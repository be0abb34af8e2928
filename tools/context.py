"""What a tool runs with: the scheduler client (guarded for writes), cache, stores, the caller and
the approval gate that pauses the graph before any write."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .cache import CacheManager
from .hwa import HWAClient, Justification
from .store.approvals import ApprovalError, ApprovalStore
from .store.documents import DocumentStore
from .store.incidents import IncidentStore
from .store.kg import KnowledgeGraph

WRITE_METHODS = frozenset({"job_action", "job_action_by_filter", "rerun_run", "release_dependencies"})
Decide = Callable[[dict[str, Any]], Any]


class ApprovalPending(Exception):
    """Raised outside a graph: the approval exists, the run cannot pause; decide it, then call again."""

    def __init__(self, approval_id: str, request: dict[str, Any]) -> None:
        super().__init__(f"approval {approval_id} is pending")
        self.approval_id = approval_id
        self.request = request


class ActionRejected(Exception):
    """The operator rejected the action (or it expired): nothing was written."""


class WriteNotApproved(RuntimeError):
    """A write was attempted without a consumed approval: a bug in a tool, refused."""


def interrupt_decide(request: dict[str, Any]) -> Any:
    """Pause the LangGraph run until it is resumed with ``Command(resume={"decisions": [...]})``."""
    from langgraph.types import interrupt

    return interrupt(request)


class GuardedClient:
    """The scheduler client as tools see it: reads pass, writes need a token that ``require_approval``
    grants once, after the approval was consumed."""

    def __init__(self, client: HWAClient) -> None:
        self._client = client
        self._tokens = 0

    def grant(self) -> None:
        self._tokens += 1

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in WRITE_METHODS:
            return attr

        async def guarded(*args: Any, **kwargs: Any) -> Any:
            if self._tokens <= 0:
                raise WriteNotApproved(f"{name} called without an approved, consumed approval")
            self._tokens -= 1
            return await attr(*args, **kwargs)

        return guarded


@dataclass
class ToolContext:
    client: HWAClient
    caller: str
    role: str
    cache: CacheManager | None = None
    graph: KnowledgeGraph | None = None
    incidents: IncidentStore | None = None
    documents: DocumentStore | None = None
    approvals: ApprovalStore | None = None
    thread_id: str | None = None
    tool_call_id: str | None = None
    decide: Decide = interrupt_decide
    scheduler: GuardedClient = field(init=False)
    approval_id: str | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.scheduler = GuardedClient(self.client)

    def for_call(self, tool_call_id: str | None) -> ToolContext:
        """A copy for one tool call (its approval is keyed by thread and call id)."""
        return ToolContext(
            self.client,
            self.caller,
            self.role,
            self.cache,
            self.graph,
            self.incidents,
            self.documents,
            self.approvals,
            self.thread_id,
            tool_call_id,
            self.decide,
        )

    async def require_approval(
        self, tool: str, arguments: dict[str, Any], target: dict[str, Any], description: str
    ) -> Justification:
        """Create (or find) the pending approval, pause for the decision, and on approval consume it
        and unlock one write. Raises ActionRejected, ApprovalPending or ApprovalError otherwise."""
        if self.approvals is None:
            raise WriteNotApproved("no approval store: write tools are disabled")
        key = f"{self.thread_id}:{self.tool_call_id}" if self.thread_id and self.tool_call_id else None
        approval_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"resync:{key}")) if key else str(uuid.uuid4())
        self.approval_id = approval_id
        await self.approvals.request(
            approval_id,
            tool=tool,
            arguments=arguments,
            target=target,
            description=description,
            requested_by=self.caller,
            requested_role=self.role,
            thread_id=self.thread_id,
        )
        request = {
            "action_requests": [{"name": tool, "args": arguments, "description": description}],
            "review_configs": [{"action_name": tool, "allowed_decisions": ["approve", "reject"]}],
            "approval_id": approval_id,
        }
        try:
            response = self.decide(request)
            if isinstance(response, Awaitable):
                response = await response
        except RuntimeError as exc:  # interrupt() outside a graph run
            if "runnable context" not in str(exc) and "get_config" not in str(exc):
                raise
            raise ApprovalPending(approval_id, request) from exc
        return await self._apply_decision(approval_id, response)

    async def _apply_decision(self, approval_id: str, response: Any) -> Justification:
        assert self.approvals is not None
        decisions = response.get("decisions") if isinstance(response, dict) else None
        decision = decisions[0] if isinstance(decisions, list) and decisions else {}
        kind = decision.get("type") if isinstance(decision, dict) else None
        if kind != "approve":
            current = await self.approvals.get(approval_id)
            if current.status == "pending":
                await self.approvals.reject(approval_id, self.caller, str(decision.get("message", "rejected")))
            raise ActionRejected(f"not approved ({current.status if current.status != 'pending' else 'rejected'})")
        approval = await self.approvals.consume(approval_id)  # raises ApprovalError unless really approved
        self.scheduler.grant()
        return Justification(
            category=approval.category or "operator-approval",
            description=f"{approval.justification} (approved by {approval.decided_by} via Resync, "
            f"approval {approval.id})",
            ticket_number=approval.ticket,
        )


__all__ = [
    "ActionRejected",
    "ApprovalError",
    "ApprovalPending",
    "GuardedClient",
    "ToolContext",
    "WriteNotApproved",
    "interrupt_decide",
]
