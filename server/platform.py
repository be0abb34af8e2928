"""Resync under the LangGraph server (``langgraph dev``, Studio, langgraph-sdk, Agent Chat UI).

``langgraph.json`` loads ``server/studio.py``, which re-exports what is here: the module-level graph,
our FastAPI app (``http.app``) and ``auth`` — the same API keys as our own API (Bearer or
``X-API-Key``), giving each run the key's identity and role (the graph reads them from the
authenticated user, never from a client-chosen context) and each thread an owner. One set of
parts is shared by the graph, the app and the auth handler."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import HTTPException
from langgraph_sdk import Auth

from graph.context import set_default_parts
from graph.graph import graph
from tools.context import Parts

from .app import create_app
from .auth import Authenticator
from .compose import App, open_app
from .settings import Settings

app = create_app()
_opened: App | None = None
_lock = asyncio.Lock()
_stack = contextlib.AsyncExitStack()  # kept open for the life of the dev server


async def _assembled() -> App | None:
    """The app's own parts when its lifespan ran; else open them once, here."""
    global _opened
    async with _lock:
        if getattr(app.state, "resync", None) is not None:
            return None
        if _opened is None:
            _opened = await _stack.enter_async_context(open_app(Settings()))
    return _opened


async def _parts() -> Parts:
    opened = await _assembled()
    return opened.parts if opened is not None else app.state.resync.parts


_authenticator: Authenticator | None = None


async def _keys() -> Authenticator:
    global _authenticator
    opened = await _assembled()
    if opened is None:
        return app.state.resync.auth
    if _authenticator is None:  # no per-process rate limit here: the LangGraph server calls it per request
        _authenticator = Authenticator(opened.store.pool, opened.auth.static, opened.settings.auth_disabled)
    return _authenticator


set_default_parts(_parts)
auth = Auth()


@auth.authenticate
async def authenticate(headers: dict[Any, Any]) -> dict[str, Any]:
    """The same API keys as ``/api/v2``: 401 without a valid one."""
    plain = {
        (k.decode() if isinstance(k, bytes) else str(k)).lower(): (v.decode() if isinstance(v, bytes) else str(v))
        for k, v in headers.items()
    }
    try:
        principal = await (await _keys()).authenticate(plain)
    except HTTPException as exc:
        raise Auth.exceptions.HTTPException(status_code=exc.status_code, detail=str(exc.detail)) from None
    return {"identity": principal.name, "role": principal.role.value, "permissions": [principal.role.value]}


@auth.on.threads
async def own_threads(ctx: Auth.types.AuthContext, value: Any) -> dict[str, Any] | None:
    """A thread belongs to the user who created it; others (but admins) neither see nor run it."""
    if ctx.action == "create" and isinstance(value, dict):
        value.setdefault("metadata", {})["owner"] = ctx.user.identity
    if _role(ctx.user) == "admin":
        return None
    return {"owner": ctx.user.identity}


@auth.on.store()
async def own_store(ctx: Auth.types.AuthContext, value: Any) -> None:
    """Each user's store items live under their own identity: the namespace is prefixed with it, so
    nobody reads, lists or deletes another user's items."""
    namespace = tuple(value.get("namespace") or ())
    identity = ctx.user.identity
    if not namespace or namespace[0] != identity:
        value["namespace"] = (identity, *namespace)


def _role(user: Any) -> str:
    try:
        return str(user["role"])
    except (KeyError, TypeError):
        return "viewer"


__all__ = ["app", "auth", "graph"]
