"""Graph state. Per-turn lists start with ``RESET`` so a thread's next question starts clean."""

from __future__ import annotations

from typing import (
    Annotated,
    Any,
    NotRequired,  # pydantic (Studio's schemas) needs it on Python < 3.12
)

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

RESET: dict[str, Any] = {"__reset__": True}


def per_turn(left: list[dict[str, Any]] | None, right: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Append within a turn; an update that starts with RESET replaces the list."""
    right = right or []
    if right and right[0] == RESET:
        return list(right[1:])
    return [*(left or []), *right]


class GatheredItem(TypedDict):
    """One read tool's result for this turn (a gather branch, or ranked context)."""

    branch: str
    tool: str
    args: dict[str, Any]
    data: Any
    score: NotRequired[float]
    tokens: NotRequired[int]


class BranchError(TypedDict):
    """A branch that could not gather its part (the answer says it is partial)."""

    branch: str
    tool: str
    args: dict[str, Any]
    error: str


class ToolCallRecord(TypedDict):
    """A tool the model called this turn and how it ended."""

    name: str
    args: dict[str, Any]
    outcome: str
    data: Any
    error: str | None
    approval_id: str | None


class InputState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class State(InputState, total=False):
    query: str
    query_type: str
    language: str
    confidence: float
    entities: dict[str, Any]
    gathered: Annotated[list[GatheredItem], per_turn]
    errors: Annotated[list[BranchError], per_turn]
    branches: list[str]
    ranked_context: list[GatheredItem]
    tokens_before: int
    tokens_after: int
    tool_calls: Annotated[list[ToolCallRecord], per_turn]
    tool_rounds: int
    corrections: int  # times this turn's tool calls went back to the model as unusable (one is allowed)
    correcting: bool  # the agent sent its unusable calls back: it is asked again
    model_seconds: float  # this turn's time in model calls so far (the budget is for the whole turn)
    model_failure: dict[str, str] | None  # the model gave no usable answer this turn: {kind, detail}
    drafted: str | None  # the agent step answered in words (no tool call): the answer, not asked twice
    answer: str
    sources: list[str]
    usage: Annotated[list[dict[str, Any]], per_turn]


class OutputState(TypedDict, total=False):
    messages: list[AnyMessage]
    query_type: str
    language: str
    entities: dict[str, Any]
    answer: str
    sources: list[str]
    tool_calls: list[ToolCallRecord]
    errors: list[BranchError]
    ranked_context: list[GatheredItem]
    model_failure: dict[str, str] | None
