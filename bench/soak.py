"""1,000 chat turns through the server's own run path (offline model, simulator, embedded PostgreSQL,
Redis): the process's memory along the way (RSS, after a warm-up) and the database growth per 1,000
turns, table by table — what ``RETENTION_*`` and the pruning have to keep in check.

Run: ``.venv/bin/python -m bench.soak [--turns 1000] [--per-thread 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from pathlib import Path

from evals.bench import bench
from server.auth import Principal
from server.chat import ChatRequest, claim_thread, run_to_end
from tools.roles import Role

QUESTIONS = [
    "why did PAYROLL_NIGHTLY fail?",
    "qual o status do BILLING_INVOICE_GEN?",
    "what does it depend on?",
    "which jobs failed in the last 24 hours?",
    "mostra o log do PAYROLL_NIGHTLY",
    "como está o ambiente?",
]
TABLES = [
    "checkpoints",
    "checkpoint_blobs",
    "checkpoint_writes",
    "tool_executions",
    "answer_runs",
    "chat_threads",
]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def sizes(pool: object) -> dict[str, tuple[int, int]]:
    """(rows, bytes with indexes and TOAST) per table."""
    out = {}
    async with pool.connection() as conn:  # type: ignore[attr-defined]
        for table in TABLES:
            cur = await conn.execute(f"SELECT count(*) AS n, pg_total_relation_size('{table}') AS bytes FROM {table}")
            row = await cur.fetchone()
            out[table] = (int(row["n"]), int(row["bytes"]))
    return out


async def main(turns: int, per_thread: int) -> None:
    async with bench() as opened:
        app = opened.app
        principal = Principal("soak", Role.VIEWER)
        thread: str | None = None

        async def turn(index: int) -> None:
            nonlocal thread
            if index % per_thread == 0:
                thread = None
            request = ChatRequest(message=QUESTIONS[index % len(QUESTIONS)], thread_id=thread)
            thread = await claim_thread(app, request, principal)
            await run_to_end(app, principal, request)

        for index in range(100):  # warm-up: code paths, caches, pools
            await turn(index)
        await app.parts.catalog.aclose()
        gc.collect()
        before, start_rss = await sizes(app.store.pool), rss_mib()
        print(f"{turns} turns, {per_thread} per thread; RSS after 100 warm-up turns {start_rss:.1f} MiB")
        started = time.perf_counter()
        samples = []
        for index in range(turns):
            await turn(index)
            if (index + 1) % (turns // 10) == 0:
                gc.collect()
                samples.append(rss_mib())
        elapsed = time.perf_counter() - started
        await app.parts.catalog.aclose()  # the audit rows still queued
        after = await sizes(app.store.pool)
        print("RSS every 10%: " + ", ".join(f"{s:.1f}" for s in samples) + " MiB")
        growth, second_half = samples[-1] - start_rss, samples[-1] - samples[len(samples) // 2]
        print(
            f"memory: {growth:+.1f} MiB over {turns} turns; second half {second_half:+.1f} MiB"
            f" ({elapsed / turns * 1000:.1f} ms a turn)"
        )
        scale = 1000 / turns
        print("\ntable               rows / 1,000 turns   bytes / 1,000 turns")
        total = 0
        for table in TABLES:
            rows = (after[table][0] - before[table][0]) * scale
            grown = (after[table][1] - before[table][1]) * scale
            total += grown
            print(f"{table:<20} {rows:>12.0f}   {grown / 1024:>14.0f} KiB")
        print(f"{'all':<20} {'':>12}   {total / 1024:>14.0f} KiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=1000)
    parser.add_argument("--per-thread", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.per_thread))
