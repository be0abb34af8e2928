"""API keys (hashed at rest) mapped to roles, sent as ``Authorization: Bearer`` or ``X-API-Key``
(the WebSocket may also pass ``?api_key=``); 401 without a valid key, 403 for a role too low."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from tools.roles import Role
from tools.store.access import key_owner
from tools.store.db import Pool

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


class Authenticator:
    """Every request looks its key up (one indexed query), so a revoked key stops at once; then the
    caller's rate limit is counted."""

    def __init__(
        self, pool: Pool, static_keys: dict[str, tuple[str, Role]], disabled: bool, limiter: RateLimiter | None = None
    ) -> None:
        self.pool = pool
        self.static = static_keys  # hash -> (name, role), from the API_KEYS setting
        self.disabled = disabled
        self.limiter = limiter or RateLimiter(0)

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
        found = await key_owner(self.pool, digest)
        return Principal(found[1], Role(found[2]), found[0]) if found else None

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
API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key (resync keys create)")
BEARER = HTTPBearer(auto_error=False, description="the same API key as a Bearer token")


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, who must have at least ``role``. The edge middleware may already have
    authenticated the request (before its body was read); then that principal is used."""

    async def dependency(
        request: Request,
        _key: Annotated[str | None, Security(API_KEY_HEADER)] = None,
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    ) -> Principal:
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            principal = await request.app.state.resync.auth.authenticate(request.headers)
            request.state.principal = principal
        if not principal.at_least(role):
            raise HTTPException(403, detail=f"role {principal.role.value} may not do this (needs {role.value})")
        return principal

    return dependency
