"""The HTTP API against the running app (uvicorn on a real socket) with the simulator, the embedded
PostgreSQL and Redis: shapes, the auth matrix, SSE and WebSocket streams, the approval round trip,
partial results under faults, bad inputs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from server.app import create_app
from tests.apiclient import V2, app_settings, client, sse_events
from tests.live import LiveServer


async def synced(http: httpx.AsyncClient) -> dict[str, Any]:
    """The knowledge graph syncs (and incidents are harvested) in the background at start: wait for both,
    or a harvest still fetching logs could meet injected faults and open the client's breaker."""
    for _ in range(100):
        body: dict[str, Any] = (await http.get(f"{V2}/jobs/PAYROLL_NIGHTLY/investigate")).json()
        history = (body["data"].get("historical_failures") or {}).get("incidents")
        if body["status"] == "success" and history:  # the graph and the incident harvest are both done
            return body
        await asyncio.sleep(0.1)
    return body


async def test_routes_and_shapes(api: LiveServer, keys: dict[str, str]) -> None:
    async with client(api, keys["viewer"]) as http:
        investigate = await synced(http)
        assert investigate["status"] == "success" and investigate["success_rate"] == 1.0
        assert set(investigate["data"]) == {"tws_status", "kg_context", "logs", "dependencies", "historical_failures"}
        health = (await http.get(f"{V2}/system/health")).json()
        assert health["status"] == "DEGRADED" and set(health["details"]) == {"engine", "critical_jobs", "failed_jobs"}
        assert all({"status", "data"} <= set(d) for d in health["details"].values())
        failed = (await http.get(f"{V2}/jobs/failed", params={"hours": 48})).json()
        assert (
            failed["hours"] == 48
            and failed["count"] >= 3
            and {"PAYROLL_NIGHTLY", "BACKUP_DB_PROD"} <= {j["job"] for j in failed["jobs"]}
        )
        summary = (await http.get(f"{V2}/jobs/PAYROLL_NIGHTLY/summary")).json()
        assert summary["job_name"] == "PAYROLL_NIGHTLY" and summary["status"] == "ABEND" and summary["has_context"]
        assert "file not found" in summary["summary"]
        chat = (await http.post(f"{V2}/chat", json={"message": "qual o status do BILLING_INVOICE_GEN?"})).json()
        assert chat["query_type"] == "status" and "está em ABEND" in chat["message"] and chat["thread_id"]
        assert set(chat) >= {"thread_id", "message", "query_type", "entities", "tool_calls", "sources"}
        follow = (
            await http.post(f"{V2}/chat", json={"message": "e as dependências dele?", "thread_id": chat["thread_id"]})
        ).json()
        assert follow["entities"]["jobs"] == ["BILLING_INVOICE_GEN"]
        stats = (await http.get("/api/cache/stats")).json()
        assert {"hit_rate", "total_gets", "hits", "misses", "last_warmup"} <= set(stats) and stats["last_warmup"]
        tools = (await http.get("/api/tools/stats")).json()
        assert tools["total_executions"] > 0 and "get_job_status" in tools["by_tool"]
        full = (await http.get("/api/health/full")).json()
        assert full["status"] == "HEALTHY" and set(full["dependencies"]) == {
            "scheduler",
            "postgresql",
            "redis",
            "model",
            "embeddings",
        }
        metrics = (await http.get("/metrics")).text
        assert 'orchestrator_calls_total{method="investigate_job_failure"}' in metrics
        assert "orchestrator_latency_seconds" in metrics and "resync_tool_executions_total" in metrics
        assert "http_requests_total" in metrics
        page = await http.get("/")
        assert page.status_code == 200 and "/api/v2/chat/stream" in page.text
        spec = (await http.get("/openapi.json")).json()
        for path in (f"{V2}/jobs/{{job_name}}/investigate", f"{V2}/system/health", f"{V2}/chat", "/api/cache/stats"):
            assert "200" in next(iter(spec["paths"][path].values()))["responses"]


async def test_auth_matrix(api: LiveServer, keys: dict[str, str]) -> None:
    routes = [
        ("GET", f"{V2}/system/health", None, "viewer"),
        ("GET", "/api/tools/stats", None, "viewer"),
        ("POST", "/api/cache/invalidate", {"pattern": "tws:job:*"}, "admin"),
        (
            "POST",
            f"{V2}/incidents/00000000-0000-4000-8000-000000000000/resolution",
            {"resolution": "x fixed"},
            "operator",
        ),
    ]
    rank = {"viewer": 0, "operator": 1, "admin": 2}
    async with client(api) as anonymous:
        for method, path, body, _ in routes:
            response = await anonymous.request(method, path, json=body)
            assert response.status_code == 401 and response.json()["detail"].startswith("missing API key")
        assert (await anonymous.get(f"{V2}/system/health", headers={"X-API-Key": "nope"})).status_code == 401
        assert (await anonymous.get(f"{V2}/system/health", headers={"X-API-Key": keys["viewer"]})).status_code == 200
        assert (
            await anonymous.get(f"{V2}/system/health", headers={"Authorization": "Bearer static-admin-key"})
        ).status_code == 200
    for role, key in keys.items():
        async with client(api, key) as http:
            for method, path, body, needed in routes:
                response = await http.request(method, path, json=body)
                if rank[role] >= rank[needed]:
                    assert response.status_code in {200, 404}, (role, path, response.text)
                else:
                    assert response.status_code == 403 and "may not" in response.json()["detail"], (role, path)


async def test_sse_stream_framing(api: LiveServer, keys: dict[str, str]) -> None:
    async with (
        client(api, keys["viewer"]) as http,
        http.stream("POST", f"{V2}/chat/stream", json={"message": "why did PAYROLL_NIGHTLY fail?"}) as response,
    ):
        assert response.headers["cache-control"] == "no-cache" and response.headers["x-accel-buffering"] == "no"
        assert response.headers["content-type"].startswith("text/event-stream")
        events = await sse_events(response)
    names = [e for e, _ in events]
    assert names[0] == "metadata" and {"run_id", "thread_id"} <= set(events[0][1]) and names[-1] == "end"
    assert names[1] == "query" and events[1][1]["query_type"] == "troubleshoot"
    tokens = "".join(d["text"] for e, d in events if e == "token")
    assert "file not found" in tokens and tokens.strip() == events[-1][1]["message"].strip()


async def test_websocket(api: LiveServer, keys: dict[str, str]) -> None:
    url = api.url.replace("http", "ws") + "/ws/tws-agent"
    async with websockets.connect(url, additional_headers={"X-API-Key": keys["viewer"]}) as ws:
        await ws.send("how is the system doing?")
        messages = []
        while True:
            message = json.loads(await ws.recv())
            messages.append(message)
            if message["is_final"]:
                break
        final = messages[-1]
        assert final["type"] == "message" and final["sender"] == "agent" and final["query_type"] == "health"
        assert "AGT4" in final["message"] and {"message", "query_type", "entities", "is_final"} <= set(final)
        assert messages[0]["type"] == "metadata" and any(m["type"] == "token" for m in messages)
        await ws.send(json.dumps({"message": "e o status do PAYROLL_NIGHTLY?"}))
        while not (reply := json.loads(await ws.recv()))["is_final"]:
            pass
        assert reply["query_type"] == "status" and "PAYROLL_NIGHTLY" in reply["message"]
        await ws.send("{not json")
        assert json.loads(await ws.recv())["type"] == "error"
    async with websockets.connect(f"{url}?api_key={keys['viewer']}") as ws:
        await ws.send("hello")
        while not (reply := json.loads(await ws.recv()))["is_final"]:
            pass
        assert reply["query_type"] == "other"
    async with websockets.connect(f"{url}?api_key=wrong") as ws:  # accepted, told why, closed with 4401
        assert "invalid" in json.loads(await ws.recv())["message"]
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_approval_round_trip_changes_the_job(
    api: LiveServer, keys: dict[str, str], fresh_now_sim: LiveServer
) -> None:
    async with client(api, keys["operator"]) as operator, client(api, keys["viewer"]) as viewer:
        asked = (await operator.post(f"{V2}/chat", json={"message": "reexecuta o PAYROLL_NIGHTLY"})).json()
        approval_id = asked["pending_approval"]
        assert approval_id and "PAYROLL_NIGHTLY" in asked["message"] and approval_id in asked["message"]
        pending = (await operator.get(f"{V2}/approvals")).json()
        assert [a["id"] for a in pending] == [approval_id] and pending[0]["target"]["status"] == "ABEND"
        denied = await viewer.post(f"{V2}/approvals/{approval_id}/approve", json={"justification": "ok"})
        assert denied.status_code == 403
        decided = (
            await operator.post(
                f"{V2}/approvals/{approval_id}/approve", json={"justification": "arquivo reenviado", "ticket": "INC-42"}
            )
        ).json()
        assert decided["approval"]["status"] == "done" and "Feito: rerun" in decided["run"]["message"]
        assert "está em ABEND" not in decided["run"]["message"]  # the status read before the rerun is not repeated
        assert "ABEND, rc 12 when asked" in decided["approval"]["description"]
        shown = (await viewer.get(f"{V2}/approvals/{approval_id}")).json()
        assert shown["status"] == "done" and shown["decided_by"] == "operator-user" and shown["reason"]
        again = await operator.post(f"{V2}/approvals/{approval_id}/approve", json={"justification": "twice"})
        assert again.status_code == 409 and "not pending" in again.json()["detail"]
    audit = httpx.get(f"{fresh_now_sim.url}/admin/audit").json()
    assert audit[-1]["action"] == "rerun" and audit[-1]["headers"]["Justification-Ticket-Num"] == "INC-42"


async def test_investigate_partial_under_faults(
    api: LiveServer, keys: dict[str, str], fresh_now_sim: LiveServer
) -> None:
    async with client(api, keys["viewer"]) as http:
        await synced(http)
        httpx.put(
            f"{fresh_now_sim.url}/admin/faults",
            json={"rules": [{"path_prefix": "/twsd/api/v2/plan/job/run/", "error_rate": 1.0}]},
        )
        async with client(api, keys["admin"]) as admin:  # the logs are cached: drop them
            assert (await admin.post("/api/cache/invalidate", json={"pattern": "tws:*"})).json()["removed"] > 0
        body = (await http.get(f"{V2}/jobs/PAYROLL_NIGHTLY/investigate")).json()
    assert body["status"] == "partial" and body["data"]["logs"] is None and body["success_rate"] < 1
    assert body["errors"][0]["key"] == "logs"


async def test_bad_inputs_get_clear_4xx(api: LiveServer, keys: dict[str, str], tmp_path: Path) -> None:
    async with client(api, keys["operator"]) as http:
        for path in (
            f"{V2}/jobs/bad%20name/investigate",
            f"{V2}/jobs/{'X' * 41}/summary",
            f"{V2}/jobs/..%2F..%2Fetc/investigate",
        ):
            response = await http.get(path)
            assert response.status_code in {404, 422} and "Traceback" not in response.text, path
        assert (await http.get(f"{V2}/jobs/failed", params={"hours": 100000})).status_code == 422
        assert (await http.get(f"{V2}/jobs/failed", params={"hours": "many"})).status_code == 422
        big = await http.post(f"{V2}/chat", json={"message": "x" * 5000})
        assert big.status_code == 413 and "longer than 4000" in big.json()["detail"]
        wrong = await http.post(f"{V2}/chat", json={"message": 42, "thread_id": "bad id!"})
        assert wrong.status_code == 422 and wrong.json()["request_id"]
        assert (
            await http.post(f"{V2}/chat", content=b"{broken", headers={"content-type": "application/json"})
        ).status_code == 422
        assert (await http.post(f"{V2}/chat", json={"message": "hi", "prompt_version": "v9"})).status_code == 422
        upload = await http.post(
            f"{V2}/knowledge/documents", files={"file": ("evil.exe", b"MZ", "application/octet-stream")}
        )
        assert upload.status_code == 415
        doc = await http.post(
            f"{V2}/knowledge/documents",
            files={
                "file": (
                    "shift-handover.md",
                    b"# Shift handover\n\nCall the duty manager when FTA_WIN01 unlinks.\n",
                    "text/markdown",
                )
            },
        )
        assert doc.status_code == 200 and doc.json()["chunks"] == 1
        answer = (
            await http.post(
                f"{V2}/chat", json={"message": "how do I handle the shift handover when FTA_WIN01 unlinks?"}
            )
        ).json()
        assert "duty manager" in answer["message"]


async def test_rate_limit_per_key(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, keys: dict[str, str]
) -> None:
    settings = app_settings(fresh_now_sim, pg_url, session_redis, tmp_path, rate_limit_per_minute=3)
    with LiveServer(create_app(settings)) as server:
        async with client(server, keys["viewer"]) as http:
            codes = [(await http.get("/api/tools/stats")).status_code for _ in range(5)]
        async with client(server, keys["admin"]) as other:
            assert (await other.get("/api/tools/stats")).status_code == 200  # per key
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


async def test_dev_mode_is_explicit_and_shouted(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path
) -> None:
    settings = app_settings(fresh_now_sim, pg_url, session_redis, tmp_path, auth_disabled=True)
    with LiveServer(create_app(settings)) as server:
        async with client(server) as http:
            full = (await http.get("/api/health/full")).json()
    assert full["auth"].startswith("DISABLED")


async def test_client_disconnect_stops_the_run(
    api: LiveServer, keys: dict[str, str], fresh_now_sim: LiveServer, pool: Any
) -> None:
    httpx.put(
        f"{fresh_now_sim.url}/admin/faults",
        json={"rules": [{"path_prefix": "/twsd/api/v2/plan/job/run/", "latency_ms": 6000}]},  # margin for a busy CI
    )

    async def log_calls() -> int:
        async with pool.connection() as conn:
            cur = await conn.execute(
                "SELECT count(*) AS n FROM tool_executions WHERE tool = 'get_job_logs' AND outcome = 'ok'"
            )
            row = await cur.fetchone()
        return int(row["n"])

    async with client(api, keys["admin"]) as admin:  # the Redis of the tests is shared: start cold
        await admin.post("/api/cache/invalidate", json={"pattern": "tws:*"})
    before = await log_calls()
    async with (
        client(api, keys["viewer"]) as http,
        http.stream("POST", f"{V2}/chat/stream", json={"message": "show me the log of PAYROLL_NIGHTLY"}) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("event: query"):
                break  # the user closes the page while the log is being fetched
    await asyncio.sleep(6.5)  # past the log's latency (and the audit's batching)
    assert await log_calls() == before  # the run was cancelled: the slow tool call never completed
