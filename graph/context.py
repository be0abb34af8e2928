"""The run's context (read through ``Runtime[Context]``): who asks, which model and prompt version,
budgets, and the parts (``tools.context.Parts``) the nodes reach through the tools layer."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from langgraph.config import get_config
from pydantic.json_schema import SkipJsonSchema

from tools.context import Parts
from tools.memo import RunMemo

_default_provider: Callable[[], Awaitable[Parts]] | None = None


def set_default_parts(provider: Callable[[], Awaitable[Parts]]) -> None:
    """For runs that carry no parts (LangGraph Studio, ``langgraph dev``): the server registers an
    async provider, awaited on the loop the runs use."""
    global _default_provider
    _default_provider = provider


if TYPE_CHECKING:
    PartsField = Parts | None
    StopField = asyncio.Event | None
    MemoField = RunMemo
else:  # kept out of the context schema Studio shows (and out of what clients may send)
    PartsField = SkipJsonSchema[Any]
    StopField = SkipJsonSchema[Any]
    MemoField = SkipJsonSchema[Any]

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
    ranking: Literal["ranked", "all"] = "ranked"  # all: everything gathered, no relevance cut or budget
    answer_style: Literal["full", "brief"] = "full"  # brief: the essentials in a few lines
    variant: str = "baseline"  # the named configuration (evals/variants/) this run uses
    parts: PartsField = field(default=None, repr=False)
    stop: StopField = field(default=None, repr=False)  # set when the caller went away: I/O is cancelled
    memo: MemoField = field(default_factory=RunMemo, repr=False)  # this run's scheduler reads, each sent once

    async def get_parts(self) -> Parts:
        if self.parts is not None:
            return self.parts
        if _default_provider is None:
            raise RuntimeError("no parts: pass Context(parts=...) or call set_default_parts()")
        self.parts = await _default_provider()
        return self.parts


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
