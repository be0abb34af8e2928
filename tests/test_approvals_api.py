"""Approvals through the HTTP API on real parts: decisions answer with what happened at the scheduler
(200 only when done, 409 with the reason otherwise), the conversation learns the outcome, four-eyes,
and an unreachable scheduler is never "not found"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import redis
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

from server.app import create_app
from server.keys import create_key
from tests.apiclient import V2, app_settings, client
from tests.live import LiveServer
from tools.hwa import HWAClient, HWAClientConfig, JobAction


def audit(sim: LiveServer) -> list[str]:
    return [e["action"] for e in httpx.get(f"{sim.url}/admin/audit").json()]


async def ask(http: httpx.AsyncClient, message: str, thread: str | None = None) -> dict[str, Any]:
    body = {"message": message, **({"thread_id": thread} if thread else {})}
    response = await http.post(f"{V2}/chat", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def thread_messages(pg_url: str, thread_id: str) -> list[str]:
    async with AsyncPostgresSaver.from_conn_string(pg_url) as saver:
        saved = await saver.aget_tuple({"configurable": {"thread_id": thread_id}})
    assert saved is not None
    return [str(m.content) for m in saved.checkpoint["channel_values"].get("messages", [])]


async def test_a_job_that_changed_answers_409_stale_and_sends_nothing(
    api: LiveServer, keys: dict[str, str], fresh_now_sim: LiveServer, pg_url: str
) -> None:
    async with client(api, keys["operator"]) as operator, client(api, keys["admin"]) as admin:
        asked = await ask(operator, "rerun BILLING_INVOICE_GEN")
        approval_id = asked["pending_approval"]
        assert approval_id and "ABEND" in asked["message"] and "waits for an operator's approval" in asked["message"]
        request = (await operator.get(f"{V2}/approvals/{approval_id}")).json()
        assert request["action"] == "rerun" and request["target"]["return_code"] == 8 and request["target"]["run_id"]
        async with HWAClient(HWAClientConfig(fresh_now_sim.url, "admin", "admin")) as engine:
            await engine.job_action(request["target"]["job_id"], JobAction.CONFIRM_SUCC)  # changed in the engine
        decided = await admin.post(f"{V2}/approvals/{approval_id}/approve", json={"justification": "DBA cleared it"})
        assert decided.status_code == 409, decided.text
        assert (
            "stale" in decided.json()["detail"]
            and "was ABEND rc 8 when requested, now SUCC" in decided.json()["detail"]
        )
        shown = (await operator.get(f"{V2}/approvals/{approval_id}")).json()
        assert (
            shown["status"] == "stale" and shown["decided_by"] == "admin-user" and "nothing was done" in shown["reason"]
        )
        assert audit(fresh_now_sim) == ["confirm-succ"]  # no rerun reached the engine
        said = await thread_messages(pg_url, asked["thread_id"])
        assert any("now SUCC" in m for m in said[-2:]), said[-2:]  # the conversation learnt it
        followed = await ask(operator, "e aí, funcionou?", asked["thread_id"])
        assert followed["query_type"] == "outcome" and followed["entities"]["action"] is None
        assert "O que aconteceu com os pedidos desta conversa" in followed["message"]
        assert "stale — was ABEND rc 8 when requested, now SUCC" in followed["message"]


async def test_a_thread_that_moved_on_gets_one_execution_and_the_outcome(
    api: LiveServer, keys: dict[str, str], fresh_now_sim: LiveServer, pg_url: str
) -> None:
    async with client(api, keys["operator"]) as operator, client(api, keys["admin"]) as admin:
        asked = await ask(operator, "rerun PAYROLL_NIGHTLY")
        approval_id, thread = asked["pending_approval"], asked["thread_id"]
        moved = await ask(operator, "what is the status of BACKUP_DB_PROD?", thread)
        assert moved["query_type"] == "status" and not moved["pending_approval"]
        decided = await admin.post(f"{V2}/approvals/{approval_id}/approve", json={"justification": "file is back"})
        assert decided.status_code == 200, decided.text
        assert decided.json()["approval"]["status"] == "done"
        assert audit(fresh_now_sim) == ["rerun"]
        again = await admin.post(f"{V2}/approvals/{approval_id}/approve", json={"justification": "twice"})
        assert again.status_code == 409 and audit(fresh_now_sim) == ["rerun"]
        said = await thread_messages(pg_url, thread)
        assert approval_id in said[-1] and "done" in said[-1]
        asked_again = await ask(operator, "did it work?", thread)  # a question, answered from the record
        assert asked_again["query_type"] == "outcome" and not asked_again["pending_approval"]
        assert "rerun AGT1#PAYROLL_DAILY.PAYROLL_NIGHTLY" in asked_again["message"]
        assert "done — " in asked_again["message"] and approval_id in asked_again["message"]
        assert audit(fresh_now_sim) == ["rerun"]


async def test_a_write_that_times_out_is_unknown_never_nothing_changed(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, keys: dict[str, str]
) -> None:
    redis.Redis.from_url(session_redis.url).flushdb()
    settings = app_settings(fresh_now_sim, pg_url, session_redis, tmp_path, tws_read_timeout=1.0)
    with LiveServer(create_app(settings)) as api:
        async with client(api, keys["operator"]) as operator:
            asked = await ask(operator, "rerun PAYROLL_NIGHTLY")
            rule = {"path_prefix": "/twsd/api/v2/plan/job/run", "method": "PUT", "hang": True}
            httpx.put(f"{fresh_now_sim.url}/admin/faults", json={"rules": [rule]}).raise_for_status()
            decided = await operator.post(
                f"{V2}/approvals/{asked['pending_approval']}/approve", json={"justification": "file is back"}
            )
            httpx.delete(f"{fresh_now_sim.url}/admin/faults")
            assert decided.status_code == 409 and "unknown" in decided.json()["detail"]
            assert "may or may not have been applied" in decided.json()["detail"]
            assert "Nothing was changed" not in decided.text


async def test_four_eyes(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, pool: Any, keys: dict[str, str]
) -> None:
    redis.Redis.from_url(session_redis.url).flushdb()
    *_, second = await create_key(pool, "operator", "second-operator")
    settings = app_settings(
        fresh_now_sim, pg_url, session_redis, tmp_path, approval_four_eyes=True, approval_four_eyes_actions="rerun"
    )
    with LiveServer(create_app(settings)) as api:
        async with client(api, keys["operator"]) as requester, client(api, second) as other:
            asked = await ask(requester, "rerun PAYROLL_NIGHTLY")
            url = f"{V2}/approvals/{asked['pending_approval']}"
            own = await requester.post(f"{url}/approve", json={"justification": "my own"})
            assert own.status_code == 403 and "four-eyes" in own.json()["detail"]
            assert (await requester.get(url)).json()["status"] == "pending" and audit(fresh_now_sim) == []
            decided = await other.post(f"{url}/approve", json={"justification": "checked the input file"})
            assert decided.status_code == 200 and decided.json()["approval"]["decided_by"] == "second-operator"
            assert audit(fresh_now_sim) == ["rerun"]


async def test_an_unreachable_scheduler_is_said_as_such(
    api: LiveServer, keys: dict[str, str], fresh_now_sim: LiveServer
) -> None:
    httpx.put(
        f"{fresh_now_sim.url}/admin/faults", json={"rules": [{"path_prefix": "/twsd/", "error_rate": 1.0}]}
    ).raise_for_status()
    try:
        async with client(api, keys["viewer"]) as viewer:
            answer = await ask(viewer, "what is the status of PAYROLL_NIGHTLY?")
    finally:
        httpx.delete(f"{fresh_now_sim.url}/admin/faults")
    # 503 from the engine, or the breaker those 503s opened: either way an outage, never "not found"
    assert answer["message"].startswith("The scheduler did not answer (")
    assert "— I could not check PAYROLL_NIGHTLY" in answer["message"]
    assert "could not find" not in answer["message"]
