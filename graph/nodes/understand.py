"""classify and extract_entities: the rule-based pass (always first, the offline default)."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime

from ..context import Context
from ..rules import KnownNames, classify, detect_language, extract_entities
from ..state import RESET, State
from ..taxonomy import QueryType

FOLLOW_UP = re.compile(r"\b(it|its|that job|this job|the same|dele|dela|ele|ela|isso|esse job|este job|mesmo)\b", re.I)


def last_question(state: State) -> str:
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return str(message.content)
    return ""


async def known_names(runtime: Runtime[Context]) -> KnownNames:
    services = await runtime.context.get_services()
    if services.known_names is None and services.graph is not None:
        async with services.graph.pool.connection() as conn:
            jobs = [r["name"] for r in await (await conn.execute("SELECT DISTINCT name FROM kg_jobs")).fetchall()]
            streams = [
                r["name"] for r in await (await conn.execute("SELECT DISTINCT name FROM kg_job_streams")).fetchall()
            ]
            stations = [r["name"] for r in await (await conn.execute("SELECT name FROM kg_workstations")).fetchall()]
        services.known_names = KnownNames(jobs, streams, stations)
    known: KnownNames = services.known_names or KnownNames()
    return known


async def classify_node(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Query type and language, and a clean slate for this turn's per-turn lists."""
    text = last_question(state)
    result = classify(text, await known_names(runtime))
    return {
        "query": text,
        "query_type": result.query_type.value,
        "language": detect_language(text),
        "confidence": result.confidence,
        "previous_entities": state.get("entities") or {},
        "gathered": [RESET],
        "errors": [RESET],
        "tool_calls": [RESET],
        "usage": [RESET],
        "tool_rounds": 0,
    }


async def extract_node(state: State, runtime: Runtime[Context]) -> dict[str, Any]:
    """Entities checked against the knowledge graph; a follow-up takes its subject from memory."""
    text = state["query"]
    entities = extract_entities(text, await known_names(runtime))
    previous = state.get("previous_entities") or {}
    query_type = state["query_type"]
    is_follow_up = bool(FOLLOW_UP.search(text)) or len(text.split()) <= 5
    if not entities.jobs and not entities.job_streams and previous and is_follow_up:
        entities.jobs = list(previous.get("jobs") or [])
        entities.job_streams = entities.job_streams or list(previous.get("job_streams") or [])
        entities.workstations = entities.workstations or list(previous.get("workstations") or [])
        if query_type == QueryType.OTHER.value and entities.jobs:
            query_type = QueryType.STATUS.value
    data = entities.model_dump()
    get_stream_writer()(
        {"event": "metadata", "query_type": query_type, "language": state["language"], "entities": data}
    )
    return {"entities": data, "query_type": query_type}
