"""A run's view of the client (``HWAClient.view``) against the simulator: concurrent and repeated reads
of one run share one request; failures are shared by those waiting but not remembered; one branch
cut off never fails another waiting for the same read; every write is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.live import LiveServer
from tools.hwa import HWAClient, HWAClientConfig, HWAError, JobAction
from tools.hwa.reads import WriteNotApproved, prefetch
from tools.memo import RunMemo

pytestmark = pytest.mark.fast


def faults(http: httpx.Client, *rules: dict[str, Any]) -> None:
    assert http.put("/admin/faults", json={"rules": list(rules)}).status_code == 200


def counted(sim: LiveServer) -> tuple[HWAClient, list[str]]:
    """A client of the simulator, and the paths of the requests it sends."""
    config = HWAClientConfig(sim.url, "admin", "admin", max_retries=0, read_timeout=5, breaker_threshold=50)
    client, sent = HWAClient(config), []

    async def record(request: httpx.Request) -> None:
        sent.append(request.url.path)

    client._http.event_hooks["request"].append(record)
    return client, sent


async def test_one_request_per_distinct_read(sim: LiveServer) -> None:
    async with counted(sim)[0] as probe:
        job_id = (await probe.find_jobs("PAYROLL_NIGHTLY"))[0].id
    client, sent = counted(sim)
    async with client:
        memo = RunMemo()
        run = client.view(memo)
        jobs = await asyncio.gather(*(run.get_job(job_id) for _ in range(5)), run.engine_info())
        assert jobs[0].id == job_id and len(sent) == 2 and memo.hits == 4 and memo.misses == 2
        await run.get_job(job_id)
        assert len(sent) == 2
        await client.view(RunMemo()).get_job(job_id)  # another run asks again
        await client.get_job(job_id)  # and the client itself never memoizes
        assert len(sent) == 4


async def test_prefetch_is_joined_by_the_same_read(sim: LiveServer) -> None:
    client, sent = counted(sim)
    async with client:
        run = client.view(RunMemo())
        prefetch(run, "find_jobs", "PAYROLL_NIGHTLY")
        assert (await run.find_jobs("PAYROLL_NIGHTLY", workstation=None))[0].name == "PAYROLL_NIGHTLY"
        assert len(sent) == 1
        prefetch(client.view(), "find_jobs", "X")  # a view without a memo: nothing is sent
        with pytest.raises(ValueError):
            prefetch(run, "job_action", "id")
        assert len(sent) == 1


async def test_failures_are_shared_not_remembered(fresh_sim: LiveServer, admin_http: httpx.Client) -> None:
    client, sent = counted(fresh_sim)
    async with client:
        run = client.view(RunMemo())
        faults(admin_http, {"path_prefix": "/twsd/api/v2/engine", "error_count": 1, "latency_ms": 100})
        outcomes = await asyncio.gather(run.engine_info(), run.engine_info(), return_exceptions=True)
        assert all(isinstance(o, HWAError) for o in outcomes) and len(sent) == 1
        assert (await run.engine_info()).display_version and len(sent) == 2  # tried again


async def test_one_branch_cut_off_does_not_fail_another_waiting(
    fresh_sim: LiveServer, admin_http: httpx.Client
) -> None:
    client, sent = counted(fresh_sim)
    async with client:
        run = client.view(RunMemo())
        faults(admin_http, {"path_prefix": "/twsd/api/v2/engine", "latency_ms": 300})
        first = asyncio.create_task(run.engine_info())
        await asyncio.sleep(0.05)
        second = asyncio.create_task(run.engine_info())
        await asyncio.sleep(0.05)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        assert (await second).display_version and len(sent) == 1


async def test_a_view_refuses_every_write_and_sends_nothing(sim: LiveServer) -> None:
    client, sent = counted(sim)
    async with client:
        run = client.view(RunMemo())
        with pytest.raises(WriteNotApproved):
            await run.job_action("any-id", JobAction.HOLD)
        with pytest.raises(WriteNotApproved):
            await run.rerun_run("any-run")
        with pytest.raises(WriteNotApproved):
            await run.job_action_by_filter("hold", "jobName = 'X'")
        assert sent == [] and not client.read_only
