"""Single-flight fetches that one caller's cancellation cannot break for the others.

A fetch runs in a task of its own; every caller (the first included) waits on it through
``asyncio.shield``. A caller that is cancelled (its branch timed out, its request went away) only
stops waiting: the fetch goes on for the others, and is cancelled only when nobody waits any more.
Used by the Redis cache (across requests) and the run memo (across a run's branches).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

Fetch = Callable[[], Awaitable[Any]]


@dataclass
class _Flight:
    task: asyncio.Task[Any]
    waiters: int = 0
    kept: bool = False  # started without a waiter (a prefetch): not cancelled when its waiters leave


class SharedFetches:
    """Fetches in flight by key; ``join`` waits for the key's fetch, starting it when none runs."""

    def __init__(self) -> None:
        self._flights: dict[str, _Flight] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._flights

    def __len__(self) -> int:
        return len(self._flights)

    def start(self, key: str, fetch: Fetch, keep: bool = False) -> asyncio.Task[Any]:
        """The key's fetch task, started now if none is in flight (``keep``: it outlives its waiters)."""
        flight = self._flights.get(key)
        if flight is None or flight.task.done():  # landed (or cancelled) but not yet removed: start anew
            task = asyncio.ensure_future(fetch())
            flight = self._flights[key] = _Flight(task, kept=keep)
            task.add_done_callback(lambda done: self._landed(key, done))
        return flight.task

    def _landed(self, key: str, task: asyncio.Task[Any]) -> None:
        flight = self._flights.get(key)
        if flight is not None and flight.task is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved: a failure nobody waited for is nobody's error

    async def join(self, key: str, fetch: Fetch) -> Any:
        """The result of the key's fetch (shared with concurrent callers). Cancelling this caller
        never cancels the fetch while another caller still waits for it; a fetch cancelled from
        elsewhere (the run that started it ended) is sent again with this caller's own ``fetch``."""
        for _ in range(3):
            self.start(key, fetch)
            flight = self._flights[key]
            flight.waiters += 1
            try:
                return await asyncio.shield(flight.task)
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if (me is not None and me.cancelling()) or not flight.task.cancelled():
                    raise  # this caller was cancelled: its own business
            finally:
                flight.waiters -= 1
                if flight.waiters == 0 and not flight.kept and not flight.task.done():
                    flight.task.cancel()  # the last waiter left: nobody needs it
        raise RuntimeError(f"the shared read {key} was cancelled three times by its starters")

    def forget(self, keep: Callable[[str], bool]) -> None:
        """Stop sharing the fetches whose key ``keep`` refuses: they run on for their waiters, and a
        caller from now on starts a fetch of its own (what they read may be out of date)."""
        for key in [k for k in self._flights if not keep(k)]:
            del self._flights[key]

    def cancel_all(self) -> None:
        for flight in list(self._flights.values()):
            flight.task.cancel()
