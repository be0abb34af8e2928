"""Retention on a real PostgreSQL: what is past its days goes (tool executions, idle conversations
with their checkpoints and owner rows, answer runs with their feedback), what is recent stays, and 0
keeps everything."""

from __future__ import annotations

import uuid
from typing import Any

from langchain_core.messages import HumanMessage
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from bench.turn_cost import bare_graph
from tools.store.retention import Retention, prune


async def age(pool: Any, sql: str, *args: Any) -> None:
    async with pool.connection() as conn:
        await conn.execute(sql, args)


async def rows(pool: Any, sql: str, *args: Any) -> list[Any]:
    async with pool.connection() as conn:
        return list(await (await conn.execute(sql, args)).fetchall())


AGED = "jsonb_set(checkpoint, '{ts}', to_jsonb((now() - interval '40 days')::text))"


async def test_prune_what_is_past_retention(pool: Any) -> None:
    saver = AsyncPostgresSaver(pool)
    await saver.setup()
    graph = bare_graph().compile(checkpointer=saver)
    old, recent = f"old-{uuid.uuid4().hex[:6]}", f"new-{uuid.uuid4().hex[:6]}"
    for thread in (old, recent):
        for turn in range(2):
            await graph.ainvoke({"messages": [HumanMessage(f"turn {turn}")]}, {"configurable": {"thread_id": thread}})
        await age(pool, "INSERT INTO chat_threads (thread_id, owner) VALUES (%s, 'ana')", thread)
    # the old conversation's last turn was 40 days ago
    await age(pool, f"UPDATE checkpoints SET checkpoint = {AGED} WHERE thread_id = %s", old)
    for days in (40, 1):
        await age(
            pool,
            "INSERT INTO tool_executions (tool, caller, role, duration_ms, outcome, created_at)"
            " VALUES ('get_job_status', 'ana', 'viewer', 1, 'ok', now() - make_interval(days => %s))",
            days,
        )
        run_id = uuid.uuid4()
        await age(
            pool,
            "INSERT INTO answer_runs (run_id, thread_id, caller, variant, created_at)"
            " VALUES (%s, 't', 'ana', 'baseline', now() - make_interval(days => %s))",
            run_id,
            days * 10,
        )
        await age(
            pool, "INSERT INTO feedback (run_id, caller, score, variant) VALUES (%s, 'ana', 1, 'baseline')", run_id
        )

    await age(
        pool,
        "INSERT INTO notifications (channel, key, status, sent_at) VALUES ('slack', 'investigation:1', 'sent', "
        "now() - interval '100 days'), ('slack', 'investigation:2', 'sent', now())",
    )
    kept = await prune(pool, saver, Retention(0, 0, 0, 0))  # 0: keep forever
    assert (kept.tool_executions, kept.threads, kept.answers, kept.investigations) == (0, 0, 0, 0)

    report = await prune(pool, saver, Retention(tool_executions_days=30, threads_days=30, answers_days=180))
    assert (report.tool_executions, report.threads, report.answers, report.investigations) == (1, 1, 1, 0)
    assert report.notifications == 1  # the one sent 100 days ago (investigations are kept 90)
    assert await saver.aget_tuple({"configurable": {"thread_id": old}}) is None
    assert await saver.aget_tuple({"configurable": {"thread_id": recent}}) is not None
    async with pool.connection() as conn:
        owners = await (
            await conn.execute("SELECT thread_id FROM chat_threads WHERE thread_id = ANY(%s)", ([old, recent],))
        ).fetchall()
        left = await (await conn.execute("SELECT count(*) AS n FROM tool_executions")).fetchone()
        feedback = await (await conn.execute("SELECT count(*) AS n FROM feedback")).fetchone()
        blobs = await (
            await conn.execute("SELECT count(*) AS n FROM checkpoint_blobs WHERE thread_id = %s", (old,))
        ).fetchone()
    assert [row["thread_id"] for row in owners] == [recent]
    assert left["n"] == 1 and feedback["n"] == 1 and blobs["n"] == 0
    again = await prune(pool, saver, Retention())
    assert (again.tool_executions, again.threads, again.answers) == (0, 0, 0)  # nothing twice
