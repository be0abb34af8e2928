"""Operations: cache and tool statistics, cache invalidation, full health, metrics."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tools.registry import Role
from tools.store.db import ping

from ..auth import Principal, require
from ..deps import Running
from ..schemas import (
    CacheStats,
    FullHealth,
    InvalidateIn,
    InvalidateOut,
    ToolStats,
)

router = APIRouter(tags=["operations"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]


@router.get("/api/cache/stats", response_model=CacheStats)
async def cache_stats(app: Running, principal: Viewer) -> dict[str, Any]:
    stats: dict[str, Any] = await app.cache.stats()
    return stats


@router.post("/api/cache/invalidate", response_model=InvalidateOut)
async def invalidate(app: Running, body: InvalidateIn, principal: Admin) -> dict[str, int]:
    return {"removed": await app.cache.invalidate_pattern(body.pattern)}


@router.get("/api/tools/stats", response_model=ToolStats)
async def tool_stats(app: Running, principal: Viewer) -> dict[str, Any]:
    stats: dict[str, Any] = await app.parts.catalog.stats()
    return stats


async def _timed(coro: Any) -> tuple[str, float, str | None]:
    started = time.perf_counter()
    try:
        detail = await coro
        return "ok", round((time.perf_counter() - started) * 1000, 1), detail
    except Exception as exc:  # health reports, never raises
        return "down", round((time.perf_counter() - started) * 1000, 1), f"{type(exc).__name__}: {exc}"[:300]


@router.get("/api/health/full", response_model=FullHealth)
async def full_health(app: Running, principal: Viewer) -> dict[str, Any]:

    async def scheduler() -> str:
        info = await app.parts.client.engine_info()
        return f"HWA {info.display_version}, breaker {await app.parts.client.breaker_state()}"

    async def postgres() -> str:
        await ping(app.store.pool)
        return "vectors on" if app.documents.vector_enabled else (app.documents.vector_problem or "no vectors")

    async def redis() -> str:
        health = await app.cache.health()
        if health["status"] != "ok":
            raise RuntimeError(f"degraded: {health['detail']}")
        return str(health["detail"])

    async def model() -> str:
        settings = app.settings
        if not settings.llm_configured:
            return "offline model (answers composed from the gathered facts)"
        return f"{settings.llm_model} at {settings.openai_base_url or 'api.openai.com'}"

    async def embeddings() -> str:
        embedder = app.documents.embedder
        if embedder.fallback_from:
            raise RuntimeError(embedder.description)
        return embedder.description

    deps = {}
    probes = {
        "scheduler": scheduler(),
        "postgresql": postgres(),
        "redis": redis(),
        "model": model(),
        "embeddings": embeddings(),
    }
    for name, probe in probes.items():
        status, latency, detail = await _timed(probe)
        deps[name] = {
            "status": "degraded" if name in {"redis", "embeddings"} and status == "down" else status,
            "latency_ms": latency,
            "detail": detail,
        }
    blocking = [n for n, d in deps.items() if d["status"] == "down"]
    overall = (
        "UNHEALTHY" if blocking else ("DEGRADED" if any(d["status"] != "ok" for d in deps.values()) else "HEALTHY")
    )
    auth = "DISABLED (dev mode: every caller is admin)" if app.settings.auth_disabled else "api keys"
    return {"status": overall, "auth": auth, "dependencies": deps}


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics() -> PlainTextResponse:
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)
