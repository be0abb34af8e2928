"""A chat turn's own cost: the product graph (offline model, zero-latency engine, Postgres saver)
against a bare 3-node graph with the same saver, plus the PostgreSQL statements and transactions
one turn makes. Prints the ratio measured in one run.

Run: ``.venv/bin/python -m bench.turn_cost [--turns 30] [--profile]`` (Redis on 127.0.0.1:6379).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypedDict

import psycopg
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph import StateGraph, add_messages

from evals.bench import bench
from graph.context import Context
from graph.models.offline import OfflineChatModel

QUESTIONS = ["why did PAYROLL_NIGHTLY fail?", "qual o status do BILLING_INVOICE_GEN?", "what does it depend on?"]


class Bare(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def bare_graph() -> StateGraph[Bare, Any, Bare, Bare]:
    """Three nodes in a row, each adding nothing but a step: the floor of a checkpointed run."""

    def understand(state: Bare) -> dict[str, Any]:
        return {}

    def gather(state: Bare) -> dict[str, Any]:
        return {}

    def draft(state: Bare) -> dict[str, Any]:
        return {"messages": [AIMessage("ok")]}

    builder = StateGraph(Bare)
    builder.add_node(understand)
    builder.add_node(gather)
    builder.add_node(draft)
    builder.add_edge("__start__", "understand")
    builder.add_edge("understand", "gather")
    builder.add_edge("gather", "draft")
    return builder


class StatementCounter:
    """Statements sent by this process's psycopg connections (measurement only: patches execute)."""

    def __init__(self) -> None:
        self.count = 0
        self.texts: Counter[str] = Counter()
        self._originals = (psycopg.AsyncCursor.execute, psycopg.AsyncCursor.executemany)

    def __enter__(self) -> StatementCounter:
        counter = self
        execute, executemany = self._originals

        async def counted(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            counter.count += 1
            counter.texts[" ".join(str(query)[:70].split())] += 1
            return await execute(cursor, query, *args, **kwargs)

        async def counted_many(cursor: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            counter.count += 1
            counter.texts["many: " + " ".join(str(query)[:64].split())] += 1
            return await executemany(cursor, query, *args, **kwargs)

        psycopg.AsyncCursor.execute = counted  # type: ignore[method-assign]
        psycopg.AsyncCursor.executemany = counted_many  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.AsyncCursor.execute, psycopg.AsyncCursor.executemany = self._originals  # type: ignore[method-assign]


async def transactions(url: str) -> int:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await asyncio.sleep(1.1)  # backends flush their statistics at most once a second
        cur = await conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
        row = await cur.fetchone()
        return int(row[0]) - 1 if row else 0  # this query's own transaction


async def timed(turns: int, run: Callable[[int], Awaitable[Any]]) -> list[float]:
    samples = []
    for index in range(turns):
        started = time.perf_counter()
        await run(index)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def main(turns: int, profile: bool, args_sort: str = "cumulative") -> None:
    async with bench() as opened:
        app = opened.app
        saver = app.graph.checkpointer
        durability = app.settings.checkpoint_durability
        bare = bare_graph().compile(checkpointer=saver)
        parts = app.parts.__class__(**{**app.parts.__dict__, "chat_model": OfflineChatModel()})
        thread = f"bench-{uuid.uuid4().hex[:8]}"

        async def bare_turn(index: int) -> None:
            config = {"configurable": {"thread_id": f"bare-{thread}-{index // 3}"}}
            await bare.ainvoke({"messages": [HumanMessage(QUESTIONS[index % 3])]}, config, durability=durability)

        async def product_turn(index: int) -> None:
            config = {"configurable": {"thread_id": f"turn-{thread}-{index // 3}"}}
            context = Context(role="viewer", caller="bench", parts=parts)
            await app.graph.ainvoke(
                {"messages": [HumanMessage(QUESTIONS[index % 3])]},
                config,
                context=context,
                durability=app.settings.checkpoint_durability,
            )

        await timed(3, bare_turn)
        await timed(3, product_turn)  # warm code paths and the cache of scheduler reads
        url = app.store.pool.conninfo
        floor = statistics.median(await timed(turns, bare_turn))
        before = await transactions(url) if url else 0
        with StatementCounter() as statements:
            profiler = cProfile.Profile() if profile else None
            if profiler:
                profiler.enable()
            samples = await timed(turns, product_turn)
            if profiler:
                profiler.disable()
        after = await transactions(url) if url else 0
        turn = statistics.median(samples)
        print(f"checkpoint durability {durability!r} (CHECKPOINT_DURABILITY) for both graphs")
        print(f"bare 3-node graph, same Postgres saver: p50 {floor:.1f} ms")
        print(f"chat turn (offline model, cached engine reads): p50 {turn:.1f} ms = {turn / floor:.1f}× the bare graph")
        per_turn = statements.count / turns, (after - before) / turns
        print(f"PostgreSQL per turn: {per_turn[0]:.1f} statements, {per_turn[1]:.1f} transactions")
        if profile:
            for text, count in statements.texts.most_common():
                print(f"{count / turns:5.1f}  {text}")
        if profiler:
            pstats.Stats(profiler).sort_stats(args_sort).print_stats(45)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="print statements and a cProfile of the turns")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (cumulative, tottime…)")
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.profile, args.sort))
