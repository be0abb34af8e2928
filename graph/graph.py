"""The Resync agent graph:

    classify → extract_entities → (Send ×N) gather_branch → rank_context → agent ⇄ tools → draft

``graph`` below is compiled without a checkpointer (the server and tests inject one)."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from .context import Context
from .nodes.agent import agent_node, route_after_agent, tools_node
from .nodes.draft import draft_node
from .nodes.gather import BranchInput, gather_branch, route_gather
from .nodes.rank import rank_node
from .nodes.understand import classify_node, extract_node
from .state import InputState, OutputState, State

MODEL_RETRY = RetryPolicy(max_attempts=2, initial_interval=0.5)
IO_RETRY = RetryPolicy(max_attempts=2, initial_interval=0.2)


def build_graph() -> StateGraph[Any, Any, Any, Any]:
    builder = StateGraph(State, input_schema=InputState, output_schema=OutputState, context_schema=Context)
    builder.add_node("classify", classify_node, retry_policy=IO_RETRY)
    builder.add_node("extract_entities", extract_node, retry_policy=IO_RETRY)
    # per-branch timeouts and retries live inside (a failed branch is recorded, never fatal)
    builder.add_node("gather_branch", gather_branch, input_schema=BranchInput)
    builder.add_node("rank_context", rank_node)
    builder.add_node("agent", agent_node, retry_policy=MODEL_RETRY)
    builder.add_node("tools", tools_node)  # no retry: a write must never run twice
    builder.add_node("draft", draft_node, retry_policy=MODEL_RETRY)
    builder.add_edge(START, "classify")
    builder.add_edge("classify", "extract_entities")
    builder.add_conditional_edges("extract_entities", route_gather, ["gather_branch", "rank_context"])
    builder.add_edge("gather_branch", "rank_context")
    builder.add_edge("rank_context", "agent")
    builder.add_conditional_edges("agent", route_after_agent, ["tools", "draft"])
    builder.add_edge("tools", "agent")
    builder.add_edge("draft", END)
    return builder


graph = build_graph().compile(name="resync")
