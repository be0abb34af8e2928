"""The tool registry over MCP with the SDK's own client: tools listed per role, a read tool called,
a write tool yields a pending approval and nothing reaches the engine; no key, 401."""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.live import LiveServer


def connect(api: LiveServer, key: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return Client(streamable_http_client(f"{api.url}/mcp", http_client=http))


async def test_tools_over_streamable_http(api: LiveServer, keys: dict[str, str], fresh_now_sim: LiveServer) -> None:
    async with connect(api, keys["viewer"]) as viewer:
        names = {tool.name for tool in (await viewer.list_tools()).tools}
        assert "get_job_status" in names and "rerun_job" not in names  # a viewer's tools only
        status = await viewer.call_tool("get_job_status", {"job_name": "PAYROLL_NIGHTLY"})
        assert not status.is_error and "ABEND" in status.content[0].text  # type: ignore[union-attr]
        refused = await viewer.call_tool("rerun_job", {"job_name": "PAYROLL_NIGHTLY"})
        assert refused.is_error and "may not use rerun_job" in refused.content[0].text  # type: ignore[union-attr]
    async with connect(api, keys["operator"]) as operator:
        assert "rerun_job" in {tool.name for tool in (await operator.list_tools()).tools}
        asked = await operator.call_tool("rerun_job", {"job_name": "PAYROLL_NIGHTLY"})
        text: Any = asked.content[0].text  # type: ignore[union-attr]
        assert not asked.is_error and '"pending_approval"' in text and "/approve" in text
    assert httpx.get(f"{fresh_now_sim.url}/admin/audit").json() == []  # nothing reached the engine
    async with httpx.AsyncClient(base_url=api.url, headers={"X-API-Key": keys["admin"]}) as http:
        pending = (await http.get("/api/v2/approvals")).json()
        [mine] = [a for a in pending if a["action"] == "rerun" and a["requested_by"] == "operator-user"]
    # the MCP conversation is the caller's own: another user may not continue it
    async with httpx.AsyncClient(base_url=api.url, headers={"X-API-Key": keys["viewer"]}) as other:
        taken = await other.post("/api/v2/chat", json={"message": "status?", "thread_id": mine["thread_id"]})
        assert taken.status_code == 403, taken.text
    anonymous = httpx.post(f"{api.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert anonymous.status_code == 401 and "API key" in anonymous.json()["detail"]


async def test_tools_over_stdio(fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Any) -> None:
    """``resync mcp`` as an MCP client launches it: the key's role decides the tools, a write waits."""
    import sys
    from pathlib import Path

    from mcp import StdioServerParameters

    from server.keys import hash_key

    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TWS_BASE_URL": fresh_now_sim.url,
        "TWS_USERNAME": "admin",
        "TWS_PASSWORD": "admin",
        "DATABASE_URL": pg_url,
        "REDIS_URL": session_redis.url,
        "DATA_DIR": str(tmp_path),
        "EMBEDDINGS": "hashing",
        "API_KEYS": f"{hash_key('stdio-operator-key')}:operator:ide",
        "RESYNC_API_KEY": "stdio-operator-key",
        "LOG_LEVEL": "WARNING",
    }
    command = str(Path(sys.executable).parent / "resync")
    async with Client(StdioServerParameters(command=command, args=["mcp"], env=env)) as ide:
        names = {tool.name for tool in (await ide.list_tools()).tools}
        assert {"get_job_status", "rerun_job"} <= names
        asked = await ide.call_tool("rerun_job", {"job_name": "BILLING_INVOICE_GEN"})
        assert '"pending_approval"' in asked.content[0].text  # type: ignore[union-attr]
    assert httpx.get(f"{fresh_now_sim.url}/admin/audit").json() == []
