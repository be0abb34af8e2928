"""The Resync agent graph:

    understand → (Send ×N) gather_branch → rank_context → [agent ⇄ tools] → draft

(the agent step only when there is something to decide: see ``route_after_rank``)

``graph`` below is compiled without a checkpointer (the server and tests inject one)."""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph

from .context import Context
from .nodes.agent import agent_node, route_after_agent, route_after_rank, tools_node
from .nodes.draft import draft_node
from .nodes.gather import BranchInput, gather_branch, route_gather
from .nodes.rank import rank_node
from .nodes.understand import understand_node
from .state import InputState, OutputState, State


def build_graph() -> StateGraph[Any, Any, Any, Any]:
    builder = StateGraph(State, input_schema=InputState, output_schema=OutputState, context_schema=Context)
    builder.add_node("understand", understand_node)
    # a timeout per branch (a failed branch is recorded, never fatal)
    builder.add_node("gather_branch", gather_branch, input_schema=BranchInput)
    builder.add_node("rank_context", rank_node)
    # one retry layer per I/O: the model clients and the scheduler client retry; nodes do not
    builder.add_node("agent", agent_node)
    builder.add_node("tools", tools_node)  # no retry: a write must never run twice
    builder.add_node("draft", draft_node)
    builder.add_edge(START, "understand")
    builder.add_conditional_edges("understand", route_gather, ["gather_branch", "rank_context"])
    builder.add_edge("gather_branch", "rank_context")
    builder.add_conditional_edges("rank_context", route_after_rank, ["agent", "draft"])
    builder.add_conditional_edges("agent", route_after_agent, ["tools", "draft", "agent"])
    builder.add_edge("tools", "agent")
    builder.add_edge("draft", END)
    return builder


graph = build_graph().compile(name="resync")
