"""What ``langgraph dev`` / LangGraph Studio load (``langgraph.json``): the module-level graph and our
FastAPI app (``http.app``), sharing one set of services opened by the app's lifespan (or on first use
when a run comes before the app started)."""

from __future__ import annotations

import asyncio
import contextlib

from graph.context import Services, set_default_services
from graph.graph import graph
from server.app import create_app
from server.runtime import open_app
from server.settings import Settings

app = create_app()
_services: Services | None = None
_lock = asyncio.Lock()
_stack = contextlib.AsyncExitStack()  # kept open for the life of the dev server


async def _provide() -> Services:
    global _services
    async with _lock:
        shared = getattr(app.state, "services", None)
        if shared is not None:
            return shared
        if _services is None:
            _services = (await _stack.enter_async_context(open_app(Settings()))).services
    return _services


set_default_services(_provide)

__all__ = ["app", "graph"]
