"""What a tool runs with: a read-only scheduler client, cache, stores, the caller, and the approval
flow that pauses the graph before any write. Tools never hold a client that can write: a write is
an approval record that ``tools.executor.ActionExecutor`` executes once it is decided."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel

from .actions import ACTIONS, WriteAction, describe_state, seen_state
from .cache import CacheManager
from .days import ProductionDays
from .executor import ActionExecutor, Decision, DecisionRefused
from .hwa import HWAClient, JobInPlan
from .hwa.reads import WriteNotApproved
from .memo import RunMemo
from .store.approvals import Approval, ApprovalError, ApprovalRequest, ApprovalStore
from .store.documents import DocumentStore
from .store.incidents import IncidentStore
from .store.kg import KnowledgeGraph

if TYPE_CHECKING:
    from .registry import ToolCatalog

Decide = Callable[[dict[str, Any]], Any]
# the tool outcome of each way an approval can end without being done
OUTCOMES = {"rejected": "rejected", "expired": "refused", "stale": "stale", "failed": "failed", "unknown": "unknown"}


class ApprovalPending(Exception):
    """Raised outside a graph: the approval exists, the run cannot pause; decide it through the API."""

    def __init__(self, approval_id: str, request: dict[str, Any]) -> None:
        super().__init__(f"approval {approval_id} is pending")
        self.approval_id = approval_id
        self.request = request


class ActionNotDone(Exception):
    """The approval ended without the action being done (rejected, expired, stale, failed, unknown,
    or a decision that was refused); the message says why and what happened at the scheduler."""

    def __init__(self, outcome: str, message: str, approval: Approval) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.approval = approval


def interrupt_decide(request: dict[str, Any]) -> Any:
    """Pause the LangGraph run until it is resumed with ``Command(resume={"decisions": [...]})``."""
    from langgraph.types import interrupt

    return interrupt(request)


def run_config() -> dict[str, Any] | None:
    """The running graph's config, or None outside a graph run."""
    from langgraph.config import get_config

    try:
        return dict(get_config())
    except RuntimeError:  # get_config's documented answer outside a run
        return None


def graph_task() -> str | None:
    """The running LangGraph task's namespace (the same when the task re-runs on resume), or None."""
    config = run_config()
    return None if config is None else (config.get("metadata") or {}).get("langgraph_checkpoint_ns")


@dataclass
class Parts:
    """Every part Resync runs on, built once by the composition root (``server.compose``): the
    scheduler client, the tool catalog, the chat model, the knowledge graph (``kg``), incidents,
    documents, approvals, the cache, the approval executor (the only part that writes) and the model
    that refines unsure diagnoses (``reader``: only a configured one)."""

    client: HWAClient
    catalog: ToolCatalog
    chat_model: BaseChatModel | None = None
    kg: KnowledgeGraph | None = None
    incidents: IncidentStore | None = None
    documents: DocumentStore | None = None
    approvals: ApprovalStore | None = None
    cache: CacheManager | None = None
    actions: ActionExecutor | None = None
    reader: BaseChatModel | None = None  # a configured model that refines unsure diagnoses (None: the catalogue)
    days: ProductionDays = field(default_factory=ProductionDays)  # where "today" and "yesterday" begin
    model_budget_seconds: float = 60.0  # all of a turn's chat model calls together (LLM_TIMEOUT_SECONDS)

    def __post_init__(self) -> None:
        if self.days.client is None:  # the engine's start of day, unless one was configured
            self.days = ProductionDays(self.client, self.days.configured)

    def for_caller(
        self,
        caller: str,
        role: str,
        thread_id: str | None = None,
        tool_call_id: str | None = None,
        scope: str | None = None,
        memo: RunMemo | None = None,
    ) -> ToolContext:
        """What one tool call runs with: these parts, for this caller (``scope``: the graph task;
        ``memo``: the run's memo of scheduler reads)."""
        return ToolContext(self, caller, role, thread_id=thread_id, tool_call_id=tool_call_id, scope=scope, memo=memo)

    def model(self) -> BaseChatModel:
        if self.chat_model is None:
            raise RuntimeError("no chat model in these parts")
        return self.chat_model


@dataclass
class ToolContext:
    """The parts plus who calls, in which thread and which tool call; the client it shows is read-only."""

    parts: Parts
    caller: str
    role: str
    thread_id: str | None = None
    tool_call_id: str | None = None
    scope: str | None = None  # the graph task running the call (stable across a resume)
    decide: Decide = interrupt_decide
    approval_id: str | None = None
    memo: RunMemo | None = None  # the run's scheduler reads, each sent once

    @property
    def client(self) -> HWAClient:
        return self.parts.client.view(self.memo)

    @property
    def cache(self) -> CacheManager | None:
        return self.parts.cache

    @property
    def kg(self) -> KnowledgeGraph | None:
        return self.parts.kg

    @property
    def incidents(self) -> IncidentStore | None:
        return self.parts.incidents

    @property
    def documents(self) -> DocumentStore | None:
        return self.parts.documents

    @property
    def approvals(self) -> ApprovalStore | None:
        return self.parts.approvals

    @property
    def actions(self) -> ActionExecutor | None:
        return self.parts.actions

    def for_call(self, tool_call_id: str | None, scope: str | None = None) -> ToolContext:
        """A copy for one tool call."""
        return replace(self, tool_call_id=tool_call_id, scope=scope or self.scope, approval_id=None)

    async def request_action(
        self, tool: str, action: WriteAction, arguments: dict[str, Any], target: Callable[[], Awaitable[JobInPlan]]
    ) -> dict[str, Any]:
        """Ask for approval of ``action`` on exactly the job ``target()`` resolves to, as it is now; pause
        for the decision and return what happened at the scheduler. A resumed graph task finds its own
        request again (the job is not resolved twice). Raises ApprovalPending (outside a graph) or
        ActionNotDone when the action was not done."""
        if self.approvals is None or self.actions is None:
            raise WriteNotApproved("no approval store: write tools are disabled")
        base = ApprovalRequest(
            tool=tool,
            action=action.key,
            arguments=arguments,
            target={},
            description="",
            requested_by=self.caller,
            requested_role=self.role,
            thread_id=self.thread_id,
            tool_call_id=self.tool_call_id,
            scope=self.scope or graph_task(),
        )
        approval = await self.approvals.find(base.key())  # this task's own request, or the one it joined
        joined = approval is not None and approval.request_key != base.key()
        if approval is None:
            job = await target()
            seen = seen_state(job)
            rc = f", rc {job.return_code}" if job.return_code is not None else ""
            description = (
                f"{action.verb} {job.qualified_name} (scheduled {seen['scheduled']}; {job.status}{rc} when asked)"
            )
            approval, joined = await self.approvals.request(replace(base, target=seen, description=description))
            joined = joined and (approval.thread_id != self.thread_id or approval.requested_by != self.caller)
            if approval.status in {"approved", "executing"} or approval.final:  # joined a write under way
                self.approval_id = approval.id
                return outcome_of(await self.actions.outcome(approval.id))
        self.approval_id = approval.id
        request = hitl_request(approval, joined=joined)
        if self.decide is interrupt_decide and run_config() is None:  # no graph run to pause
            raise ApprovalPending(approval.id, request)
        response = self.decide(request)  # in a graph: one interrupt per write call, so resumes replay in order
        if isinstance(response, Awaitable):
            response = await response
        approval = await self.approvals.get(approval.id)
        if approval.status == "pending":  # this resume is the decision
            approval = await self._decide(approval, response)
        elif approval.status == "approved":  # decided elsewhere, not executed yet
            try:
                approval = await self.actions.execute(approval.id)
            except ApprovalError:  # executed meanwhile by whoever decided it: its record is the outcome
                approval = await self.approvals.get(approval.id)
        if approval.status in {"approved", "executing"}:  # another request is writing it: hear its end
            approval = await self.actions.outcome(approval.id)
        return outcome_of(approval)

    async def _decide(self, approval: Approval, response: Any) -> Approval:
        assert self.actions is not None
        decisions = response.get("decisions") if isinstance(response, dict) else None
        decision = decisions[0] if isinstance(decisions, list) and decisions and isinstance(decisions[0], dict) else {}
        kind = decision.get("type")
        message = decision.get("message")
        try:
            return await self.actions.decide(
                approval.id,
                Decision(str(kind), self.caller, self.role, message if isinstance(message, str) else None),
            )
        except (DecisionRefused, ApprovalError) as exc:
            current = await self.actions.approvals.get(approval.id)
            if not isinstance(exc, DecisionRefused) and current.status != "pending":
                return await self.actions.outcome(approval.id)  # decided meanwhile by someone else: its end
            raise ActionNotDone(
                "refused", f"decision refused: {exc}; approval {approval.id} is {current.status}", current
            ) from None


def hitl_request(approval: Approval, joined: bool = False) -> dict[str, Any]:
    """The interrupt payload (LangChain's HITL request shape, plus our approval's id and target). The
    card's arguments show the state the requester saw and what the action does downstream; a request
    that joined another's open approval says whose it is."""
    action = ACTIONS.get(approval.action)
    consequence = action.consequence_for(approval.target, "en") if action else ""
    shown = {**approval.arguments, "state_seen": describe_state(approval.target), "consequence": consequence}
    return {
        "action_requests": [
            {"name": approval.tool, "args": shown, "description": f"{approval.description}. {consequence}".strip()}
        ],
        "review_configs": [{"action_name": approval.tool, "allowed_decisions": ["approve", "reject"]}],
        "approval_id": approval.id,
        "action": approval.action,
        "target": approval.target,
        "consequence": consequence,
        "consequence_pt": action.consequence_for(approval.target, "pt") if action else "",
        **({"joined": True, "requested_by": approval.requested_by} if joined else {}),
    }


def outcome_of(approval: Approval) -> dict[str, Any]:
    """What a done approval returns to the model; anything else raises ActionNotDone with the reason."""
    if approval.status == "done":
        return {
            "done": approval.description,
            "approval_id": approval.id,
            "status": "done",
            "detail": approval.reason,
            **(approval.result or {}),
        }
    why = approval.reason or approval.status
    if approval.status in {"pending", "approved", "executing"}:
        raise ActionNotDone(
            "refused",
            f"approval {approval.id} ({approval.description}, requested by {approval.requested_by}) is"
            f" {approval.status}: its outcome is the one for this request; nothing new was sent",
            approval,
        )
    raise ActionNotDone(OUTCOMES[approval.status], f"{approval.status}: {why}", approval)


__all__ = [
    "ActionNotDone",
    "ApprovalError",
    "ApprovalPending",
    "Parts",
    "ToolContext",
    "WriteNotApproved",
    "hitl_request",
    "interrupt_decide",
]
