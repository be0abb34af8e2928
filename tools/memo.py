"""A run-scoped memo of scheduler reads: within one run (a chat turn, one investigate call) each
distinct read is sent at most once — concurrent branches asking the same thing share one request.
It sits under the Redis cache (which spans runs) and over the client's retries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

# the client's read methods whose result depends only on their arguments within a run
MEMOIZED = frozenset(
    {
        "find_jobs",
        "get_job",
        "job_predecessors",
        "job_successors",
        "job_log",
        "jobs_with_failed_runs",
        "failed_jobs",
        "query_workstations",
        "get_workstation",
        "engine_info",
        "count_jobs",
    }
)


class RunMemo:
    """Futures of the reads made in one run, by method and arguments."""

    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future[Any]] = {}
        self.hits = 0
        self.misses = 0

    async def call(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> Any:
        future = self._futures.get(key)
        if future is not None:
            self.hits += 1
            return await asyncio.shield(future)
        self.misses += 1
        future = asyncio.get_running_loop().create_future()
        self._futures[key] = future
        try:
            result = await fetch()
        except Exception as exc:
            self._futures.pop(key, None)  # a failure is shared by those waiting, not remembered
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        except BaseException:  # cancelled: those waiting ask again themselves
            self._futures.pop(key, None)
            future.cancel()
            raise
        future.set_result(result)
        return result


class MemoClient:
    """The (read-only) client as one run sees it: memoized reads, everything else passed through."""

    def __init__(self, client: Any, memo: RunMemo) -> None:
        self._client = client
        self._memo = memo

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in MEMOIZED:
            return attribute

        async def memoized(*args: Any, **kwargs: Any) -> Any:
            key = f"{name}:{args!r}:{sorted(kwargs.items())!r}"
            return await self._memo.call(key, lambda: attribute(*args, **kwargs))

        return memoized
