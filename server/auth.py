"""API keys (hashed at rest) mapped to roles, sent as ``Authorization: Bearer`` or ``X-API-Key``
(the WebSocket may also pass ``?api_key=``); 401 without a valid key, 403 for a role too low."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from tools.roles import Role
from tools.store.access import key_owner
from tools.store.db import Pool, listen, readable

from .keys import hash_key
from .limits import RateLimited, RateLimiter

log = logging.getLogger("resync.auth")
RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    """Who calls: the key's name is its identity (unique among active keys), ``key_id`` its row
    (None for keys from the ``API_KEYS`` setting)."""

    name: str
    role: Role
    key_id: int | None = None

    def at_least(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]


UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


KEY_CHANGES = "resync_api_keys"  # notified by a trigger on api_keys (migration 0011)
LISTEN_CHECK_SECONDS = 30.0  # how often the listening connection is checked while nothing is notified


class Authenticator:
    """A key is looked up in the database (one indexed query) and then remembered for up to
    ``remember_seconds`` — only while this process listens for key changes: any revocation (API, CLI,
    SQL) notifies every server, which forgets what it remembered, so a revoked key stops at once.
    Without the listener every request looks its key up. Then the caller's rate limit is counted."""

    def __init__(
        self,
        pool: Pool,
        static_keys: dict[str, tuple[str, Role]],
        disabled: bool,
        limiter: RateLimiter | None = None,
        remember_seconds: float = 60.0,
    ) -> None:
        self.pool = pool
        self.static = static_keys  # hash -> (name, role), from the API_KEYS setting
        self.disabled = disabled
        self.limiter = limiter or RateLimiter(0)
        self.remember_seconds = remember_seconds
        self._known: dict[str, tuple[Principal, float]] = {}
        self._listening = False
        self._generation = 0  # bumped by every key change and every (re)connection of the listener
        self._listener_fd = -1

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """Listen for key changes while the server runs (a connection of its own, reconnected)."""
        task = asyncio.create_task(self._listen())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _subscribed(self, fd: int) -> None:
        self._forget()  # what changed before the subscription is not known: every key is read again
        self._listening, self._listener_fd = True, fd

    async def _listen(self) -> None:
        conninfo = self.pool.conninfo
        if not isinstance(conninfo, str):
            return  # a pool built from a function: no listener, every request looks its key up
        while True:
            try:
                await listen(conninfo, KEY_CHANGES, LISTEN_CHECK_SECONDS, self._subscribed, self._forget)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: look every key up until it is back
                log.warning("not listening for API key changes (%s): every request looks its key up", exc)
            finally:
                self._listening = False
                self._forget()
            await asyncio.sleep(5)

    def _forget(self) -> None:
        """Drop every remembered key; a lookup that started before this may not store its answer."""
        self._known.clear()
        self._generation += 1

    @staticmethod
    def key_from(headers: Mapping[str, str], query_key: str | None = None) -> str | None:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        return headers.get("x-api-key") or query_key

    async def lookup(self, key: str) -> Principal | None:
        digest = hash_key(key)
        if digest in self.static:
            name, role = self.static[digest]
            return Principal(name, role)
        held = self._known.get(digest)
        if held is not None and self._listening and held[1] > time.monotonic() and not readable(self._listener_fd):
            return held[0]  # (a notification arriving and not yet read: look the key up, it may be revoked)
        generation = self._generation
        found = await key_owner(self.pool, digest)
        if found is None:
            return None  # never remembered: a key created a moment later works at once
        principal = Principal(found[1], Role(found[2]), found[0])
        if self._listening and generation == self._generation:  # no key changed while we looked it up
            self._known[digest] = (principal, time.monotonic() + self.remember_seconds)
        return principal

    async def identify(self, headers: Mapping[str, str], query_key: str | None = None) -> Principal:
        """The caller, without counting a request: 401 (HTTPException) without a valid key."""
        if self.disabled:
            return Principal("dev-mode (AUTH DISABLED)", Role.ADMIN)
        key = self.key_from(headers, query_key)
        if not key:
            raise HTTPException(
                401, detail="missing API key: send Authorization: Bearer <key> or X-API-Key", headers=UNAUTHORIZED
            )
        principal = await self.lookup(key)
        if principal is None:
            raise HTTPException(401, detail="invalid or revoked API key", headers=UNAUTHORIZED)
        return principal

    async def count(self, principal: Principal) -> None:
        """One request (or WebSocket message) of ``principal``: 429 with Retry-After over the limit."""
        try:
            await self.limiter.check(principal.name)
        except RateLimited as exc:
            raise HTTPException(429, detail=str(exc), headers={"Retry-After": str(exc.retry_after)}) from None

    async def authenticate(self, headers: Mapping[str, str], query_key: str | None = None) -> Principal:
        principal = await self.identify(headers, query_key)
        await self.count(principal)
        return principal


# declared for the OpenAPI document (the Authorize button); the Authenticator reads the headers
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="an API key (resync keys create); `Authorization: Bearer <key>` is accepted too",
)


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must have at least ``role``. The edge middleware may already have
    authenticated the request (before its body was read); then that principal is used."""

    async def dependency(
        request: Request,
        _key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
    ) -> Principal:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            principal = await request.app.state.resync.auth.authenticate(request.headers)
            request.state.principal = principal
        if not principal.at_least(role):
            raise HTTPException(403, detail=f"role {principal.role.value} may not do this (needs {role.value})")
        return principal

    return dependency
