"""Operations: cache and tool statistics, cache invalidation, full health, metrics, document upload."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, UploadFile
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tools.registry import Role

from ..auth import Principal, require
from ..deps import Running
from ..schemas import CacheStats, FullHealth, InvalidateIn, InvalidateOut, ToolStats, UploadOut

router = APIRouter(tags=["operations"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
MAX_UPLOAD = 10 * 1024 * 1024


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
        async with app.store.pool.connection() as conn:
            await conn.execute("SELECT 1")
        return "vectors on" if app.documents.vector_enabled else (app.documents.vector_problem or "no vectors")

    async def redis() -> str:
        health = await app.cache.health()
        if health["status"] != "ok":
            raise RuntimeError(f"degraded: {health['detail']}")
        return str(health["detail"])

    async def model() -> str:
        return type(app.parts.chat_model).__name__

    deps = {}
    for name, probe in (("scheduler", scheduler()), ("postgresql", postgres()), ("redis", redis()), ("model", model())):
        status, latency, detail = await _timed(probe)
        deps[name] = {
            "status": "degraded" if name == "redis" and status == "down" else status,
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


def _save(folder: Path, name: str, data: bytes) -> Path:
    """Write atomically (temp file + rename): a re-upload never leaves a half file behind."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
        tmp.write(data)
    target = folder / name
    Path(tmp.name).replace(target)
    return target


@router.post("/api/v2/knowledge/documents", response_model=UploadOut)
async def upload(app: Running, file: UploadFile, principal: Operator) -> dict[str, Any]:
    name = Path(file.filename or "").name
    if not name or Path(name).suffix.lower() not in {".md", ".markdown", ".txt", ".text", ".pdf"}:
        raise HTTPException(415, detail="upload a .md, .txt or .pdf file")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise HTTPException(413, detail="documents are limited to 10 MiB")
    target = await asyncio.to_thread(_save, Path(app.settings.data_dir) / "uploads", name, data)
    report = await app.documents.ingest([target])
    if report.skipped:
        raise HTTPException(422, detail=f"could not ingest: {next(iter(report.skipped.values()))}")
    return {"ingested": report.ingested, "unchanged": report.unchanged, "chunks": report.chunks}
