"""rank_context: score each gathered item for this query, drop duplicates, fit the token budget."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from langgraph.runtime import Runtime

from ..context import Context
from ..offline import estimate_tokens
from ..state import State

#: how much each branch matters for each query type (unlisted: 0.3)
WEIGHTS: dict[str, dict[str, float]] = {
    "status": {"status": 1.0, "workstations": 0.8, "health": 0.7},
    "troubleshoot": {"logs": 1.0, "status": 0.9, "incidents": 0.8, "kg": 0.6, "knowledge": 0.5},
    "failed_jobs": {"failed": 1.0},
    "logs": {"logs": 1.0, "status": 0.6},
    "dependencies": {"dependencies": 1.0, "kg": 0.9, "status": 0.6},
    "health": {"health": 1.0, "workstations": 0.9},
    "action": {"status": 1.0},
    "howto": {"knowledge": 1.0},
}


def render_item(item: dict[str, Any]) -> str:
    """The text the model reads for an item (compact JSON of the tool's result)."""
    data = (
        {k: v for k, v in item["data"].items() if k != "_fetched_at"}
        if isinstance(item["data"], dict)
        else item["data"]
    )
    return f"[{item['branch']}:{item['tool']}] " + json.dumps(data, ensure_ascii=False, default=str)


def score(item: dict[str, Any], query_type: str, terms: set[str]) -> float:
    text = render_item(item).lower()
    overlap = sum(1 for term in terms if term in text) / max(len(terms), 1)
    return round(WEIGHTS.get(query_type, {}).get(item["branch"], 0.3) + 0.5 * overlap, 4)


def rank(
    items: list[dict[str, Any]], query_type: str, query: str, budget: int
) -> tuple[list[dict[str, Any]], int, int]:
    """(kept items best first, tokens before, tokens after); estimates, labelled as such elsewhere."""
    terms = {w for w in re.findall(r"[a-z0-9_]{3,}", query.lower())}
    seen: set[str] = set()
    unique = []
    for item in items:
        digest = hashlib.sha1(render_item(item).encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique.append(
                {**item, "score": score(item, query_type, terms), "tokens": estimate_tokens(render_item(item))}
            )
    before = sum(estimate_tokens(render_item(i)) for i in items)
    kept: list[dict[str, Any]] = []
    used = 0
    for item in sorted(unique, key=lambda i: i["score"], reverse=True):
        if used + item["tokens"] <= budget or not kept:
            kept.append(item)
            used += item["tokens"]
    return kept, before, used


async def rank_node(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    kept, before, after = rank(
        state.get("gathered") or [], state["query_type"], state.get("query", ""), runtime.context.token_budget
    )
    return {"ranked_context": kept, "tokens_before": before, "tokens_after": after}
