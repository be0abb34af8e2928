"""``langgraph dev`` serves the graph from langgraph.json and a langgraph-sdk client streams a run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from langgraph_sdk import get_client

from tests.test_cli import free_port

ROOT = Path(__file__).resolve().parents[1]


async def test_langgraph_dev_serves_the_graph(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "DATA_DIR": str(tmp_path),
        "SIM_PORT": str(free_port()),
        "EMBEDDINGS": "hashing",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "langgraph"),
            "dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-browser",
            "--no-reload",
            "--allow-blocking",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            raise AssertionError("langgraph dev did not come up")
        client = get_client(url=f"http://127.0.0.1:{port}")
        thread = await client.threads.create()
        metadata, answers = [], []
        async for event in client.runs.stream(
            thread["thread_id"],
            "resync",
            input={"messages": [{"role": "user", "content": "how is the system doing?"}]},
            context={"role": "viewer"},
            stream_mode=["custom", "values"],
        ):
            if event.event == "custom":
                metadata.append(event.data)
            elif event.event == "values" and isinstance(event.data, dict) and event.data.get("answer"):
                answers.append(event.data["answer"])
            assert event.event != "error", event.data
        assert metadata[0]["query_type"] == "health"
        assert answers and "unlinked workstations: AGT4" in answers[-1]
        # the same server also serves our FastAPI app (langgraph.json http.app)
        page = httpx.get(f"http://127.0.0.1:{port}/api/health/full", timeout=10)
        assert page.status_code == 401 and "missing API key" in page.text
    finally:
        server.terminate()
        server.wait(timeout=30)
