"""The graph as LangGraph Studio / ``langgraph dev`` load it (``langgraph.json``): the module-level
graph, with the server's services opened on first use, on the loop that runs the graph."""

from __future__ import annotations

import asyncio
import contextlib

from graph.context import Services, set_default_services
from graph.graph import graph
from server.runtime import open_app
from server.settings import Settings

_services: Services | None = None
_lock = asyncio.Lock()
_stack = contextlib.AsyncExitStack()  # kept open for the life of the dev server


async def _provide() -> Services:
    global _services
    async with _lock:
        if _services is None:
            app = await _stack.enter_async_context(open_app(Settings()))
            _services = app.services
    return _services


set_default_services(_provide)

__all__ = ["graph"]
