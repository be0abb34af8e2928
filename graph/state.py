"""Graph state. Per-turn lists start with ``RESET`` so a thread's next question starts clean."""

from __future__ import annotations

from typing import Annotated, Any

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict  # pydantic (Studio's schemas) needs it on Python < 3.12

RESET: dict[str, Any] = {"__reset__": True}


def per_turn(left: list[dict[str, Any]] | None, right: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Append within a turn; an update that starts with RESET replaces the list."""
    right = right or []
    if right and right[0] == RESET:
        return list(right[1:])
    return [*(left or []), *right]


class InputState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class State(InputState, total=False):
    query: str
    query_type: str
    language: str
    confidence: float
    entities: dict[str, Any]
    previous_entities: dict[str, Any]
    gathered: Annotated[list[dict[str, Any]], per_turn]
    errors: Annotated[list[dict[str, Any]], per_turn]
    branches: list[str]
    ranked_context: list[dict[str, Any]]
    tokens_before: int
    tokens_after: int
    tool_calls: Annotated[list[dict[str, Any]], per_turn]
    tool_rounds: int
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
    tool_calls: list[dict[str, Any]]
    errors: list[dict[str, Any]]
