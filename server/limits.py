"""Requests per minute per key, shared by every worker through Redis (a fixed one-minute window:
one INCR+EXPIRE round trip per request); a token bucket in this process while Redis is down.
HTTP requests and WebSocket messages count alike; ``RATE_LIMIT_PER_MINUTE=0`` turns it off."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from redis.exceptions import RedisError

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
        now = time.time()
        window = int(now // 60)
        key = f"resync:rate:{identity}:{window}"
        async with self.redis.pipeline(transaction=False) as pipe:  # type: ignore[union-attr]
            pipe.incr(key)
            pipe.expire(key, 61)
            count, _ = await pipe.execute()
        if int(count) > self.per_minute:
            raise RateLimited(self.per_minute, max(1, math.ceil((window + 1) * 60 - now)))

    def _local(self, identity: str) -> None:
        now = time.monotonic()
        rate = float(self.per_minute)
        tokens, last = self._buckets.get(identity, (rate, now))
        tokens = min(rate, tokens + (now - last) * rate / 60)
        if tokens < 1:
            raise RateLimited(self.per_minute, max(1, math.ceil((1 - tokens) * 60 / rate)))
        self._buckets[identity] = (tokens - 1, now)
