"""Requests per minute per key, shared by every worker through Redis (GCRA — the same bursts and
refill as a token bucket, no window edges — in one Lua call per request); a token bucket in this
process while Redis is down. HTTP requests and WebSocket messages count alike;
``RATE_LIMIT_PER_MINUTE=0`` turns it off."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from redis.exceptions import RedisError

# KEYS[1]: the caller's key; ARGV: now (s), emission interval (s), burst. Returns 0 or seconds to wait.
GCRA = """
local now, interval, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or ARGV[1])
if tat < now then tat = now end
local allowed_at = tat + interval - burst * interval
if now < allowed_at then return tostring(allowed_at - now) end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil((tat + interval - now) * 1000) + 1000)
return '0'
"""


log = logging.getLogger("resync.limits")


class RateLimited(Exception):
    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(f"rate limit: {limit} requests a minute per key; retry in {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, per_minute: int, redis_client: Any | None = None, retry_seconds: float = 5.0) -> None:
        self.per_minute = per_minute
        self.redis = redis_client
        self.retry_seconds = retry_seconds
        self._redis_down_until = 0.0
        self._buckets: dict[str, tuple[float, float]] = {}  # identity -> (tokens, last refill)
        self._script = redis_client.register_script(GCRA) if redis_client is not None else None

    async def check(self, identity: str) -> None:
        """Count one request of ``identity``; RateLimited (with seconds to wait) when over the limit."""
        if self.per_minute <= 0:
            return
        if self.redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                await self._shared(identity)
                return
            except RedisError as exc:
                log.warning("rate limit falls back to this process: Redis unavailable (%s)", exc)
                self._redis_down_until = time.monotonic() + self.retry_seconds
        self._local(identity)

    async def _shared(self, identity: str) -> None:
        assert self._script is not None
        interval = 60.0 / self.per_minute
        wait = float(
            await self._script(keys=[f"resync:rate:{identity}"], args=[time.time(), interval, self.per_minute])
        )
        if wait > 0:
            raise RateLimited(self.per_minute, max(1, math.ceil(wait)))

    def _local(self, identity: str) -> None:
        now = time.monotonic()
        rate = float(self.per_minute)
        tokens, last = self._buckets.get(identity, (rate, now))
        tokens = min(rate, tokens + (now - last) * rate / 60)
        if tokens < 1:
            raise RateLimited(self.per_minute, max(1, math.ceil((1 - tokens) * 60 / rate)))
        self._buckets[identity] = (tokens - 1, now)
