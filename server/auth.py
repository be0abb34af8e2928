"""API keys (hashed at rest) mapped to roles, sent as ``Authorization: Bearer`` or ``X-API-Key``
(the WebSocket may also pass ``?api_key=``); 401 without a valid key, 403 for a role too low."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import HTTPException, Request, WebSocket

from tools.roles import Role
from tools.store.access import key_owner
from tools.store.db import Pool

from .keys import hash_key

log = logging.getLogger("resync.auth")
RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    name: str
    role: Role

    def at_least(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]


class Authenticator:
    def __init__(
        self, pool: Pool, static_keys: dict[str, tuple[str, Role]], disabled: bool, rate_per_minute: int
    ) -> None:
        self.pool = pool
        self.static = static_keys  # hash -> (name, role), from the API_KEYS setting
        self.disabled = disabled
        self.rate = rate_per_minute
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._buckets: dict[str, tuple[float, float]] = {}

    @staticmethod
    def key_from(headers: dict[str, str], query_key: str | None = None) -> str | None:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip() or None
        return headers.get("x-api-key") or query_key

    async def lookup(self, key: str) -> Principal | None:
        digest = hash_key(key)
        if digest in self.static:
            name, role = self.static[digest]
            return Principal(name, role)
        cached = self._cache.get(digest)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        found = await key_owner(self.pool, digest)
        principal = Principal(found[0], Role(found[1])) if found else None
        self._cache[digest] = (time.monotonic() + 30, principal)
        return principal

    def _rate_limit(self, principal: Principal) -> None:
        """Token bucket per key: ``rate`` requests a minute, bursts up to the same number (0: no limit)."""
        if self.rate <= 0:
            return
        now = time.monotonic()
        tokens, last = self._buckets.get(principal.name, (float(self.rate), now))
        tokens = min(float(self.rate), tokens + (now - last) * self.rate / 60)
        if tokens < 1:
            raise HTTPException(429, detail=f"rate limit: {self.rate} requests a minute per key")
        self._buckets[principal.name] = (tokens - 1, now)

    async def authenticate(self, headers: dict[str, str], query_key: str | None = None) -> Principal:
        if self.disabled:
            return Principal("dev-mode (AUTH DISABLED)", Role.ADMIN)
        key = self.key_from(headers, query_key)
        if not key:
            raise HTTPException(
                401,
                detail="missing API key: send Authorization: Bearer <key> or X-API-Key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = await self.lookup(key)
        if principal is None:
            raise HTTPException(401, detail="invalid API key", headers={"WWW-Authenticate": "Bearer"})
        self._rate_limit(principal)
        return principal


def parse_static_keys(text: str) -> dict[str, tuple[str, Role]]:
    """``API_KEYS``: ``<sha256 hex>:<role>[:<name>]``, comma-separated (hashes only, never keys)."""
    keys = {}
    for index, entry in enumerate(e.strip() for e in text.split(",") if e.strip()):
        parts = entry.split(":")
        if len(parts) not in (2, 3) or len(parts[0]) != 64:
            raise ValueError(f"API_KEYS entry {index + 1} must be <sha256 hex>:<role>[:<name>]")
        keys[parts[0].lower()] = (parts[2] if len(parts) == 3 else f"static-{index + 1}", Role(parts[1]))
    return keys


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller, who must have at least ``role``."""

    async def dependency(request: Request) -> Principal:
        principal: Principal = await request.app.state.resync.auth.authenticate(dict(request.headers))
        if not principal.at_least(role):
            raise HTTPException(403, detail=f"role {principal.role.value} may not do this (needs {role.value})")
        request.state.principal = principal
        return principal

    return dependency


async def websocket_principal(websocket: WebSocket) -> Principal:
    auth: Authenticator = websocket.app.state.resync.auth
    return await auth.authenticate(dict(websocket.headers), websocket.query_params.get("api_key"))
