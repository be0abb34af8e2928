"""The run's context (read through ``Runtime[Context]``): who asks, which model and prompt version,
budgets, and the services the nodes reach through the tools layer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel

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
    graph: KnowledgeGraph | None = None
    incidents: IncidentStore | None = None
    documents: DocumentStore | None = None
    approvals: ApprovalStore | None = None
    cache: CacheManager | None = None
    known_names: Any = None  # graph.rules.KnownNames, refreshed from the knowledge graph

    def tool_context(
        self, caller: str, role: str, thread_id: str | None = None, tool_call_id: str | None = None
    ) -> ToolContext:
        """What one tool call runs with, for this caller."""
        return ToolContext(
            self.client,
            caller,
            role,
            cache=self.cache,
            graph=self.graph,
            incidents=self.incidents,
            documents=self.documents,
            approvals=self.approvals,
            thread_id=thread_id,
            tool_call_id=tool_call_id,
        )


_default_provider: Callable[[], Awaitable[Services]] | None = None


def set_default_services(provider: Callable[[], Awaitable[Services]]) -> None:
    """For runs that carry no services (LangGraph Studio): the server registers an async provider,
    awaited on the loop the runs use."""
    global _default_provider
    _default_provider = provider


@dataclass
class Context:
    role: str = "viewer"
    caller: str = "anonymous"
    prompt_version: str = "v2"
    token_budget: int = 3000
    branch_timeout_seconds: float = 10.0
    branch_retries: int = 2
    max_tool_rounds: int = 3
    services: Services | None = field(default=None, repr=False)

    async def get_services(self) -> Services:
        if self.services is not None:
            return self.services
        if _default_provider is None:
            raise RuntimeError("no services: pass Context(services=...) or call set_default_services()")
        self.services = await _default_provider()
        return self.services
