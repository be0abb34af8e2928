"""The Redis cache against real redis-server processes of the tests' own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis as sync_redis

from tests.redis_server import RedisServer
from tools.cache import CacheManager, CacheTTLs, job_key, static_key


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def cache(redis_server: RedisServer) -> AsyncIterator[CacheManager]:
    manager = CacheManager(
        redis_server.url, CacheTTLs(job_status=10, logs=30, dependencies=300, static=3600), retry_seconds=0.3
    )
    yield manager
    await manager.aclose()


class Source:
    """An upstream that counts its calls."""

    def __init__(self, value: Any, delay: float = 0.0, fail: bool = False) -> None:
        self.value, self.delay, self.fail, self.calls = value, delay, fail, 0

    async def __call__(self) -> Any:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("upstream down")
        return self.value


def test_keys_are_namespaced_and_safe() -> None:
    assert job_key("PAYROLL_NIGHTLY", "status") == "tws:job:PAYROLL_NIGHTLY:status"
    assert job_key("A*B:C?", "logs", 100) == "tws:job:A_B_C_:logs:100"
    assert static_key("workstations") == "tws:static:workstations"


async def test_hit_miss_ttl_and_stats(cache: CacheManager, redis_server: RedisServer) -> None:
    source = Source({"status": "ABEND"})
    key = job_key("PAYROLL_NIGHTLY", "status")
    assert await cache.get_or_fetch(key, "job_status", source) == {"status": "ABEND"}
    assert await cache.get_or_fetch(key, "job_status", source) == {"status": "ABEND"}
    assert source.calls == 1
    ttls = {kind: sync_redis.Redis.from_url(redis_server.url).pttl(k) for kind, k in [("job_status", key)]}
    assert 9000 < ttls["job_status"] <= 10000
    for kind, expected in [("logs", 30_000), ("dependencies", 300_000), ("static", 3_600_000)]:
        await cache.set(f"tws:test:{kind}", kind, 1)  # type: ignore[arg-type]
        assert expected - 1000 < sync_redis.Redis.from_url(redis_server.url).pttl(f"tws:test:{kind}") <= expected
    stats = await cache.stats()
    assert stats | {"last_warmup": None} == {
        "hit_rate": 0.5,
        "total_gets": 2,
        "hits": 1,
        "misses": 1,
        "last_warmup": None,
        "available": True,
        "scope": "shared (redis)",
    }


async def test_expiry(redis_server: RedisServer) -> None:
    cache = CacheManager(redis_server.url, CacheTTLs(job_status=0.2))
    source = Source(1)
    await cache.get_or_fetch("tws:job:X:status", "job_status", source)
    await asyncio.sleep(0.3)
    await cache.get_or_fetch("tws:job:X:status", "job_status", source)
    assert source.calls == 2
    await cache.aclose()


async def test_a_hit_near_its_expiry_is_answered_at_once_and_refreshed_behind(redis_server: RedisServer) -> None:
    cache = CacheManager(redis_server.url, CacheTTLs(job_status=10.0))  # refreshed ahead under 3 s left
    key, source, direct = "tws:job:R:status", Source("second", delay=0.3), sync_redis.Redis.from_url(redis_server.url)
    direct.set(key, '"first"', px=8000)
    assert await cache.get_or_fetch(key, "job_status", source) == "first"  # 8 s left: no refresh
    await asyncio.sleep(0.05)
    assert source.calls == 0
    direct.set(key, '"first"', px=2000)  # 2 s left: under 30 % of the TTL
    started = asyncio.get_running_loop().time()
    assert await cache.get_or_fetch(key, "job_status", source) == "first"
    assert asyncio.get_running_loop().time() - started < 0.25  # answered at once, not after the slow source
    assert await cache.get_or_fetch(key, "job_status", source) == "first"
    await asyncio.sleep(0.05)
    assert source.calls == 1  # one refresh behind the two hits, not one each
    await asyncio.sleep(0.5)
    assert await cache.get_or_fetch(key, "job_status", source) == "second"  # landed, with a TTL of its own
    assert direct.pttl(key) > 9000 and source.calls == 1
    await cache.aclose()


async def test_a_read_in_flight_when_a_write_invalidates_is_not_kept(redis_server: RedisServer) -> None:
    cache = CacheManager(redis_server.url, CacheTTLs(job_status=10.0))
    key, before = "tws:job:W:status", Source("before the write", delay=0.3)
    reading = asyncio.create_task(cache.get_or_fetch(key, "job_status", before))
    await asyncio.sleep(0.1)  # the read is under way at the engine when the write lands
    await cache.invalidate_job_cache("W")
    after = Source("after the write")
    assert await cache.get_or_fetch(key, "job_status", after) == "after the write"  # not the read in flight
    assert await reading == "before the write"  # its own caller gets what it read
    assert await cache.get_or_fetch(key, "job_status", after) == "after the write"  # and it was not stored
    assert before.calls == 1 and after.calls == 1
    await cache.aclose()


async def test_single_flight(cache: CacheManager) -> None:
    source = Source([1, 2, 3], delay=0.2)
    results = await asyncio.gather(
        *(cache.get_or_fetch("tws:job:BURST:status", "job_status", source) for _ in range(25))
    )
    assert source.calls == 1 and all(r == [1, 2, 3] for r in results)
    failing = Source(None, delay=0.1, fail=True)
    outcomes = await asyncio.gather(
        *(cache.get_or_fetch("tws:job:BAD:status", "job_status", failing) for _ in range(5)), return_exceptions=True
    )
    assert failing.calls == 1 and all(isinstance(o, RuntimeError) for o in outcomes)


async def test_invalidation(cache: CacheManager, redis_server: RedisServer) -> None:
    for name in ("A", "B"):
        for what in ("status", "logs"):
            await cache.set(job_key(name, what), "logs", 1)
    await cache.set(static_key("engine"), "static", 1)
    assert await cache.invalidate_job_cache("A") == 2
    remaining = sorted(k.decode() for k in sync_redis.Redis.from_url(redis_server.url).scan_iter("tws:*"))
    assert remaining == ["tws:job:B:logs", "tws:job:B:status", "tws:static:engine"]
    assert await cache.invalidate_pattern("tws:job:*") == 2
    for i in range(1200):  # more than one SCAN batch
        await cache.set(f"tws:job:J{i}:status", "job_status", i)
    assert await cache.invalidate_pattern("tws:job:*") == 1200


async def test_stats_are_shared_between_processes(cache: CacheManager, redis_server: RedisServer) -> None:
    other = CacheManager(redis_server.url)
    await cache.get_or_fetch("tws:job:S:status", "job_status", Source(1))
    await other.get_or_fetch("tws:job:S:status", "job_status", Source(1))
    await cache.stats()  # each process sends its counts at most once a second, and when asked
    assert (await other.stats())["total_gets"] == 2 == (await cache.stats())["total_gets"]
    await other.aclose()


async def test_warmers_never_block(cache: CacheManager) -> None:
    cache.register_warmer(static_key("engine"), Source({"version": "10.1"}))
    cache.register_warmer(static_key("broken"), Source(None, fail=True))
    report = await cache.warm_cache()
    assert report[static_key("engine")] == "ok" and report[static_key("broken")].startswith("failed")
    assert (await cache.stats())["last_warmup"]
    source = Source({"version": "other"})
    assert await cache.get_or_fetch(static_key("engine"), "static", source) == {"version": "10.1"}
    assert source.calls == 0


async def test_redis_down_then_back(cache: CacheManager, redis_server: RedisServer) -> None:
    source = Source({"status": "EXEC"})
    key = job_key("J", "status")
    await cache.get_or_fetch(key, "job_status", source)
    redis_server.stop()  # only our own server
    assert await cache.get_or_fetch(key, "job_status", source) == {"status": "EXEC"}
    assert await cache.get_or_fetch(key, "job_status", source) == {"status": "EXEC"}
    assert source.calls == 3  # straight to the source, no error
    assert (await cache.health())["status"] == "degraded"
    assert (await cache.stats())["available"] is False
    assert await cache.invalidate_job_cache("J") == 0
    redis_server.start()
    await asyncio.sleep(0.35)  # retry window
    await cache.get_or_fetch(key, "job_status", source)
    await cache.get_or_fetch(key, "job_status", source)
    assert source.calls == 4  # cached again
    assert (await cache.health())["status"] == "ok"


def test_a_redis_password_is_never_shown() -> None:
    from tools.cache import CacheManager, masked_url

    assert masked_url("redis://:s3cret@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0"
    assert masked_url("rediss://ops:s3cret@cache:6380/1") == "rediss://ops:***@cache:6380/1"
    assert masked_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert "s3cret" not in str(CacheManager("redis://:s3cret@127.0.0.1:1/0").describe())


async def test_a_cancelled_caller_leaves_the_shared_fetch_to_the_others(cache: CacheManager) -> None:
    """One request's timeout is never another's failure: the first caller is cancelled while a
    second waits for the same miss; the second still gets the value, from the one fetch."""
    source = Source({"status": "EXEC"}, delay=0.3)
    key = job_key("ETL_SALES_TRANSFORM", "status")
    first = asyncio.create_task(cache.get_or_fetch(key, "job_status", source))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(cache.get_or_fetch(key, "job_status", source))
    await asyncio.sleep(0.05)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await second == {"status": "EXEC"}
    assert source.calls == 1


async def test_the_fetch_stops_when_its_last_waiter_leaves(cache: CacheManager) -> None:
    source = Source({"status": "EXEC"}, delay=5)
    key = job_key("HANGS", "status")
    waiter = asyncio.create_task(cache.get_or_fetch(key, "job_status", source))
    await asyncio.sleep(0.05)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.sleep(0)
    assert key not in cache._inflight  # nothing left running for nobody
