"""``kg_closure`` (the breadth-first walk of migration 0009) against the recursive query over the
``kg_flow`` view it replaced, on random plans: the same nodes at the same (shortest) depth, both
directions, every depth."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from tools.store.kg import KnowledgeGraph
from tools.store.snapshot import PlanSnapshot

T0 = datetime(2026, 3, 12, tzinfo=UTC)
REFERENCE = {
    "down": ("f.pred_kind = w.kind AND f.pred_id = w.id", "f.succ_kind", "f.succ_id"),
    "up": ("f.succ_kind = w.kind AND f.succ_id = w.id", "f.pred_kind", "f.pred_id"),
}


def random_plan(seed: int, jobs: int = 60) -> PlanSnapshot:
    rng = random.Random(seed)
    snap = PlanSnapshot()
    snap.workstations = [("w1", "AGT1", "AGENT", "LINUX", True, True)]
    streams = [f"s{i}" for i in range(jobs // 6)]
    snap.streams = [(s, s.upper(), "/AGT1", T0, "EXEC", None, True) for s in streams]
    snap.jobs = [
        (f"j{i}", f"J{i}", "/AGT1", streams[i // 6], streams[i // 6].upper(), T0, "HOLD", None, False, None, True)
        for i in range(jobs)
    ]
    while len(snap.edges) < jobs * 2:
        a, b = rng.randrange(jobs), rng.randrange(jobs)
        if a != b:  # cycles allowed: both must stop
            snap.edges.add(("job", f"j{a}", "job", f"j{b}", "INTERNAL"))
    for _ in range(len(streams)):
        a, b = rng.sample(streams, 2)
        snap.edges.add(("stream", a, "stream", b, "EXTERNAL_JOBSTREAM"))
    return snap


async def reference(pool: Any, job: str, direction: str, depth: int) -> dict[tuple[str, str], int]:
    match, next_kind, next_id = REFERENCE[direction]
    sql = f"""
        WITH RECURSIVE walk(kind, id, depth) AS (
            SELECT 'job'::text, %(job)s::text, 0
            UNION
            SELECT {next_kind}, {next_id}, w.depth + 1 FROM walk w JOIN kg_flow f ON {match} WHERE w.depth < %(depth)s
        )
        SELECT kind, id, min(depth) AS depth FROM walk WHERE depth > 0 GROUP BY kind, id
    """
    async with pool.connection() as conn:
        cur = await conn.execute(sql, {"job": job, "depth": depth})
        rows = await cur.fetchall()
    return {(r["kind"], r["id"]): r["depth"] for r in rows if not (r["kind"] == "job" and r["id"] == job)}


async def test_the_walk_matches_the_recursive_query(pool: Any) -> None:
    kg = KnowledgeGraph(pool)
    rng = random.Random(3)
    for seed in range(6):
        await kg.apply(random_plan(seed), full=True)
        for job in rng.sample(range(60), 5):
            for direction in ("down", "up"):
                for depth in (1, 3, 10):
                    got = {(n.kind, n.id): n.depth for n in await kg.closure(f"j{job}", direction, depth)}  # type: ignore[arg-type]
                    assert got == await reference(pool, f"j{job}", direction, depth), (seed, job, direction, depth)
