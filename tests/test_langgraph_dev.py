"""``langgraph dev`` serves the graph from langgraph.json behind our API keys: langgraph-sdk clients
stream runs as the key's identity and role (a client-chosen role is ignored), threads belong to their
creator, an operator's resume decision is the approval (written once, with the justification
headers), the REST approve route works for its threads, and the embedded PostgreSQL stops with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from server.keys import hash_key
from tests.test_cli import free_port

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"operator": "op-key-1234567890", "viewer": "view-key-1234567890", "other": "op2-key-1234567890"}


def postgres_running_on(folder: Path) -> bool:
    """A postmaster alive on the data folder (its pid file names it)."""
    pid_file = folder / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        os.kill(int(pid_file.read_text().split()[0]), 0)
    except (ProcessLookupError, ValueError, IndexError):
        return False
    return True


@contextmanager
def langgraph_dev(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    port, sim_port = free_port(), free_port()
    static = ",".join(
        [
            f"{hash_key(KEYS['operator'])}:operator:olga",
            f"{hash_key(KEYS['viewer'])}:viewer:vitor",
            f"{hash_key(KEYS['other'])}:operator:otto",
        ]
    )
    env = {
        **os.environ,
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "LANGGRAPH_NO_VERSION_CHECK": "true",
        "DATA_DIR": str(tmp_path),
        "SIM_PORT": str(sim_port),
        "EMBEDDINGS": "hashing",
        "API_KEYS": static,
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
        stderr=open(tmp_path / "dev.log", "w"),  # noqa: SIM115
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
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{sim_port}", tmp_path / "pg"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


async def run(client: Any, thread_id: str, **kwargs: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    custom, values = [], {}
    async for event in client.runs.stream(thread_id, "resync", stream_mode=["custom", "values"], **kwargs):
        assert event.event != "error", event.data
        if event.event == "custom":
            custom.append(event.data)
        elif event.event == "values":
            values = event.data
    return custom, values


async def test_langgraph_dev_with_our_keys_and_approvals(tmp_path: Path) -> None:
    with langgraph_dev(tmp_path) as (url, sim_url, pg_folder):
        await exercise(url, sim_url)
        assert postgres_running_on(pg_folder)
    deadline = time.monotonic() + 10  # SIGTERM: the embedded PostgreSQL stops with its last user
    while postgres_running_on(pg_folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not postgres_running_on(pg_folder)


async def exercise(url: str, sim_url: str) -> None:
    assert httpx.post(f"{url}/threads", json={}).status_code == 401
    assert httpx.post(f"{url}/threads", json={}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    viewer = get_client(url=url, headers={"X-API-Key": KEYS["viewer"]})
    operator = get_client(url=url, headers={"Authorization": f"Bearer {KEYS['operator']}"})

    # a viewer runs as a viewer, whatever role the client asks for
    thread = await viewer.threads.create()
    _custom, values = await run(
        viewer,
        thread["thread_id"],
        input={"messages": [{"role": "user", "content": "rerun PAYROLL_NIGHTLY"}]},
        context={"role": "admin", "caller": "mallory"},
    )
    assert not values.get("__interrupt__") and "Your role (viewer)" in values["answer"]
    _custom, health = await run(
        viewer, thread["thread_id"], input={"messages": [{"role": "user", "content": "how is the system doing?"}]}
    )
    assert "unlinked workstations: AGT4" in health["answer"]

    # the store is per user: another user neither reads, lists nor deletes an item of someone else
    await operator.store.put_item(["notes"], "handover", {"text": "olga's note"})
    assert (await viewer.store.search_items(["notes"]))["items"] == []
    assert not await viewer.store.get_item(["notes"], "handover")
    await viewer.store.delete_item(["notes"], "handover")
    assert (await operator.store.get_item(["notes"], "handover"))["value"] == {"text": "olga's note"}

    # an operator's request pauses; only its owner (or an admin) sees the thread
    thread = await operator.threads.create()
    _custom, paused = await run(
        operator, thread["thread_id"], input={"messages": [{"role": "user", "content": "rerun PAYROLL_NIGHTLY"}]}
    )
    [interrupt] = paused["__interrupt__"]
    request = interrupt["value"]
    assert request["action_requests"][0]["name"] == "rerun_job" and request["target"]["status"] == "ABEND"
    # Agent Chat UI's "Mark as Resolved" (goto END) re-runs the tool: it finds the same approval, never a second
    await operator.runs.wait(thread["thread_id"], "resync", command={"goto": "__end__"})
    pending = httpx.get(f"{url}/api/v2/approvals", headers={"X-API-Key": KEYS["viewer"]}, timeout=10).json()
    assert [a["id"] for a in pending if a["action"] == "rerun"] == [request["approval_id"]]
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await viewer.runs.wait(thread["thread_id"], "resync", command={"resume": {"decisions": [{"type": "approve"}]}})
    assert refused.value.response.status_code in {403, 404}
    assert httpx.get(f"{sim_url}/admin/audit").json() == []

    # the operator's resume decision is the approval: written once, with the approver's words
    _custom, done = await run(
        operator,
        thread["thread_id"],
        command={"resume": {"decisions": [{"type": "approve", "message": "HR resent employees.csv"}]}},
    )
    assert "Done: rerun" in done["answer"], done["answer"]
    [entry] = httpx.get(f"{sim_url}/admin/audit").json()
    assert entry["action"] == "rerun" and "HR resent employees.csv" in entry["headers"]["Justification-Description"]
    assert "approved by olga" in entry["headers"]["Justification-Description"]
    shown = httpx.get(
        f"{url}/api/v2/approvals/{request['approval_id']}", headers={"X-API-Key": KEYS["viewer"]}, timeout=10
    ).json()
    assert shown["status"] == "done" and shown["decided_by"] == "olga" and shown["requested_by"] == "olga"

    # the REST route decides a request paused under langgraph dev (acting from the record)
    thread = await operator.threads.create()
    _custom, paused = await run(
        operator, thread["thread_id"], input={"messages": [{"role": "user", "content": "rerun BACKUP_DB_PROD"}]}
    )
    approval_id = paused["__interrupt__"][0]["value"]["approval_id"]
    decided = httpx.post(
        f"{url}/api/v2/approvals/{approval_id}/approve",
        json={"justification": "disk cleaned", "ticket": "INC-7"},
        headers={"X-API-Key": KEYS["other"]},
        timeout=30,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["approval"]["status"] == "done" and decided.json()["approval"]["decided_by"] == "otto"
    assert [e["action"] for e in httpx.get(f"{sim_url}/admin/audit").json()] == ["rerun", "rerun"]
    # resuming that thread later reports the recorded outcome and writes nothing more
    _custom, reported = await run(
        operator, thread["thread_id"], command={"resume": {"decisions": [{"type": "approve"}]}}
    )
    assert "Done: rerun" in reported["answer"]
    assert len(httpx.get(f"{sim_url}/admin/audit").json()) == 2
