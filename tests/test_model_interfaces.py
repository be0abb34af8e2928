"""A failing model server seen from every interface: POST /api/v2/chat answers 200 with the composed
answer and the failure's kind, the SSE stream says ``reset`` before the composed answer replaces
what was streamed, the WebSocket's final message is the composed answer, the connection stays
usable, nothing leaks; a chat-only server (no /v1/embeddings) starts, with the fallback embedder
named in health and in validate-config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import websockets

from server.app import create_app
from server.checks import check_embeddings
from server.settings import Settings
from tests.apiclient import V2, app_settings, client, sse_events
from tests.live import LiveServer
from tests.model_server import Script, model_app

NO_LEAKS = ("Traceback", "OpenAIError", "APIError", 'File "')
WHY = "why did PAYROLL_NIGHTLY fail?"
DOWN = "(The language model did not answer:"


async def test_a_failing_model_is_an_answer_on_every_interface(
    fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, keys: dict[str, str], pool: Any
) -> None:
    script = Script()
    with LiveServer(model_app(script)) as model:
        settings = app_settings(
            fresh_now_sim,
            pg_url,
            session_redis,
            tmp_path,
            openai_base_url=f"{model.url}/v1",
            openai_api_key="x",
            embeddings="auto",
        )
        assert (await check_embeddings(settings)).level == "WARN"  # validate-config tests what start-up uses
        with LiveServer(create_app(settings)) as api:
            async with client(api, keys["viewer"]) as http:
                health = (await http.get("/api/health/full")).json()["dependencies"]
                assert health["embeddings"]["status"] == "degraded" and "HTTP 404" in health["embeddings"]["detail"]
                assert health["model"]["status"] == "ok" and "stub" not in health["model"]["detail"]

                script.steps.extend(["500", "500"])
                answered = await http.post(f"{V2}/chat", json={"message": WHY, "thread_id": "t-model-500"})
                assert answered.status_code == 200, answered.text
                body = answered.json()
                assert body["model_failure"]["kind"] == "server_error"
                assert body["message"].startswith(DOWN) and "PAYROLL_NIGHTLY" in body["message"]
                assert not any(leak in answered.text for leak in NO_LEAKS)

                script.steps.append("echo")  # streamed its instructions, then found out
                async with http.stream("POST", f"{V2}/chat/stream", json={"message": WHY}) as response:
                    events = await sse_events(response)
                names = [e for e, _ in events]
                assert "reset" in names and names[-1] == "end", names
                after = "".join(d["text"] for e, d in events[names.index("reset") :] if e == "token")
                assert after.strip() == events[-1][1]["message"].strip() and after.startswith(DOWN)
                assert events[-1][1]["model_failure"]["kind"] == "echo"

                again = await http.post(f"{V2}/chat", json={"message": WHY})  # the same connection, a good reply
                assert again.status_code == 200 and again.json()["message"].startswith("Stub model:")

            script.steps.append("cut")
            url = api.url.replace("http", "ws") + "/ws/tws-agent"
            async with websockets.connect(url, additional_headers={"X-API-Key": keys["viewer"]}) as ws:
                await ws.send(WHY)
                while not (final := json.loads(await ws.recv()))["is_final"]:
                    pass
                assert final["message"].startswith("(The language model did not answer: its reply stopped midway.")
                await ws.send(WHY)  # still open, and the next turn is the model's
                while not (final := json.loads(await ws.recv()))["is_final"]:
                    pass
                assert final["message"].startswith("Stub model:")
    async with pool.connection() as conn:  # a composed answer is a whole turn: the thread is saved
        cur = await conn.execute("SELECT count(*) AS n FROM checkpoints WHERE thread_id = 't-model-500'")
        assert (await cur.fetchone())["n"] > 0


async def test_a_chat_only_server_is_checked_without_starting(tmp_path: Path) -> None:
    """``validate-config`` says which embedder start-up will use; unreachable is a warning, not a crash."""
    script = Script()
    with LiveServer(model_app(script)) as model:
        for base in (f"{model.url}/v1", "http://127.0.0.1:9/v1"):
            check = await check_embeddings(Settings(openai_base_url=base, openai_api_key="x", data_dir=tmp_path))
            assert check.level == "WARN" and "gives no embeddings" in check.detail, check


async def test_an_evaluation_with_a_configured_model_and_a_judge_sends_nothing_elsewhere(tmp_path: Path) -> None:
    """The configured model answers the cases, a separate judge model grades them, the report names the
    model; and nothing tries to reach LangSmith or anywhere else (the suite's guard fails the test)."""
    from evals.run import run

    script = Script()
    with LiveServer(model_app(script)) as model:
        settings = Settings(
            data_dir=tmp_path / "data",
            embeddings="hashing",
            openai_base_url=f"{model.url}/v1",
            openai_api_key="x",
            llm_model="model-under-test",
            eval_judge_model="judge-model",
        )
        report = await run("smoke", ["baseline"], out=tmp_path / "report", settings=settings)
    assert "Models: baseline: model-under-test." in report.read_text()
    asked = {body["model"] for body in script.seen}
    assert asked == {"model-under-test", "judge-model"}, asked
