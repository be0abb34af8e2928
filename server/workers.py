"""``resync serve --workers N``: what the workers share is started once, by the parent process,
before uvicorn spawns them — the built-in simulator (a ``resync sim`` process of its own, when no
``TWS_BASE_URL`` is set) and the embedded PostgreSQL (when no ``DATABASE_URL`` is set). Each worker
opens its own pools and attaches to both; one of them leads the knowledge-graph sync
(``leader.lead``); rate limits are counted in Redis."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from fastapi import FastAPI

from tools.store.db import embedded_url, release_embedded

from .settings import Settings


def worker_app() -> FastAPI:
    """The app factory each worker process calls (settings from the environment, as the parent's)."""
    from .app import configure_logging, create_app

    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)


def _simulator_answers(url: str) -> bool:
    try:
        response = httpx.get(f"{url}/admin/status", timeout=1.0)
        return response.status_code == 200 and "jobs" in response.json()
    except (httpx.HTTPError, ValueError):
        return False


@contextlib.contextmanager
def shared_simulator(settings: Settings) -> Iterator[None]:
    """The built-in simulator as a process of its own for as long as the block runs (one for every
    worker); nothing when an engine is configured or a simulator already answers."""
    url = f"http://{settings.sim_host}:{settings.sim_port}"
    if settings.tws_base_url or _simulator_answers(url):
        yield
        return
    command = [sys.executable, "-m", "server.cli", "sim", "--host", settings.sim_host]
    command += ["--port", str(settings.sim_port), "--jobs", str(settings.sim_jobs), "--seed", str(settings.sim_seed)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _simulator_answers(url):
            if process.poll() is not None:
                detail = process.stderr.read() if process.stderr else ""
                raise RuntimeError(f"the built-in simulator did not start on {url}: {detail.strip()[-500:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the built-in simulator did not answer on {url} within 60 s")
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextlib.contextmanager
def shared_database(settings: Settings) -> Iterator[None]:
    """The embedded PostgreSQL started once (the workers attach to it), when no DATABASE_URL is set."""
    if settings.database_url:
        yield
        return
    folder: Path = settings.data_dir / "pg"
    embedded_url(folder)
    try:
        yield
    finally:
        release_embedded(folder)
