"""How one run sees the client: a view of it (the same connections, retries and breaker) that refuses
writes and sends each distinct read once per run (``ReadMemo``, e.g. ``tools.memo.RunMemo``).
The decorator ``memoized`` marks the reads whose result depends only on their arguments."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S", bound="Viewable")
MEMOIZED: dict[str, Callable[..., Awaitable[Any]]] = {}  # read name → the undecorated method


class WriteNotApproved(RuntimeError):
    """A write was attempted through a read-only view (a tool, not the approval executor): refused."""


class ReadMemo(Protocol):
    async def call(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> Any: ...

    def start(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> None: ...


class Viewable(Protocol):
    memo: ReadMemo | None


def read_key(name: str, method: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """One key per distinct read, however it is spelled: ``find_jobs("X")`` and
    ``find_jobs("X", workstation=None)`` are the same request."""
    bound = inspect.signature(method).bind(None, *args, **kwargs)
    bound.apply_defaults()
    arguments = list(bound.arguments.items())[1:]  # without self
    return f"{name}:{sorted(arguments)!r}"


def memoized(method: Callable[Concatenate[S, P], Awaitable[R]]) -> Callable[Concatenate[S, P], Awaitable[R]]:
    """A read sent once per run when the client is a view with a memo; as is otherwise."""
    name = method.__name__
    MEMOIZED[name] = method

    @functools.wraps(method)
    async def read(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.memo is None:
            return await method(self, *args, **kwargs)
        key = read_key(name, method, args, kwargs)
        return cast(R, await self.memo.call(key, lambda: method(self, *args, **kwargs)))

    return read


def prefetch(client: Viewable, name: str, *args: Any, **kwargs: Any) -> None:
    """Start the read ``name(*args, **kwargs)`` in the background (a view with a memo only); the run's
    later identical read joins it."""
    method = MEMOIZED.get(name)
    if method is None:
        raise ValueError(f"{name} is not a memoized read")
    if client.memo is not None:
        client.memo.start(read_key(name, method, args, kwargs), lambda: method(client, *args, **kwargs))
