"""The built-in HWA simulator (the default engine): found by asking it, started when absent.

A simulator already answering on ``SIM_HOST:SIM_PORT`` (another worker's, a previous start's, or
``resync sim``) is used as it is. Otherwise the port is bound with ``SO_REUSEADDR`` (so sockets in
TIME_WAIT after a restart do not block it) and the simulator runs for as long as the block runs.
Several processes on one machine therefore share one simulator; it lives with the process that
started it."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
from collections.abc import AsyncIterator

import httpx

from .settings import Settings

log = logging.getLogger(__name__)
PEER_WAIT_SECONDS = 15.0


async def simulator_answers(host: str, port: int) -> bool:
    """True when our simulator answers on host:port (its admin status)."""
    try:
        async with httpx.AsyncClient(timeout=1.0) as http:
            response = await http.get(f"http://{host}:{port}/admin/status")
        return response.status_code == 200 and "jobs" in response.json()
    except (httpx.HTTPError, ValueError):
        return False


def bind_reusable(host: str, port: int) -> socket.socket | None:
    """A listening-ready socket on host:port, or None when something else holds the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            return None
        raise
    return sock


async def _wait_for_peer(host: str, port: int) -> bool:
    """Another process holds the port: give it time to start answering."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PEER_WAIT_SECONDS
    while loop.time() < deadline:
        if await simulator_answers(host, port):
            return True
        await asyncio.sleep(0.25)
    return False


@contextlib.asynccontextmanager
async def builtin_simulator(settings: Settings) -> AsyncIterator[None]:
    host, port = settings.sim_host, settings.sim_port
    if await simulator_answers(host, port):
        log.info("using the HWA simulator already answering on %s:%s", host, port)
        yield
        return
    sock = bind_reusable(host, port)
    if sock is None:
        if await _wait_for_peer(host, port):
            log.info("using the HWA simulator another process started on %s:%s", host, port)
            yield
            return
        raise RuntimeError(f"{host}:{port} is taken by something that is not the HWA simulator: set SIM_PORT")
    import uvicorn

    from hwasim import SimConfig, create_app, plan_for

    config = SimConfig(jobs=settings.sim_jobs, seed=settings.sim_seed)
    plan = plan_for(config)
    # log_config=None: keep the process's JSON logging (uvicorn would install its own handlers)
    server = uvicorn.Server(uvicorn.Config(create_app(config, plan), log_config=None, access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started and not task.done():  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
        if task.done():
            raise RuntimeError(f"the HWA simulator did not start on {host}:{port}")
        log.info("built-in HWA simulator on %s:%s", host, port)
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        sock.close()
