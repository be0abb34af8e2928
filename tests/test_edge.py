"""The HTTP edge as a security reviewer probes it: bad bytes, big bodies, auth before parsing, secrets,
key identity and revocation, shared rate limits, outages and the OpenAPI contract."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import websockets
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from server.app import JsonFormatter, create_app
from server.keys import create_key, hash_key
from tests.apiclient import V2, app_settings, client
from tests.live import LiveServer
from tests.tcpproxy import TcpProxy
from tools.store.access import list_keys, revoke_key

NO_LEAKS = ("Traceback", "SELECT ", "psycopg", 'File "')


def clean_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """A JSON error with its request id, no trace or SQL, and X-Request-ID on the response."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers.get("x-request-id"), response.headers
    body: dict[str, Any] = response.json()
    assert body["request_id"] == response.headers["x-request-id"]
    assert not any(leak in response.text for leak in NO_LEAKS), response.text
    return body


async def test_bad_bytes_are_refused_with_the_field_named(api: LiveServer, keys: dict[str, str]) -> None:
    approval = "00000000-0000-0000-0000-000000000000"
    async with client(api, keys["operator"]) as http:
        for path in (f"{V2}/chat", f"{V2}/chat/stream"):
            body = clean_error(await http.post(path, json={"message": "status of\u0000 PAYROLL"}), 422)
            assert "message" in body["detail"][0] and "U+0000" in body["detail"][0]
            body = clean_error(await http.post(path, json={"message": " \n\t "}), 422)
            assert "message" in body["detail"][0] and "blank" in body["detail"][0]
        lone = b'{"message": "hello \\ud800 there"}'
        body = clean_error(
            await http.post(f"{V2}/chat", content=lone, headers={"content-type": "application/json"}), 422
        )
        assert body["detail"][0].startswith("body.message")
        body = clean_error(await http.post(f"{V2}/approvals/{approval}/approve", json={"justification": "ok\x00"}), 422)
        assert "justification" in body["detail"][0]
        clean_error(await http.post(f"{V2}/approvals/{approval}/reject", json={"justification": "\x07bell"}), 422)
        body = clean_error(await http.post(f"{V2}/incidents/{approval}/resolution", json={"resolution": "a\x00b"}), 422)
        assert "resolution" in body["detail"][0]
        clean_error(
            await http.post(f"{V2}/chat", content=b"\xff\xfe{", headers={"content-type": "application/json"}), 400
        )
        assert "NUL" in clean_error(await http.get(f"{V2}/jobs/failed?hours=24%00"), 400)["detail"]
        for name, data in (
            ("notes.txt", b"shift notes\x00 with a NUL"),
            ("runbook.md", bytes(range(256))),
            ("manual.pdf", b"not really a pdf"),
        ):
            upload = await http.post(f"{V2}/knowledge/documents", files={"file": (name, data, "text/plain")})
            assert name in clean_error(upload, 422)["detail"]  # the content is not what the name says
        assert not list((api.app.state.resync.settings.data_dir / "uploads").rglob("*")) or all(
            p.is_dir() for p in (api.app.state.resync.settings.data_dir / "uploads").rglob("*")
        ), "rejected uploads must not stay on disk"


async def test_uploads_are_kept_per_uploader(api: LiveServer, keys: dict[str, str]) -> None:
    note = b"# Handover\n\nCall the duty manager when FTA_WIN01 unlinks.\n"
    async with client(api, keys["operator"]) as operator, client(api, keys["admin"]) as admin:
        for http in (operator, admin):
            response = await http.post(
                f"{V2}/knowledge/documents", files={"file": ("handover.md", note, "text/markdown")}
            )
            assert response.status_code == 200 and response.json()["ingested"] == ["handover.md"]
    stored = {p.parent.name for p in (api.app.state.resync.settings.data_dir / "uploads").rglob("handover.md")}
    folder = {name: hashlib.sha256(name.encode()).hexdigest()[:16] for name in ("admin-user", "operator-user")}
    assert stored == set(folder.values())  # same name, two uploaders: nothing overwritten
    async with client(api, keys["operator"]) as operator:
        long_name = await operator.post(
            f"{V2}/knowledge/documents", files={"file": ("x" * 300 + ".md", note, "text/markdown")}
        )
    assert "longer than 200 bytes" in clean_error(long_name, 422)["detail"]


async def test_two_claims_of_a_new_thread_have_one_owner(pool: Any) -> None:
    from tools.store.access import claim_thread

    for attempt in range(20):
        owners = await asyncio.gather(*(claim_thread(pool, f"race-{attempt}", who) for who in ("alice", "mallory")))
        assert owners[0] == owners[1] and owners[0] in {"alice", "mallory"}


async def test_the_key_is_checked_before_the_body_and_bodies_are_limited(api: LiveServer, keys: dict[str, str]) -> None:
    huge = b'{"message": "' + b"x" * 5_000_000 + b'"}'
    async with client(api) as anonymous:
        started = time.perf_counter()
        clean_error(await anonymous.post(f"{V2}/chat", content=huge, headers={"content-type": "application/json"}), 401)
        assert time.perf_counter() - started < 5
        clean_error(
            await anonymous.post(f"{V2}/chat", content=b"{broken", headers={"content-type": "application/json"}), 401
        )
    async with client(api, keys["viewer"]) as http:
        declared = await http.post(f"{V2}/chat", content=huge, headers={"content-type": "application/json"})
        assert "limited to 1048576 bytes" in clean_error(declared, 413)["detail"]

        async def chunks() -> Any:
            for _ in range(40):
                yield b"x" * 65536

        streamed = await http.post(f"{V2}/chat", content=chunks(), headers={"content-type": "application/json"})
        clean_error(streamed, 413)
        assert (await http.post(f"{V2}/chat", json={"message": "hello"})).status_code == 200


async def test_websocket_fuzz(api: LiveServer, keys: dict[str, str]) -> None:
    url = api.url.replace("http", "ws") + "/ws/tws-agent"
    async with websockets.connect(url, additional_headers={"X-API-Key": keys["viewer"]}, max_size=None) as ws:
        for bad in ("status of \x00 PAYROLL", json.dumps({"message": "\ud800"}), "y" * 200_000, "{not json", "   "):
            reply = json.loads(await _send(ws, bad))
            assert reply["type"] == "error" and reply["is_final"], reply
            assert not any(leak in reply["message"] for leak in NO_LEAKS)
        good = json.loads(await _send(ws, "hello"))
        while not good["is_final"]:
            good = json.loads(await ws.recv())
        assert good["type"] == "message"
        await ws.send(b"\x00\x01binary")
        assert "binary" in json.loads(await ws.recv())["message"]
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1003


async def _send(ws: Any, text: str) -> Any:
    await ws.send(text)
    return await ws.recv()


async def test_a_key_is_its_own_identity_and_revocation_is_immediate(api: LiveServer, pool: Any) -> None:
    first_id, first_name, first = await create_key(pool, "operator")
    second_id, second_name, second = await create_key(pool, "operator")
    assert first_name != second_name and first_id != second_id
    listed = {row["id"]: row for row in await list_keys(pool)}
    assert listed[first_id]["name"] == first_name and "key_hash" not in listed[first_id]
    async with client(api, first) as one, client(api, second) as two:
        chat = (await one.post(f"{V2}/chat", json={"message": "hello"})).json()
        stolen = await two.post(f"{V2}/chat", json={"message": "hello", "thread_id": chat["thread_id"]})
        assert stolen.status_code == 403  # the second operator key is someone else
        url = api.url.replace("http", "ws") + "/ws/tws-agent"
        async with websockets.connect(url, additional_headers={"X-API-Key": first}) as ws:
            reply = json.loads(await _send(ws, "hello"))
            while not reply["is_final"]:
                reply = json.loads(await ws.recv())
            assert (await revoke_key(pool, first_id)) is not None
            assert clean_error(await one.get(f"{V2}/system/health"), 401)["detail"] == "invalid or revoked API key"
            assert "revoked" in json.loads(await _send(ws, "hello again"))["message"]
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        assert (await two.get(f"{V2}/system/health")).status_code == 200
    assert await revoke_key(pool, 10**9) is None


async def test_rate_limits_are_shared_by_workers_and_count_websocket_messages(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, keys: dict[str, str]
) -> None:
    import redis

    redis.Redis.from_url(session_redis.url).flushdb()
    settings = app_settings(fresh_now_sim, pg_url, session_redis, tmp_path, rate_limit_per_minute=4)
    with LiveServer(create_app(settings)) as one, LiveServer(create_app(settings)) as two:
        async with client(one, keys["viewer"]) as a, client(two, keys["viewer"]) as b:
            codes = [(await http.get("/api/tools/stats")).status_code for http in (a, b, a, b)]
            limited = await b.get("/api/tools/stats")
        assert codes == [200] * 4
        assert clean_error(limited, 429) and 1 <= int(limited.headers["retry-after"]) <= 60
        url = two.url.replace("http", "ws") + "/ws/tws-agent"
        async with websockets.connect(url, additional_headers={"X-API-Key": keys["operator"]}) as ws:
            replies = []
            for _ in range(6):
                await ws.send("{not json")  # cheap messages, still counted
                replies.append(json.loads(await ws.recv())["message"])
        assert sum("rate limit" in r for r in replies) == 2, replies
    unlimited = app_settings(fresh_now_sim, pg_url, session_redis, tmp_path, rate_limit_per_minute=0)
    with LiveServer(create_app(unlimited)) as server:
        async with client(server, keys["viewer"]) as http:
            assert {(await http.get("/api/tools/stats")).status_code for _ in range(12)} == {200}


async def test_a_database_outage_is_a_fast_503_and_recovers(
    fresh_now_sim: LiveServer, pg15_url: str, session_redis: Any, tmp_path: Path
) -> None:
    target = conninfo_to_dict(pg15_url)
    proxy = TcpProxy(str(target.get("host") or "127.0.0.1"), int(target.get("port") or 5432)).start()
    through_proxy = make_conninfo(pg15_url, host="127.0.0.1", port=str(proxy.port))
    settings = app_settings(
        fresh_now_sim,
        through_proxy,
        session_redis,
        tmp_path,
        api_keys=f"{hash_key('rsk_outage_admin')}:admin:ops-bot",
        knowledge_dir=tmp_path,
    )
    try:
        with LiveServer(create_app(settings)) as api:
            async with client(api, "rsk_outage_admin") as http:
                assert (await http.get(f"{V2}/approvals")).status_code == 200
                proxy.stop()
                for method, path, body in (("GET", f"{V2}/approvals", None), ("POST", f"{V2}/chat", {"message": "hi"})):
                    started = time.perf_counter()
                    response = await http.request(method, path, json=body)
                    assert time.perf_counter() - started < 8, path
                    assert "database" in clean_error(response, 503)["detail"]
                    assert response.headers["retry-after"] == "5"
                proxy.start()
                for _ in range(40):
                    if (await http.get(f"{V2}/approvals")).status_code == 200:
                        break
                    await asyncio.sleep(0.25)
                else:
                    pytest.fail("the API did not recover when the database came back")
    finally:
        proxy.stop()
    with psycopg.connect(pg15_url) as conn:  # the failed turn left no half-saved thread behind
        rows = conn.execute("SELECT count(*) FROM checkpoints").fetchone()
    assert rows is not None and rows[0] == 0


async def test_secrets_are_never_shown(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, keys: dict[str, str]
) -> None:
    port = session_redis.url.rsplit(":", 1)[1]
    settings = app_settings(
        fresh_now_sim, pg_url, session_redis, tmp_path, redis_url=f"redis://:Sup3rSecret@127.0.0.1:{port}"
    )
    with LiveServer(create_app(settings)) as api:
        async with client(api, keys["viewer"]) as http:
            full = await http.get("/api/health/full")
    assert full.status_code == 200 and "Sup3rSecret" not in full.text
    record = logging.LogRecord("x", logging.DEBUG, __file__, 1, "", None, None)
    record.msg = (
        "GET /ws/tws-agent?api_key=rsk_abcdefgh123 headers [(b'x-api-key', b'rsk_abcdefgh456'), 'Bearer abcdefgh789']"
    )
    line = JsonFormatter().format(record)
    assert not any(secret in line for secret in ("abcdefgh123", "abcdefgh456", "abcdefgh789")), line


async def test_the_openapi_document_is_the_contract(api: LiveServer) -> None:
    async with client(api) as http:
        schema = (await http.get("/openapi.json")).json()
        docs = await http.get("/docs")
        redoc = await http.get("/redoc")
        assets = [
            await http.get(src)
            for src in {part.split('"')[1] for part in docs.text.split("src=")[1:] if part.startswith('"/')}
        ]
    # one documented way to send the key (a Bearer token is accepted too, as its description says)
    assert set(schema["components"]["securitySchemes"]) == {"APIKeyHeader"}
    assert "Bearer" in schema["components"]["securitySchemes"]["APIKeyHeader"]["description"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if path == "/metrics":  # public, Prometheus text
                continue
            codes = set(operation["responses"])
            assert {"400", "401", "403", "422", "429", "503"} <= codes and operation.get("security"), (method, path)
            if method == "post":
                assert "413" in codes, path
            error = operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
            assert error.endswith("/ErrorBody"), (method, path)
    assert docs.status_code == 200 and redoc.status_code == 200 and "cdn" not in docs.text + redoc.text
    assert assets and all(a.status_code == 200 for a in assets)
