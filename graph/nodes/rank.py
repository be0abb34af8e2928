"""rank_context: score each gathered item for this query, drop duplicates, fit the token budget."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from langgraph.runtime import Runtime

from ..context import Context
from ..facts import render_item
from ..models.offline import estimate_tokens
from ..state import GatheredItem, State

#: how much each branch matters for each query type (unlisted: 0.3)
WEIGHTS: dict[str, dict[str, float]] = {
    "status": {"status": 1.0, "workstations": 0.8, "health": 0.7},
    "troubleshoot": {"logs": 1.0, "status": 0.9, "incidents": 0.8, "kg": 0.6, "knowledge": 0.5},
    "failed_jobs": {"failed": 1.0},
    "logs": {"logs": 1.0, "status": 0.6},
    "dependencies": {"dependencies": 1.0, "kg": 0.9, "status": 0.6},
    "health": {"health": 1.0, "workstations": 0.9},
    "action": {"status": 1.0, "stream_failed": 1.0},
    "howto": {"knowledge": 1.0},
    "outcome": {"outcomes": 1.0},
    "impact": {"dependencies": 1.0, "kg": 1.0, "status": 0.9},
    "history": {"history": 1.0, "status": 0.7},
    "sla": {"critical": 1.0},
    "stream": {"failed": 1.0, "critical": 0.9},
    "workstation": {"workstations": 1.0, "health": 0.7},
    "prompts": {"health": 1.0},
}


def score(text: str, branch: str, query_type: str, terms: set[str]) -> float:
    overlap = sum(1 for term in terms if term in text.lower()) / max(len(terms), 1)
    return round(WEIGHTS.get(query_type, {}).get(branch, 0.3) + 0.5 * overlap, 4)


def rank(
    items: list[GatheredItem], query_type: str, query: str, budget: int, policy: str = "ranked"
) -> tuple[list[GatheredItem], int, int]:
    """(kept items best first, tokens before, tokens after); estimates, labelled as such elsewhere.
    Each item is rendered once: the same text is hashed, scored and counted. ``policy="all"`` keeps
    everything gathered, in order (the baseline a ranking is measured against)."""
    terms = {w for w in re.findall(r"[a-z0-9_]{3,}", query.lower())}
    seen: set[str] = set()
    unique: list[GatheredItem] = []
    before = 0
    for item in items:
        text = render_item(item)
        tokens = estimate_tokens(text)
        before += tokens
        digest = hashlib.sha1(text.encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            unique.append({**item, "score": score(text, item["branch"], query_type, terms), "tokens": tokens})
    if policy == "all":
        return [{**item, "tokens": estimate_tokens(render_item(item))} for item in items], before, before
    kept: list[GatheredItem] = []
    used = 0
    for item in sorted(unique, key=lambda i: i.get("score", 0.0), reverse=True):
        tokens = item.get("tokens", 0)
        if used + tokens <= budget or not kept:
            kept.append(item)
            used += tokens
    return kept, before, used


async def rank_node(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    kept, before, after = rank(
        state.get("gathered") or [],
        state["query_type"],
        state.get("query", ""),
        runtime.context.token_budget,
        runtime.context.ranking,
    )
    return {"ranked_context": kept, "tokens_before": before, "tokens_after": after}
