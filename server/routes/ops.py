"""Operations: cache and tool statistics, cache invalidation, full health, metrics, document upload."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, UploadFile
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tools.registry import Role

from ..auth import Principal, require
from ..compose import App
from ..deps import Running
from ..errors import error_response
from ..schemas import (
    FORBIDDEN_CHARACTERS,
    CacheStats,
    FullHealth,
    InvalidateIn,
    InvalidateOut,
    ToolStats,
    UploadOut,
    clean_text,
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


TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".text"})


def content_problem(suffix: str, data: bytes) -> str | None:
    """Why the bytes are not what the name says (checked by content, not by name), or None."""
    if suffix == ".pdf":
        return None if data.startswith(b"%PDF-") else "not a PDF file (no %PDF- header)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start})"
    try:
        clean_text(text)
    except ValueError as exc:
        return f"not plain text: {exc}"
    return None


def _save(folder: Path, name: str, data: bytes) -> Path:
    """Written atomically (temp file + rename) into the uploader's own folder: a re-upload replaces
    the uploader's earlier version, never another user's file of the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp:
        tmp.write(data)
    target = folder / name
    try:
        Path(tmp.name).replace(target)
    except OSError:
        Path(tmp.name).unlink(missing_ok=True)
        raise
    return target


def uploads_of(app: App, principal: Principal) -> Path:
    # a folder per identity, named by a hash (no two names meet, no name is a path)
    return Path(app.settings.data_dir) / "uploads" / hashlib.sha256(principal.name.encode()).hexdigest()[:16]


@router.post(
    "/api/v2/knowledge/documents",
    response_model=UploadOut,
    responses={
        415: error_response("not a .md, .txt or .pdf file by name and content"),
        422: error_response("the document could not be ingested"),
    },
)
async def upload(app: Running, file: UploadFile, principal: Operator) -> dict[str, Any]:
    name = Path(file.filename or "").name
    suffix = Path(name).suffix.lower()
    if not name or suffix not in {*TEXT_SUFFIXES, ".pdf"} or FORBIDDEN_CHARACTERS.search(name):
        raise HTTPException(415, detail="upload a .md, .txt or .pdf file")
    if len(name.encode()) > 200:
        raise HTTPException(422, detail="the file name is longer than 200 bytes")
    data = await file.read(app.settings.max_upload_bytes + 1)
    if len(data) > app.settings.max_upload_bytes:
        raise HTTPException(413, detail=f"documents are limited to {app.settings.max_upload_bytes} bytes")
    problem = content_problem(suffix, data)
    if problem:
        raise HTTPException(415, detail=f"{name}: {problem}")
    target = await asyncio.to_thread(_save, uploads_of(app, principal), name, data)
    try:
        report = await app.documents.ingest([target])
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if report.skipped:
        target.unlink(missing_ok=True)
        raise HTTPException(422, detail=f"could not ingest {name}: {next(iter(report.skipped.values()))}")
    return {"ingested": [name], "unchanged": [name] if report.unchanged else [], "chunks": report.chunks}
