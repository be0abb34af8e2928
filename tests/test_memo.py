"""The run-scoped memo: concurrent and repeated reads of one run share one request; failures are
shared by those waiting but not remembered; writes and unlisted methods pass through."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tools.memo import MemoClient, RunMemo

pytestmark = pytest.mark.fast


class Client:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.fail_next = False
        self.delay = 0.01

    async def find_jobs(self, name: str) -> list[str]:
        self.calls.append(("find_jobs", name))
        await asyncio.sleep(self.delay)
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("engine down")
        return [name]

    async def job_action(self, job_id: str, action: str) -> str:
        self.calls.append(("job_action", job_id))
        return "ok"


async def test_one_request_per_distinct_read() -> None:
    client = Client()
    memo = RunMemo()
    run = MemoClient(client, memo)
    results = await asyncio.gather(*(run.find_jobs("PAYROLL_NIGHTLY") for _ in range(5)), run.find_jobs("OTHER"))
    assert results[0] == ["PAYROLL_NIGHTLY"] and results[-1] == ["OTHER"]
    assert client.calls == [("find_jobs", "PAYROLL_NIGHTLY"), ("find_jobs", "OTHER")]
    await run.find_jobs("PAYROLL_NIGHTLY")
    assert len(client.calls) == 2 and memo.hits == 5 and memo.misses == 2
    assert await MemoClient(client, RunMemo()).find_jobs("PAYROLL_NIGHTLY") == ["PAYROLL_NIGHTLY"]
    assert len(client.calls) == 3  # another run asks again


async def test_failures_are_shared_not_remembered_and_writes_pass_through() -> None:
    client = Client()
    run = MemoClient(client, RunMemo())
    client.fail_next = True
    outcomes = await asyncio.gather(run.find_jobs("X"), run.find_jobs("X"), return_exceptions=True)
    assert all(isinstance(o, ConnectionError) for o in outcomes) and len(client.calls) == 1
    assert await run.find_jobs("X") == ["X"] and len(client.calls) == 2  # tried again
    await run.job_action("id", "hold")
    await run.job_action("id", "hold")
    assert [c for c in client.calls if c[0] == "job_action"] == [("job_action", "id")] * 2


async def test_one_branch_timing_out_does_not_fail_another_waiting_for_the_same_read() -> None:
    client = Client()
    client.delay = 0.3
    run = MemoClient(client, RunMemo())
    first = asyncio.create_task(run.find_jobs("SLOW"))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(run.find_jobs("SLOW"))
    await asyncio.sleep(0.05)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second == ["SLOW"] and client.calls == [("find_jobs", "SLOW")]
