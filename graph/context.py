"""The run's context (read through ``Runtime[Context]``): who asks, which model and prompt version,
budgets, and the services the nodes reach through the tools layer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.language_models import BaseChatModel
from langgraph.config import get_config
from pydantic.json_schema import SkipJsonSchema

from tools.actions import ActionExecutor
from tools.cache import CacheManager
from tools.context import ToolContext
from tools.hwa import HWAClient
from tools.registry import ToolCatalog
from tools.store.approvals import ApprovalStore
from tools.store.documents import DocumentStore
from tools.store.incidents import IncidentStore
from tools.store.kg import KnowledgeGraph


@dataclass
class Services:
    """What the graph works with; built by the server (the composition root)."""

    client: HWAClient
    catalog: ToolCatalog
    chat_model: BaseChatModel
    kg: KnowledgeGraph | None = None
    incidents: IncidentStore | None = None
    documents: DocumentStore | None = None
    approvals: ApprovalStore | None = None
    cache: CacheManager | None = None
    actions: ActionExecutor | None = None  # the only part that writes to the scheduler

    def tool_context(
        self,
        caller: str,
        role: str,
        thread_id: str | None = None,
        tool_call_id: str | None = None,
        scope: str | None = None,
    ) -> ToolContext:
        """What one tool call runs with, for this caller (``scope``: the graph task, stable on resume)."""
        return ToolContext(
            self.client,
            caller,
            role,
            cache=self.cache,
            kg=self.kg,
            incidents=self.incidents,
            documents=self.documents,
            approvals=self.approvals,
            actions=self.actions,
            thread_id=thread_id,
            tool_call_id=tool_call_id,
            scope=scope,
        )


_default_provider: Callable[[], Awaitable[Services]] | None = None


def set_default_services(provider: Callable[[], Awaitable[Services]]) -> None:
    """For runs that carry no services (LangGraph Studio): the server registers an async provider,
    awaited on the loop the runs use."""
    global _default_provider
    _default_provider = provider


if TYPE_CHECKING:
    ServicesField = Services | None
    StopField = asyncio.Event | None
else:  # kept out of the context schema Studio shows (and out of what clients may send)
    ServicesField = SkipJsonSchema[Any]
    StopField = SkipJsonSchema[Any]

ROLES = frozenset({"viewer", "operator", "admin"})


@dataclass
class Context:
    """Per-run settings. ``role``/``caller`` are set by our server from the API key; under the LangGraph
    server they are ignored in favour of the authenticated user (see ``identity``)."""

    role: str = "viewer"
    caller: str = "anonymous"
    prompt_version: str = "v2"
    token_budget: int = 3000
    branch_timeout_seconds: float = 10.0
    max_tool_rounds: int = 3
    services: ServicesField = field(default=None, repr=False)
    stop: StopField = field(default=None, repr=False)  # set when the caller went away: I/O is cancelled

    async def get_services(self) -> Services:
        if self.services is not None:
            return self.services
        if _default_provider is None:
            raise RuntimeError("no services: pass Context(services=...) or call set_default_services()")
        self.services = await _default_provider()
        return self.services


@dataclass(frozen=True)
class Identity:
    caller: str
    role: str


def identity(context: Context) -> Identity:
    """Who runs this graph: the user the LangGraph server authenticated (``langgraph dev``, Studio, the
    SDK, Agent Chat UI — never a client-chosen context), else the caller our own server set."""
    try:
        configurable = get_config().get("configurable") or {}
    except RuntimeError:  # outside a run
        configurable = {}
    if "langgraph_auth_user" not in configurable:
        return Identity(context.caller, context.role)
    user = configurable["langgraph_auth_user"]
    if not getattr(user, "is_authenticated", False):
        return Identity("anonymous", "viewer")
    try:
        role = user["role"]
    except (KeyError, TypeError):
        role = None
    return Identity(str(user.identity), role if role in ROLES else "viewer")
