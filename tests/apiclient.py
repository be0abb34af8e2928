"""The API under test: settings for an app on the test's simulator, database and Redis, and clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from server.settings import Settings
from tests.live import LiveServer

V2 = "/api/v2"


def app_settings(sim: LiveServer, pg_url: str, redis: Any, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "tws_base_url": sim.url,
        "tws_username": "admin",
        "tws_password": "admin",
        "database_url": pg_url,
        "redis_url": redis.url,
        "embeddings": "hashing",
        "data_dir": data_dir,
        "kg_sync_interval_seconds": 3600,
    }
    return Settings(**(values | overrides))


def client(api: LiveServer, key: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(base_url=api.url, headers=headers, timeout=60)


async def sse_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events, event = [], None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event:
            events.append((event, json.loads(line[6:])))
    return events
