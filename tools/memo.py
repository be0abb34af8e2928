"""A run-scoped memo of scheduler reads: within one run (a chat turn, one investigate call) each
distinct read is sent at most once — concurrent branches asking the same thing share one request.
It sits under the Redis cache (which spans runs) and over the client's retries."""

from __future__ import annotations

import asyncio
import inspect
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
        self._started: set[asyncio.Task[Any]] = set()
        self.hits = 0
        self.misses = 0

    def start(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> None:
        """Send a read now, without waiting for it: a later ``call`` with the same key shares it. For
        speculative reads (a guess of what the run will ask); a failed guess costs one request, nothing else."""
        if key in self._futures:
            return
        task = asyncio.ensure_future(self.call(key, fetch))
        self._started.add(task)
        task.add_done_callback(self._settled)

    def cancel(self) -> None:
        """The run is over (or cut off): reads it started and nobody waited for stop here."""
        for task in list(self._started):
            task.cancel()

    def _settled(self, task: asyncio.Task[Any]) -> None:
        self._started.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a wrong guess (404, stale id) is nobody's error

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
            return await self._memo.call(_key(attribute, name, args, kwargs), lambda: attribute(*args, **kwargs))

        return memoized

    def prefetch(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Start the read ``name(*args, **kwargs)`` in the background; the run's later identical read joins it."""
        if name not in MEMOIZED:
            raise ValueError(f"{name} is not a memoized read")
        attribute = getattr(self._client, name)
        self._memo.start(_key(attribute, name, args, kwargs), lambda: attribute(*args, **kwargs))


def _key(method: Callable[..., Any], name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """One key per distinct read, however it is spelled: ``find_jobs("X")`` and
    ``find_jobs("X", workstation=None)`` are the same request."""
    bound = inspect.signature(method).bind(*args, **kwargs)
    bound.apply_defaults()
    return f"{name}:{sorted(bound.arguments.items())!r}"
