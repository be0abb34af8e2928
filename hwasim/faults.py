"""Fault injection, switchable at run time: latency, error bursts/rates (500/503) and hangs per path."""

from __future__ import annotations

import asyncio
import random

from fastapi import Request, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import error_response


class FaultRule(BaseModel):
    path_prefix: str = Field("/twsd/", description="requests whose path starts with this are affected")
    method: str | None = Field(None, description="only this HTTP method (GET, PUT…); all when empty")
    latency_ms: int = Field(0, ge=0, le=600_000)
    error_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of requests answered with error_status")
    error_count: int = Field(0, ge=0, description="answer the next N matching requests with error_status")
    error_status: int = Field(503, ge=500, le=599)
    hang: bool = Field(False, description="never answer (until the client gives up)")

    def matches(self, request: Request) -> bool:
        return request.url.path.startswith(self.path_prefix) and (
            self.method is None or self.method.upper() == request.method
        )


class FaultInjector:
    def __init__(self, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self.rng = random.Random(seed)
        self.injected = 0

    async def before(self, request: Request) -> Response | None:
        """What the matching rules do to a request: a delay, a hang, or an error answered instead."""
        for rule in [r for r in self.rules if r.matches(request)]:
            if rule.hang:
                self.injected += 1
                await asyncio.sleep(3600)
            if rule.latency_ms:
                await asyncio.sleep(rule.latency_ms / 1000)
            burst = rule.error_count > 0
            if burst or (rule.error_rate and self.rng.random() < rule.error_rate):
                rule.error_count -= 1 if burst else 0
                self.injected += 1
                return error_response(
                    rule.error_status,
                    "AWSSIM0500E Injected fault: the engine is unavailable.",
                    "ServiceUnavailableException",
                )
        return None


class FaultMiddleware:
    """The injector as plain ASGI middleware: without rules a request passes straight through (no
    per-request wrapping of the body, as Starlette's ``BaseHTTPMiddleware`` would do)."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app, self.injector = app, injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.injector.rules:
            answer = await self.injector.before(Request(scope))
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
