"""Redis cache of scheduler reads: namespaced keys, a TTL per kind, single-flight misses, warmers,
SCAN-based invalidation and hit statistics shared through Redis by every app process (each process
counts in memory and sends its counts at most once a second, and when asked: a hit costs one Redis
round trip, the read itself). Refresh ahead: a hit in the last ``REFRESH_AHEAD`` of its TTL is
answered at once and fetched again in the background (one fetch per key and process), so a key read often is
never missed — a slow source (a busy engine) is paid by nobody waiting, and nothing is served past
its TTL.

When Redis is down the cache steps aside: calls go straight to the source, ``health()`` says
``degraded``, nothing raises; after ``retry_seconds`` it tries Redis again and resumes by itself.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import redis.asyncio as redis
from redis.exceptions import RedisError

from .shared import SharedFetches

log = logging.getLogger(__name__)
Kind = Literal["job_status", "logs", "dependencies", "static"]
Fetch = Callable[[], Awaitable[Any]]
REFRESH_AHEAD = 0.3  # of a TTL: a hit with less left than this starts a background refresh
_SAFE = re.compile(r"[^A-Za-z0-9_.\-@#]")


@dataclass(frozen=True)
class CacheTTLs:
    """Seconds each kind of entry lives (settings ``CACHE_TTL_*``)."""

    job_status: float = 10
    logs: float = 30
    dependencies: float = 300
    static: float = 3600


def key_part(value: str) -> str:
    """A key segment that cannot inject separators or SCAN wildcards."""
    return _SAFE.sub("_", value)[:200] or "_"


def job_key(job_name: str, what: str, *extra: str | int) -> str:
    """``tws:job:<name>:<what>[:extra…]``, e.g. ``tws:job:PAYROLL_NIGHTLY:status``."""
    return ":".join(["tws", "job", key_part(job_name), what, *(key_part(str(e)) for e in extra)])


def static_key(what: str) -> str:
    return f"tws:static:{key_part(what)}"


@dataclass
class Warmer:
    key: str
    fetch: Fetch
    kind: Kind


@dataclass
class LocalStats:
    hits: int = 0
    misses: int = 0


@dataclass
class CacheManager:
    redis_url: str
    ttls: CacheTTLs = field(default_factory=CacheTTLs)
    retry_seconds: float = 5.0
    stats_key: str = "tws:cache:stats"

    def __post_init__(self) -> None:
        self._redis = redis.from_url(self.redis_url, socket_connect_timeout=0.5, socket_timeout=1.0)
        self._down_until = 0.0
        self._last_error: str | None = None
        self._inflight = SharedFetches()  # one fetch per missed key; a waiter's cancellation is its own
        self._warmers: dict[str, Warmer] = {}
        self._invalidations = 0  # bumped by every invalidation: a fetch begun before it is not stored
        self._local = LocalStats()
        self._unsent = LocalStats()  # counted here, not yet added to the shared statistics
        self._sent_at = 0.0
        self._sending: asyncio.Task[None] | None = None

    @property
    def redis(self) -> Any:
        """The Redis client (shared with the rate limit: one connection pool per process)."""
        return self._redis

    # ------------------------------------------------------------------ availability
    @property
    def available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _mark_down(self, exc: Exception) -> None:
        if self.available:
            log.warning("Redis unavailable (%s): serving without cache for %.0f s", exc, self.retry_seconds)
        self._down_until = time.monotonic() + self.retry_seconds
        self._last_error = str(exc)

    async def _call(self, op: Callable[[], Awaitable[Any]]) -> tuple[bool, Any]:
        """Run a Redis operation; (False, None) when Redis is down (and then skip it for a while)."""
        if not self.available:
            return False, None
        try:
            return True, await op()
        except (RedisError, OSError) as exc:
            self._mark_down(exc)
            return False, None

    # ------------------------------------------------------------------ reads
    async def get_or_fetch(self, key: str, kind: Kind, fetch: Fetch) -> Any:
        """The cached JSON value of ``key``, or ``fetch()``'s (stored for the kind's TTL).
        Concurrent misses of one key share a single ``fetch()``; a caller that is cancelled leaves
        it to the others (it stops only when nobody waits)."""
        ok, found = await self._call(lambda: self._read(key))
        if ok and found[0] is not None:
            raw, left_ms = found
            self._count("hits")
            if 0 <= left_ms < REFRESH_AHEAD * getattr(self.ttls, kind) * 1000:
                self._refresh(key, kind, fetch)
            return json.loads(raw)
        self._count("misses")
        return await self._inflight.join(key, lambda: self._fill(key, kind, fetch))

    async def _read(self, key: str) -> tuple[bytes | None, int]:
        """The value and its milliseconds to live, in one round trip."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.get(key)
            pipe.pttl(key)
            raw, left_ms = await pipe.execute()
        return raw, int(left_ms)

    def _refresh(self, key: str, kind: Kind, fetch: Fetch) -> None:
        """Fetch ``key`` again in the background (kept: it needs no waiter) unless a fetch of it flies."""
        if key not in self._inflight:
            self._inflight.start(key, lambda: self._fill(key, kind, fetch), keep=True).add_done_callback(_logged)

    async def _fill(self, key: str, kind: Kind, fetch: Fetch) -> Any:
        invalidated = self._invalidations
        value = await fetch()
        if self._invalidations == invalidated:  # else it may be from before a write: serve, do not keep
            await self.set(key, kind, value)
        return value

    async def set(self, key: str, kind: Kind, value: Any) -> None:
        payload = json.dumps(value, default=str)
        ttl_ms = int(getattr(self.ttls, kind) * 1000)
        await self._call(lambda: self._redis.set(key, payload, px=ttl_ms))

    def _count(self, what: Literal["hits", "misses"]) -> None:
        setattr(self._local, what, getattr(self._local, what) + 1)
        setattr(self._unsent, what, getattr(self._unsent, what) + 1)
        idle = self._sending is None or self._sending.done()
        if idle and time.monotonic() - self._sent_at >= 1.0:
            self._sent_at = time.monotonic()
            self._sending = asyncio.get_running_loop().create_task(self._send_counts())

    async def _send_counts(self) -> None:
        """Add this process's counts since the last send to the shared statistics (one round trip)."""
        unsent, self._unsent = self._unsent, LocalStats()
        if not unsent.hits and not unsent.misses:
            return

        async def send() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hincrby(self.stats_key, "hits", unsent.hits)
                pipe.hincrby(self.stats_key, "misses", unsent.misses)
                await pipe.execute()

        await self._call(send)

    # ------------------------------------------------------------------ invalidation
    async def invalidate_pattern(self, pattern: str) -> int:
        """Delete the keys matching a glob pattern, walking the keyspace with SCAN (never KEYS). Fetches
        in flight are not stored when they land, and later readers of those keys fetch afresh."""
        self._invalidations += 1
        self._inflight.forget(lambda key: not fnmatch.fnmatchcase(key, pattern))

        async def scan_and_unlink() -> int:
            removed, batch = 0, []
            async for key in self._redis.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    removed += await self._redis.unlink(*batch)
                    batch = []
            if batch:
                removed += await self._redis.unlink(*batch)
            return removed

        ok, removed = await self._call(scan_and_unlink)
        return int(removed) if ok else 0

    async def invalidate_job_cache(self, job_name: str) -> int:
        return await self.invalidate_pattern(f"tws:job:{key_part(job_name)}:*")

    # ------------------------------------------------------------------ warm-up
    def register_warmer(self, key: str, fetch: Fetch, kind: Kind = "static") -> None:
        self._warmers[key] = Warmer(key, fetch, kind)

    async def warm_cache(self) -> dict[str, str]:
        """Run every warmer; a failing one is logged and reported, never raised."""
        report: dict[str, str] = {}
        for warmer in self._warmers.values():
            try:
                await self.set(warmer.key, warmer.kind, await warmer.fetch())
                report[warmer.key] = "ok"
            except Exception as exc:  # a warmer must never block start-up
                log.warning("cache warmer %s failed: %s", warmer.key, exc)
                report[warmer.key] = f"failed: {exc}"
        stamp = datetime.now(UTC).isoformat()
        await self._call(lambda: self._redis.hset(self.stats_key, "last_warmup", stamp))
        return report

    # ------------------------------------------------------------------ stats and health
    async def stats(self) -> dict[str, Any]:
        if self._sending is not None:
            await asyncio.shield(self._sending)
        await self._send_counts()
        ok, raw = await self._call(lambda: self._redis.hgetall(self.stats_key))
        values = {k.decode(): v.decode() for k, v in (raw or {}).items()} if ok else {}
        hits = int(values.get("hits", 0)) if ok else self._local.hits
        misses = int(values.get("misses", 0)) if ok else self._local.misses
        total = hits + misses
        return {
            "hit_rate": round(hits / total, 4) if total else 0.0,
            "total_gets": total,
            "hits": hits,
            "misses": misses,
            "last_warmup": values.get("last_warmup"),
            "available": ok,
            "scope": "shared (redis)" if ok else "this process only (redis unavailable)",
        }

    async def health(self) -> dict[str, Any]:
        self._down_until = 0.0  # a health check always tries Redis now
        ok, _ = await self._call(lambda: self._redis.ping())
        return {"status": "ok" if ok else "degraded", "detail": masked_url(self.redis_url) if ok else self._last_error}

    async def aclose(self) -> None:
        self._inflight.cancel_all()  # background refreshes end with the cache
        if self._sending is not None:
            await asyncio.shield(self._sending)
        await self._send_counts()
        await self._redis.aclose()

    def describe(self) -> dict[str, Any]:
        return {"redis_url": masked_url(self.redis_url), "ttls": asdict(self.ttls), "warmers": sorted(self._warmers)}


def _logged(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:  # the entry stays until its TTL
        log.warning("cache refresh failed: %s", task.exception())


_manager: CacheManager | None = None


def masked_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***, for anything shown or logged."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def configure_cache_manager(redis_url: str, ttls: CacheTTLs | None = None) -> CacheManager:
    """Called once by the composition root (``server``) with the settings."""
    global _manager
    _manager = CacheManager(redis_url, ttls or CacheTTLs())
    return _manager


def get_cache_manager() -> CacheManager:
    """The process's cache manager (the local Redis with default TTLs until configured)."""
    global _manager
    if _manager is None:
        _manager = CacheManager("redis://127.0.0.1:6379/0")
    return _manager
