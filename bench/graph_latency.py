"""Whole-graph latency with the offline model on the simulator, embedded PostgreSQL and Redis:
one question of each query type (pt and en), repeated; prints median and p95 per type.

Run: ``.venv/bin/python -m bench.graph_latency [--repeat 5]`` (needs redis-server on the machine).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from graph.context import Context
from graph.graph import build_graph
from hwasim import SimConfig, build_plan, create_app
from tests.graphing import services
from tests.live import LiveServer
from tests.redis_server import RedisServer
from tools.store.db import embedded_url, open_pool
from tools.store.migrate import upgrade

QUESTIONS = {
    "troubleshoot": "why did PAYROLL_NIGHTLY fail?",
    "status": "qual o status do BILLING_INVOICE_GEN?",
    "failed_jobs": "which jobs failed in the last 24 hours?",
    "logs": "mostra o log do PAYROLL_NIGHTLY",
    "dependencies": "what does PAYROLL_NIGHTLY depend on?",
    "health": "como está o ambiente?",
    "howto": "quando não devo reexecutar um job?",
    "other": "hello",
}


async def main(repeat: int) -> None:
    server = embedded_url(Path(tempfile.mkdtemp(prefix="resync-bench-")) / "pg")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench_graph")
    url = server.replace("/postgres?", "/bench_graph?")
    pool = await open_pool(url)
    await upgrade(pool)
    redis = RedisServer()
    redis.start()
    try:
        with LiveServer(create_app(SimConfig(clock="manual"), build_plan(42, 300))) as sim:
            async with services(sim.url, pool, url, redis.url) as svc:
                graph = build_graph().compile(checkpointer=InMemorySaver())
                note = f"(offline model, {repeat} runs; warm cache after the first)"
                print(f"{'query type':14s} {'median ms':>10s} {'p95 ms':>8s}   {note}")
                for query_type, text in QUESTIONS.items():
                    samples = []
                    for _ in range(repeat):
                        started = time.perf_counter()
                        await graph.ainvoke(
                            {"messages": [HumanMessage(text)]},
                            {"configurable": {"thread_id": uuid.uuid4().hex}},
                            context=Context(role="viewer", parts=svc),
                        )
                        samples.append((time.perf_counter() - started) * 1000)
                    p95 = sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]
                    print(f"{query_type:14s} {statistics.median(samples):10.1f} {p95:8.1f}")
    finally:
        redis.stop()
        await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeat))
