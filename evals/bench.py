"""The evaluation bench: a seeded HWA simulator on a manual clock (the plan does not move while the
cases run), the application's parts on a database of the bench's own (embedded PostgreSQL in a
temporary folder unless ``DATABASE_URL`` is given), the knowledge graph synced, and one case run
through the real graph as one thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import HumanMessage
from langchain_core.outputs import LLMResult
from langchain_core.runnables import RunnableConfig
from pydantic import SecretStr

from graph.variants import Variant
from server.chat import waiting_text
from server.compose import App, open_app
from server.settings import Settings
from tools.store.kg_sync import KnowledgeGraphSync

from .cases import Case


class TokenCounter(AsyncCallbackHandler):
    """Input tokens of every model call (what was actually sent), in call order."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    async def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        for generations in response.generations:
            for generation in generations:
                usage = getattr(getattr(generation, "message", None), "usage_metadata", None) or {}
                self.calls.append(int(usage.get("input_tokens", 0)))


@dataclass
class Bench:
    app: App
    sim_url: str
    known: set[str]

    async def run(self, case: Case, variant: Variant) -> dict[str, Any]:
        """Run the case's turns on a new thread; the outputs of the last turn (the judged one)."""
        thread = f"eval-{uuid.uuid4().hex[:12]}"
        values: dict[str, Any] = {}
        counter = TokenCounter()
        started = time.perf_counter()
        for turn in case.turns:
            context = self.app.turn_context(f"eval-{case.id}", case.role, variant)  # as a live turn
            counter.calls.clear()
            started = time.perf_counter()
            config: RunnableConfig = {"configurable": {"thread_id": thread}, "callbacks": [counter]}
            await self.app.graph.ainvoke(
                {"messages": [HumanMessage(turn)]},
                config,
                context=context,
                durability=self.app.settings.checkpoint_durability,
            )
        latency_ms = (time.perf_counter() - started) * 1000
        state = await self.app.graph.aget_state(config)  # the whole state, not only the output keys
        values, interrupts = state.values, state.interrupts
        gathered = [item["tool"] for item in values.get("gathered") or []]
        called = [call["name"] for call in values.get("tool_calls") or []]
        last = (values.get("messages") or [None])[-1]
        paused = [call["name"] for call in getattr(last, "tool_calls", None) or []] if interrupts else []
        answer = values.get("answer", "")
        if interrupts:  # what the user is shown while the run waits for a decision (as the server says it)
            answer = waiting_text(interrupts[0].value, values.get("language", "en"))
        return {
            "answer": answer,
            "query_type": values.get("query_type"),
            "entities": values.get("entities") or {},
            "trajectory": list(dict.fromkeys(gathered + called + paused)),
            "pending_approval": interrupts[0].value.get("approval_id") if interrupts else None,
            "tokens_sent": sum(counter.calls),
            "model_calls": len(counter.calls),
            "tokens_raw": int(values.get("tokens_before") or 0),
            "tokens_context": int(values.get("tokens_after") or 0),
            "grounding": grounding(values),
            "latency_ms": round(latency_ms, 1),
        }


def grounding(values: dict[str, Any]) -> str:
    """Everything the scheduler and stores returned in this run, as text (what an answer may cite)."""
    import json

    data = [item.get("data") for item in values.get("gathered") or []]
    data += [call.get("data") for call in values.get("tool_calls") or []]
    return json.dumps(data, ensure_ascii=False, default=str)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def simulator(seed: int = 42, jobs: int = 300) -> AsyncIterator[str]:
    """The seeded simulator on a manual clock, on a free loopback port."""
    import uvicorn

    from hwasim import SimConfig, create_app, plan_for

    config = SimConfig(jobs=jobs, seed=seed, clock="manual")
    plan = plan_for(config)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(config, plan), host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn exposes a flag
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task


@contextlib.asynccontextmanager
async def bench(settings: Settings | None = None, seed: int = 42) -> AsyncIterator[Bench]:
    """Everything a case needs, opened once for a whole evaluation run."""
    base = settings or Settings()
    async with simulator(seed) as sim_url:
        with tempfile.TemporaryDirectory(prefix="resync-eval-") as folder:
            configured = base.model_copy(
                update={
                    "tws_base_url": sim_url,
                    "tws_username": "admin",
                    "tws_password": SecretStr("admin"),
                    "tws_api_key": None,
                    "data_dir": base.data_dir if base.database_url else Path(folder),
                    "embeddings": "hashing" if base.embeddings == "auto" else base.embeddings,
                    "rate_limit_per_minute": 0,
                }
            )
            async with open_app(configured) as app:
                assert app.parts.kg is not None and app.parts.incidents is not None
                await KnowledgeGraphSync(app.parts.client, app.parts.kg).sync(full=True)
                await app.parts.incidents.harvest(app.parts.client)
                jobs, streams, stations = await app.parts.kg.names()
                yield Bench(app, sim_url, {*jobs, *streams, *stations})
