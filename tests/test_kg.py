"""Knowledge graph on the embedded PostgreSQL: migrations, sync from the simulator, closures on a known DAG."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.live import LiveServer
from tools.hwa import HWAClient, HWAClientConfig, JobAction
from tools.store.db import open_pool
from tools.store.kg import KnowledgeGraph
from tools.store.kg_sync import KnowledgeGraphSync
from tools.store.migrate import available, current_version, upgrade
from tools.store.snapshot import PlanSnapshot

T0 = datetime(2026, 3, 12, 6, 0, tzinfo=UTC)


def job(
    jid: str, stream: str, status: str = "HOLD", critical: bool = False, deadline: datetime | None = None
) -> tuple[Any, ...]:
    return (jid, jid.upper(), "/AGT1", stream, stream.upper(), T0, status, None, critical, deadline, True)


def known_dag() -> PlanSnapshot:
    """
    stream s1: a -> b -> c        stream s2 (waits for s1): d -> e      stream s3: f (needs file, follows c)
               a -> x (critical, deadline)
    """
    snap = PlanSnapshot()
    snap.workstations = [("w1", "AGT1", "AGENT", "LINUX", True, True)]
    snap.streams = [(s, s.upper(), "/AGT1", T0, "EXEC", None, True) for s in ("s1", "s2", "s3")]
    snap.jobs = [
        job("a", "s1", "ABEND"),
        job("b", "s1"),
        job("c", "s1"),
        job("x", "s1", critical=True, deadline=T0 + timedelta(hours=2)),
        job("d", "s2"),
        job("e", "s2"),
        job("f", "s3"),
    ]
    snap.edges = {
        ("job", "a", "job", "b", "INTERNAL"),
        ("job", "b", "job", "c", "INTERNAL"),
        ("job", "a", "job", "x", "INTERNAL"),
        ("job", "d", "job", "e", "INTERNAL"),
        ("job", "c", "job", "f", "EXTERNAL_JOB"),
        ("stream", "s1", "stream", "s2", "EXTERNAL_JOBSTREAM"),
        ("file", "/data/in/f.trg", "job", "f", "FILE"),
    }
    return snap


async def test_migrations_are_versioned_and_idempotent(pg_url: str) -> None:
    pool = await open_pool(pg_url)
    try:
        assert await current_version(pool) == 0
        applied = await upgrade(pool)
        assert [m.version for m in applied] == [m.version for m in available()] and applied
        assert await upgrade(pool) == []
        assert await current_version(pool) == available()[-1].version
    finally:
        await pool.close()


async def test_concurrent_upgrades_apply_each_migration_once(pg_url: str) -> None:
    import asyncio

    pools = [await open_pool(pg_url) for _ in range(3)]
    try:
        results = await asyncio.gather(*(upgrade(p) for p in pools))
        assert sorted(len(r) for r in results) == [0, 0, len(available())]
    finally:
        for p in pools:
            await p.close()


async def test_migrations_run_on_postgres_15_without_pgvector(pg15_url: str) -> None:
    pool = await open_pool(pg15_url)
    try:
        assert await upgrade(pool)
    finally:
        await pool.close()


async def test_closures_on_a_known_dag(pool: Any) -> None:
    kg = KnowledgeGraph(pool)
    await kg.apply(known_dag(), full=True)
    down = await kg.downstream("a", depth=10)
    assert {n.id for n in down if n.kind == "job"} == {"b", "c", "x", "f", "d", "e"}
    assert {(n.id, n.depth) for n in down if n.id in {"b", "x", "c"}} == {("b", 1), ("x", 1), ("c", 2)}
    assert {n.id for n in await kg.downstream("a", depth=1)} == {"b", "x", "s1"}
    assert {n.id for n in await kg.upstream("f", depth=10) if n.kind == "job"} == {"c", "b", "a"}
    assert {n.id for n in await kg.upstream("d", depth=2) if n.kind == "job"} == {"a", "b", "c", "x"}
    assert await kg.path("a", "f") == ["a", "b", "c", "f"]
    assert await kg.path("f", "a") is None
    impact = await kg.impact("a")
    assert {n.id for n in impact.critical_jobs} == {"x"} and impact.with_deadline[0].id == "x"
    assert set(impact.blocked_streams) == {"S1", "S2", "S3"}
    context = await kg.kg_context("c")
    assert context.splitlines()[0] == "JOB AGT1#S1.C status HOLD"
    assert "waits for: B[HOLD], A[ABEND]" in context and "blocks: 3 job(s)" in context
    assert "needs: file /data/in/f.trg" in await kg.kg_context("f")
    assert (await kg.find_job("c"))["id"] == "c"  # type: ignore[index]
    with pytest.raises(ValueError):
        await kg.downstream("a", depth=0)


async def test_apply_twice_changes_nothing(pool: Any) -> None:
    kg = KnowledgeGraph(pool)
    first = await kg.apply(known_dag(), full=True)
    assert first["jobs"].inserted == 7 and first["edges"].inserted == 7
    second = await kg.apply(known_dag(), full=True)
    assert sum(c.changed for c in second.values()) == 0
    smaller = known_dag()
    smaller.jobs = [j for j in smaller.jobs if j[0] != "x"]
    smaller.edges = {e for e in smaller.edges if e[3] != "x"}
    third = await kg.apply(smaller, full=True)
    assert third["jobs"].deleted == 1 and third["edges"].deleted == 1


async def test_sync_from_the_simulator(fresh_sim: LiveServer, pool: Any) -> None:
    kg = KnowledgeGraph(pool)
    async with HWAClient(HWAClientConfig(fresh_sim.url, "viewer", "viewer")) as client:
        sync = KnowledgeGraphSync(client, kg)
        report = await sync.sync(full=True)
        counts = await kg.counts()
        assert counts["jobs"] == 300 and counts["job_streams"] == 45 and counts["workstations"] == 6
        assert counts["runs"] > 300
        listed = [j async for j in client.iter_jobs()]
        with_deps = sum(j.has_dependencies for j in listed)
        assert 0 < with_deps < 300 and with_deps <= report.details_fetched < with_deps + 45
        again = await sync.sync(full=True)
        assert again.changed == 0, again.as_dict()
        incremental = await sync.sync(full=False)
        assert incremental.changed == 0 and incremental.details_fetched == 0
        # the graph mirrors the engine's own successors
        payroll = (await client.find_jobs("PAYROLL_NIGHTLY"))[0]
        engine = {j.id for j in await client.job_successors(payroll.id)}
        assert engine == {n.id for n in await kg.downstream(payroll.id, depth=1) if n.kind == "job"}
        assert (await kg.find_job("payroll_nightly"))["id"] == payroll.id  # type: ignore[index]
        with httpx.Client(base_url=fresh_sim.url) as admin:
            admin.post("/admin/clock/step", json={"seconds": 4 * 3600})
        moved = await sync.sync(full=False)
        assert moved.counts["jobs"].updated > 0 and moved.counts["edges"].changed == 0
        assert 0 < moved.listed < 300  # only what can have changed: not stable, or a run since the last sync
    # an operator confirms a job that failed hours ago: its status changes, but no run starts or ends
    failed = next(j for j in listed if j.status == "ABEND")
    async with HWAClient(HWAClientConfig(fresh_sim.url, "admin", "admin")) as writer:
        await writer.job_action(failed.id, JobAction.CONFIRM_SUCC)
        settled = await writer.get_job(failed.id)
        async with HWAClient(HWAClientConfig(fresh_sim.url, "viewer", "viewer")) as client:
            sync.client = client
            after = await sync.sync(full=False)
    assert after.details_fetched == 0
    stored = await kg.find_job(failed.name, failed.workstation)
    assert stored is not None and stored["status"] == settled.status == "SUCC"
