"""A run-scoped memo of scheduler reads: within one run (a chat turn, one investigate call) each
distinct read is sent at most once — concurrent branches asking the same thing share one request.
It sits under the Redis cache (which spans runs) and over the client's retries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .shared import SharedFetches


class RunMemo:
    """The reads made in one run, by method and arguments: results kept for the run, reads in flight
    shared (one branch's timeout never fails another branch waiting for the same read)."""

    def __init__(self) -> None:
        self._results: dict[str, Any] = {}
        self._flights = SharedFetches()
        self.hits = 0
        self.misses = 0

    def start(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> None:
        """Send a read now, without waiting for it: a later ``call`` with the same key shares it. For
        speculative reads (a guess of what the run will ask); a failed guess costs one request, nothing else."""
        if key in self._results or key in self._flights:
            return
        self._flights.start(key, lambda: self._fill(key, fetch), keep=True)

    def cancel(self) -> None:
        """The run is over (or cut off): reads still in flight stop here."""
        self._flights.cancel_all()

    async def _fill(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> Any:
        result = await fetch()
        self._results[key] = result  # a failure is shared by those waiting, not remembered
        return result

    async def call(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> Any:
        if key in self._results:
            self.hits += 1
            return self._results[key]
        if key in self._flights:
            self.hits += 1
        else:
            self.misses += 1
        return await self._flights.join(key, lambda: self._fill(key, fetch))
