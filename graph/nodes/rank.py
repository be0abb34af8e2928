"""rank_context: score each gathered item for this query, drop duplicates and what is not relevant
(the relevance cut), fit the token budget.

The cut: an item whose branch does not matter for this kind of question and shares no word with it
is dropped; inside items, a job log read for a diagnosis keeps its error lines (with their numbers)
and its last lines, runbook passages well below the best one go, and at most three past incidents
stay. ``tokens_before`` is what the scheduler and the stores returned (each tool's ``_raw_tokens``),
``tokens_after`` what is sent."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from langgraph.runtime import Runtime

from tools.causes import ERROR_LINE
from tools.language import estimate_tokens

from ..capabilities import REGISTRY
from ..context import Context
from ..facts import render_item
from ..state import GatheredItem, State

MIN_RELEVANCE = 0.45  # an unlisted branch (0.3) needs some of the question's words to stay
MAX_INCIDENTS = 3
LOG_TAIL = 6
KEEP_WHOLE = 40


def condense_log(text: str) -> str:
    """The lines that explain a failure — those that look like errors, each with its neighbours — and
    the last ``LOG_TAIL`` lines of the program's own output (the stdlist's ``=`` banner and trailer do
    not count), numbered within the lines read; gaps are marked. A log of up to ``KEEP_WHOLE`` lines
    stays whole."""
    lines = text.split("\n")
    if len(lines) <= KEEP_WHOLE:
        return text
    output = [i for i, line in enumerate(lines) if not line.startswith("=")]
    keep = set(output[-LOG_TAIL:])
    for index, line in enumerate(lines):
        if ERROR_LINE.search(line):
            keep |= {index - 1, index, index + 1}
    out, last = [], -1
    for index in sorted(i for i in keep if 0 <= i < len(lines)):
        if index != last + 1:
            out.append("…")
        out.append(f"{index + 1}: {lines[index]}")
        last = index
    return "\n".join(out)


def cut(item: GatheredItem, query_type: str) -> GatheredItem:
    """The item with what does not help this kind of question taken out (see the module's note)."""
    data = item["data"]
    if not isinstance(data, dict):
        return item
    if item["tool"] == "get_job_logs" and query_type != "logs" and isinstance(data.get("log"), str):
        return {**item, "data": {**data, "log": condense_log(data["log"])}}
    if item["tool"] == "search_knowledge" and data.get("passages"):
        best = max(p.get("score") or 0.0 for p in data["passages"])
        kept = [p for p in data["passages"] if (p.get("score") or 0.0) >= 0.5 * best][:3]
        return {**item, "data": {**data, "passages": kept}}
    if item["tool"] == "find_similar_incidents" and data.get("incidents"):
        return {**item, "data": {**data, "incidents": data["incidents"][:MAX_INCIDENTS]}}
    return item


def raw_tokens_of(item: GatheredItem, rendered: int) -> int:
    data = item["data"]
    raw = data.get("_raw_tokens") if isinstance(data, dict) else None
    return max(int(raw), rendered) if isinstance(raw, int) else rendered


def score(text: str, branch: str, query_type: str, terms: set[str]) -> float:
    overlap = sum(1 for term in terms if term in text.lower()) / max(len(terms), 1)
    capability = REGISTRY.get(query_type)
    weight = capability.weight_of(branch) if capability else 0.3
    return round(weight + 0.5 * overlap, 4)


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
        before += raw_tokens_of(item, estimate_tokens(text))
        if policy == "all":
            continue
        digest = hashlib.sha1(text.encode()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            relevance = score(text, item["branch"], query_type, terms)
            condensed = cut(item, query_type)
            tokens = estimate_tokens(render_item(condensed))
            unique.append({**condensed, "score": relevance, "tokens": tokens})
    if policy == "all":
        everything: list[GatheredItem] = [{**item, "tokens": estimate_tokens(render_item(item))} for item in items]
        return everything, before, sum(i.get("tokens", 0) for i in everything)
    kept: list[GatheredItem] = []
    used = 0
    for item in sorted(unique, key=lambda i: i.get("score", 0.0), reverse=True):
        tokens = item.get("tokens", 0)
        relevant = item.get("score", 0.0) >= MIN_RELEVANCE
        if not kept or (relevant and used + tokens <= budget):
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
