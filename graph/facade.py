"""ServiceOrchestrator and QueryProcessor: the interfaces the rest of the product uses, built on the
same gather branches and rules as the graph (one implementation, not two)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from tools.cache import CacheManager
from tools.context import Parts
from tools.hwa import HWAClient
from tools.memo import RunMemo
from tools.registry import ToolCatalog, get_tool_catalog
from tools.store.incidents import IncidentStore
from tools.store.kg import KnowledgeGraph

from .classifier import KnownNames, classify
from .facts import render_item
from .nodes.gather import BRANCHES, run_branch
from .nodes.rank import rank
from .prompts import system_prompt
from .state import GatheredItem


def _outcome(items: dict[str, Any], errors: list[dict[str, Any]], planned: int) -> dict[str, Any]:
    ok = planned - len(errors)
    return {
        "status": "success" if not errors else "partial",
        "data": items,
        "errors": errors,
        "is_complete": not errors,
        "success_rate": round(ok / planned, 3) if planned else 1.0,
    }


class ServiceOrchestrator:
    """Parallel calls to the scheduler and the knowledge layer, each with its own timeout; what fails is
    reported in ``errors`` and the rest is still returned. ``max_retries`` is kept for callers of the
    first release: retries are the scheduler client's alone (one retry layer per I/O)."""

    def __init__(
        self,
        tws_client: HWAClient,
        knowledge_graph: KnowledgeGraph | None,
        max_retries: int = 2,
        timeout_seconds: float = 10,
        incidents: IncidentStore | None = None,
        cache: CacheManager | None = None,
        catalog: ToolCatalog | None = None,
        caller: str = "orchestrator",
    ) -> None:
        import tools.catalog  # noqa: F401  (the read tools the branches call)

        self.catalog = catalog or get_tool_catalog()
        parts = Parts(tws_client, self.catalog, kg=knowledge_graph, incidents=incidents, cache=cache)
        self.ctx = parts.for_caller(caller, "viewer")
        self.max_retries = max_retries
        self.timeout_seconds = timeout_seconds

    @classmethod
    def of(cls, parts: Parts, timeout_seconds: float = 10) -> ServiceOrchestrator:
        """The facade on the server's own parts (reads only: it runs as a viewer)."""
        return cls(
            parts.client,
            parts.kg,
            timeout_seconds=timeout_seconds,
            incidents=parts.incidents,
            cache=parts.cache,
            catalog=parts.catalog,
        )

    async def _run(self, plan: dict[str, tuple[str, dict[str, Any]]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ctx = replace(self.ctx, memo=RunMemo())  # one memo per call: each distinct read sent once

        async def one(key: str, branch: str, args: dict[str, Any]) -> tuple[str, Any, Any]:
            item, error = await run_branch(self.catalog, ctx, branch, BRANCHES[branch].tool, args, self.timeout_seconds)
            return key, item, error

        try:
            results = await asyncio.gather(*(one(k, b, a) for k, (b, a) in plan.items()))
        finally:
            if ctx.memo is not None:
                ctx.memo.cancel()  # speculative reads nobody waited for
        data = {key: (item["data"] if item else None) for key, item, _ in results}
        return data, [error | {"key": key} for key, _, error in results if error]

    async def investigate_job_failure(
        self, job_name: str, include_logs: bool = True, include_dependencies: bool = True
    ) -> dict[str, Any]:
        plan: dict[str, tuple[str, dict[str, Any]]] = {"tws_status": ("status", {"job_name": job_name})}
        if self.ctx.kg is not None:
            plan["kg_context"] = ("kg", {"job_name": job_name})
        if include_logs:
            plan["logs"] = ("logs", {"job_name": job_name, "lines": 100})
        if include_dependencies:
            plan["dependencies"] = ("dependencies", {"job_name": job_name, "depth": 2})
        if self.ctx.incidents is not None:
            plan["historical_failures"] = ("incidents", {"job_name": job_name})
        data, errors = await self._run(plan)
        for key in ("tws_status", "kg_context", "logs", "dependencies", "historical_failures"):
            data.setdefault(key, None)
        return _outcome(data, errors, len(plan))

    async def get_system_health(self) -> dict[str, Any]:
        plan = {"engine": ("health", {}), "critical_jobs": ("critical", {}), "failed_jobs": ("failed", {"hours": 24})}
        data, errors = await self._run(plan)
        failed = {e["key"] for e in errors}
        details = {key: {"status": "error" if key in failed else "ok", "data": data.get(key)} for key in plan}
        engine = data.get("engine") or {}
        if "engine" in failed:
            overall = "UNHEALTHY"
        elif failed or engine.get("status") != "HEALTHY" or (data.get("critical_jobs") or {}).get("failed"):
            overall = "DEGRADED"
        else:
            overall = "HEALTHY"
        return {"status": overall, "details": details, "errors": errors}


class QueryProcessor:
    """Classification, entities and intent of one question (rules first), with the knowledge-graph
    context of the jobs it names, ranked for the model."""

    def __init__(self, llm: BaseChatModel | None, knowledge_graph: KnowledgeGraph | None) -> None:
        self.llm = llm
        self.kg = knowledge_graph

    async def known_names(self) -> KnownNames:
        return KnownNames(*await self.kg.known_names()) if self.kg is not None else KnownNames()

    async def process_query(self, text: str) -> dict[str, Any]:
        result = classify(text, await self.known_names())
        items: list[GatheredItem] = []
        if self.kg is not None:
            for name in result.entities.jobs[:3]:
                job = await self.kg.find_job(name)
                if job is not None:
                    context = await self.kg.kg_context(job["id"])
                    items.append(
                        GatheredItem(branch="kg", tool="kg_context", args={"job": name}, data={"context": context})
                    )
        ranked, _, _ = rank(items, result.query_type.value, text, budget=3000)
        subject = ", ".join(result.entities.jobs or result.entities.job_streams or result.entities.workstations)
        return {
            "query": text,
            "query_type": result.query_type.value,
            "language": result.language,
            "entities": result.entities.model_dump(),
            "intent": f"{result.query_type.value}: {subject}".rstrip(": "),
            "confidence": result.confidence,
            "ranked_context": ranked,
        }

    def format_for_llm(self, structured: dict[str, Any], prompt_version: str = "v2") -> list[BaseMessage]:
        prompt = system_prompt(prompt_version, structured["language"], structured["query_type"])
        context = "\n".join(render_item(i) for i in structured.get("ranked_context") or [])
        return [
            SystemMessage(content=f"{prompt}\n\nContext:\n{context or '(none)'}"),
            HumanMessage(content=structured["query"]),
        ]
