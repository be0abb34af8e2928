"""Fault injection: timeouts are quick, 503 bursts are retried on GET and never on PUT, the breaker
opens and recovers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.live import LiveServer
from tools.hwa import HWACircuitOpen, HWAClient, HWAClientConfig, HWATimeout, HWAUnavailable, JobAction


def faults(http: httpx.Client, *rules: dict[str, Any]) -> None:
    assert http.put("/admin/faults", json={"rules": list(rules)}).status_code == 200


def injected(http: httpx.Client) -> int:
    count: int = http.get("/admin/faults").json()["injected"]
    return count


def config(sim: LiveServer, **overrides: Any) -> HWAClientConfig:
    values: dict[str, Any] = {
        "base_url": sim.url,
        "username": "admin",
        "password": "admin",
        "read_timeout": 0.5,
        "max_retries": 3,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
        "breaker_threshold": 20,
    }
    return HWAClientConfig(**(values | overrides))


async def test_latency_beyond_timeout_fails_fast(fresh_sim: LiveServer, admin_http: httpx.Client) -> None:
    faults(admin_http, {"path_prefix": "/twsd/api/v2/engine", "latency_ms": 3000})
    async with HWAClient(config(fresh_sim)) as client:
        started = time.monotonic()
        with pytest.raises(HWATimeout):
            await client.engine_info()
        assert time.monotonic() - started < 2.0  # one read timeout, not retried into minutes
        assert (await client.query_jobs(limit=1)).results  # other paths are unaffected


async def test_hang_is_a_timeout(fresh_sim: LiveServer, admin_http: httpx.Client) -> None:
    faults(admin_http, {"path_prefix": "/twsd/api/v2/plan/workstation", "hang": True})
    async with HWAClient(config(fresh_sim, read_timeout=0.3)) as client:
        with pytest.raises(HWATimeout):
            await client.query_workstations()


async def test_503_burst_is_retried_on_get(fresh_sim: LiveServer, admin_http: httpx.Client) -> None:
    faults(admin_http, {"path_prefix": "/twsd/api/v2/engine", "error_count": 2, "error_status": 503})
    async with HWAClient(config(fresh_sim)) as client:
        assert (await client.engine_info()).display_version
    assert injected(admin_http) == 2


async def test_503_is_never_retried_on_put(fresh_sim: LiveServer, admin_http: httpx.Client) -> None:
    async with HWAClient(config(fresh_sim)) as client:
        job = (await client.query_jobs("jobruns.compositeStatus.status = 'HOLD' AND priority > 0", limit=1)).results[0]
        faults(admin_http, {"path_prefix": "/twsd/api/v2/plan/job", "method": "PUT", "error_count": 5})
        with pytest.raises(HWAUnavailable, match="503"):
            await client.job_action(job.id, JobAction.HOLD)
        assert injected(admin_http) == 1
        assert (await client.get_job(job.id)).priority == 10  # nothing happened twice, nor once


async def test_retries_give_up_after_max(fresh_sim: LiveServer, admin_http: httpx.Client) -> None:
    faults(admin_http, {"path_prefix": "/twsd/api/v2/engine", "error_rate": 1.0, "error_status": 500})
    async with HWAClient(config(fresh_sim, max_retries=2)) as client:
        with pytest.raises(HWAUnavailable, match="500"):
            await client.engine_info()
    assert injected(admin_http) == 3


async def test_breaker_opens_and_recovers(fresh_sim: LiveServer, admin_http: httpx.Client) -> None:
    faults(admin_http, {"path_prefix": "/twsd/", "error_rate": 1.0})
    async with HWAClient(config(fresh_sim, max_retries=0, breaker_threshold=3, breaker_reset_seconds=0.5)) as client:
        for _ in range(3):
            with pytest.raises(HWAUnavailable):
                await client.engine_info()
        assert await client.breaker_state() == "opened"
        calls = injected(admin_http)
        with pytest.raises(HWACircuitOpen):
            await client.engine_info()
        assert injected(admin_http) == calls  # failing fast: the engine was not called
        faults(admin_http)  # the engine comes back
        await asyncio.sleep(0.6)
        assert (await client.engine_info()).display_version
        assert await client.breaker_state() == "closed"


async def test_client_errors_do_not_open_the_breaker(fresh_sim: LiveServer) -> None:
    async with HWAClient(config(fresh_sim, breaker_threshold=2)) as client:
        for _ in range(4):
            with pytest.raises(Exception, match="404"):
                await client.get_job("00000000-0000-4000-8000-000000000000")
        assert await client.breaker_state() == "closed"


async def test_unreachable_engine(fresh_sim: LiveServer) -> None:
    async with HWAClient(HWAClientConfig("http://127.0.0.1:9", max_retries=1, backoff_initial=0.01)) as client:
        with pytest.raises(HWAUnavailable, match="cannot reach"):
            await client.engine_info()
