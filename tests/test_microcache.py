"""The cached read routes' one-second memory: a hit is the same answer with its own request id, still
needs a valid key (no key, 401; a revoked key, 401 at once) and is audited in aggregate."""

from __future__ import annotations

import asyncio
from typing import Any

from server.keys import create_key
from tests.apiclient import V2, client
from tests.live import LiveServer
from tools.store.access import revoke_key


async def test_a_remembered_answer_still_checks_the_key(api: LiveServer, pool: Any) -> None:
    key_id, name, key = await create_key(pool, "viewer")
    async with client(api, key) as http:
        first = await http.get(f"{V2}/jobs/failed")
        second = await http.get(f"{V2}/jobs/failed")
        assert first.status_code == second.status_code == 200 and first.json() == second.json()
        assert first.headers["x-request-id"] != second.headers["x-request-id"]
        other = await http.get(f"{V2}/jobs/failed", params={"hours": 2})  # another question, its own answer
        assert other.status_code == 200 and other.json()["hours"] == 2
        bad = await http.get(f"{V2}/jobs/failed", params={"hours": 0})
        assert bad.status_code == 422  # never remembered: refusals go to the route every time
    async with client(api) as anonymous:
        assert (await anonymous.get(f"{V2}/jobs/failed")).status_code == 401
    assert await revoke_key(pool, key_id) is not None
    async with client(api, key) as http:
        assert (await http.get(f"{V2}/jobs/failed")).status_code == 401
    rows: list[dict[str, object]] = []
    for _ in range(50):  # the audit is written in batches: wait for this one (a loaded machine is slow)
        await asyncio.sleep(0.2)
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT arguments FROM tool_executions WHERE tool = 'get_failed_jobs' AND caller = %s", (name,)
            )
            rows = [row["arguments"] for row in await cur.fetchall()]
        if {"cached_responses": 1} in rows and len(rows) >= 3:
            break
    assert {"cached_responses": 1} in rows and len(rows) >= 3  # two routes run, one answer remembered
