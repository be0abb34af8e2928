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
from langchain_core.outputs import LLMResult
from pydantic import SecretStr

from graph.turns import Turn
from graph.variants import Variant
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
        counter = TokenCounter()
        turns = self.app.turns  # the runner users' turns go through (claim, stream, rollback, waiting text)
        thread = await turns.claim(f"eval-{uuid.uuid4().hex[:12]}", f"eval-{case.id}")
        end: dict[str, Any] = {}
        for question in case.turns:
            turn = Turn(thread, self.app.turn_context(f"eval-{case.id}", case.role, variant), question)
            turn.callbacks.append(counter)
            counter.calls.clear()
            started = time.perf_counter()
            end = await turns.run(turn)
        latency_ms = (time.perf_counter() - started) * 1000
        values = turn.values  # the whole final state, not only what the answer shows
        interrupts = values.get("__interrupt__") or ()
        gathered = [item["tool"] for item in values.get("gathered") or []]
        called = [call["name"] for call in values.get("tool_calls") or []]
        last = (values.get("messages") or [None])[-1]
        paused = [call["name"] for call in getattr(last, "tool_calls", None) or []] if interrupts else []
        return {
            "answer": end.get("message", ""),  # what the user is shown (the waiting text of a paused write)
            "query_type": values.get("query_type"),
            "entities": values.get("entities") or {},
            "trajectory": list(dict.fromkeys(gathered + called + paused)),
            "pending_approval": end.get("pending_approval"),
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
