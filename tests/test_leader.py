"""One leader among processes (``server.leader.lead``) on a real PostgreSQL: of two contenders for
the same advisory lock only one works; when it goes, the other takes over."""

from __future__ import annotations

import asyncio
import contextlib

from tools.store.leader import lead


async def test_one_leader_at_a_time_and_a_takeover(pg_url: str) -> None:
    working: list[str] = []
    events = {name: asyncio.Event() for name in ("a", "b")}

    def work(name: str):  # type: ignore[no-untyped-def]
        async def run() -> None:
            working.append(name)
            events[name].set()
            await asyncio.Event().wait()  # works until cancelled

        return run

    first = asyncio.create_task(lead(pg_url, "test:leader", work("a"), retry_seconds=0.2))
    await asyncio.wait_for(events["a"].wait(), 10)
    second = asyncio.create_task(lead(pg_url, "test:leader", work("b"), retry_seconds=0.2))
    await asyncio.sleep(1.0)  # several attempts of the second: the lock is held
    assert working == ["a"]
    first.cancel()  # the leader goes (its connection closes, the lock is released)
    with contextlib.suppress(asyncio.CancelledError):
        await first
    await asyncio.wait_for(events["b"].wait(), 10)
    assert working == ["a", "b"]
    second.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await second
