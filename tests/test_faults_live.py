"""Fault injection against a running server: one caller's timeout is never another's failure, a
server killed mid-write leaves no approval without an outcome, and PostgreSQL's return heals the
server without a restart. Every engine effect is read from the simulator's own audit."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from server.keys import hash_key
from tests.live import LiveServer
from tests.test_cli import free_port
from tests.test_langgraph_dev import postgres_running_on
from tests.test_serve_lifecycle import ROOT, engine_ok

OPERATOR = "faults-operator-key-123"


def test_a_cancelled_shared_read_does_not_fail_the_other_request(
    api: LiveServer, fresh_now_sim: LiveServer, keys: dict[str, str]
) -> None:
    """The engine hangs on GETs: an investigation of a job, and half a second later a chat about the
    same job; the investigation's timeout cancels its reads, and the chat still answers 200 (partial)."""
    headers = {"Authorization": f"Bearer {keys['viewer']}"}
    rule = {"path_prefix": "/twsd/api/v2/plan", "method": "GET", "hang": True}
    httpx.put(f"{fresh_now_sim.url}/admin/faults", json={"rules": [rule]}).raise_for_status()
    answers: dict[str, httpx.Response] = {}

    def investigate() -> None:
        answers["investigate"] = httpx.get(
            f"{api.url}/api/v2/jobs/PAYROLL_NIGHTLY/investigate", headers=headers, timeout=90
        )

    first = threading.Thread(target=investigate)
    first.start()
    time.sleep(0.5)
    chat = httpx.post(
        f"{api.url}/api/v2/chat",
        json={"message": "why did PAYROLL_NIGHTLY fail?"},
        headers=headers,
        timeout=90,
    )
    first.join(timeout=90)
    httpx.delete(f"{fresh_now_sim.url}/admin/faults")
    assert chat.status_code == 200, chat.text
    assert chat.json()["message"]
    assert answers["investigate"].status_code == 200
    assert answers["investigate"].json()["status"] == "partial"


def sim_process(port: int) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "resync"), "sim", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen([*command, "--jobs", "120", "--seed", "7"], cwd=ROOT, stdout=subprocess.DEVNULL)


def resync_serve(data_dir: Path, port: int, sim_port: int, **extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "TWS_BASE_URL": f"http://127.0.0.1:{sim_port}",
        "TWS_USERNAME": "admin",
        "TWS_PASSWORD": "admin",
        "TWS_READ_TIMEOUT": "5",
        "EMBEDDINGS": "hashing",
        "API_KEYS": f"{hash_key(OPERATOR)}:operator:ops",
        "LOG_LEVEL": "WARNING",
        "WATCH_INTERVAL_SECONDS": "0",
        "APPROVAL_RECOVERY_INTERVAL_SECONDS": "1",
        **extra,
    }
    command = [str(Path(sys.executable).parent / "resync"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = (data_dir / "server.log").open("ab")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)


def server_log(data_dir: Path) -> str:
    path = data_dir / "server.log"
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


def up(port: int) -> bool:
    return engine_ok(port, seconds=120, key=OPERATOR)


def approval_for_rerun(base: str) -> dict[str, Any]:
    headers = {"X-API-Key": OPERATOR}
    reply = httpx.post(
        f"{base}/api/v2/chat", json={"message": "rerun PAYROLL_NIGHTLY"}, headers=headers, timeout=60
    ).json()
    assert reply["pending_approval"], reply
    return httpx.get(f"{base}/api/v2/approvals/{reply['pending_approval']}", headers=headers, timeout=10).json()


def test_a_server_killed_mid_write_leaves_no_approval_without_an_outcome(tmp_path: Path) -> None:
    sim_port, port = free_port(), free_port()
    sim = sim_process(sim_port)
    server = resync_serve(tmp_path, port, sim_port)
    data = tmp_path / "pg"
    try:
        assert up(port), server_log(tmp_path)
        base = f"http://127.0.0.1:{port}"
        approval = approval_for_rerun(base)
        rule = {"path_prefix": "/twsd/api/v2/plan/job", "method": "PUT", "latency_ms": 3000}
        httpx.put(f"http://127.0.0.1:{sim_port}/admin/faults", json={"rules": [rule]}).raise_for_status()

        def approve() -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server dies under it
                httpx.post(
                    f"{base}/api/v2/approvals/{approval['id']}/approve",
                    json={"justification": "input file resent"},
                    headers={"X-API-Key": OPERATOR},
                    timeout=30,
                )

        writer = threading.Thread(target=approve)
        writer.start()
        time.sleep(1.5)  # the write is at the engine now
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        writer.join(timeout=30)
        time.sleep(2.5)  # the engine finishes the write it was given
        httpx.delete(f"http://127.0.0.1:{sim_port}/admin/faults")
        with psycopg.connect(f"postgresql://postgres:@/postgres?host={data}") as conn:
            status = conn.execute("SELECT status FROM approvals WHERE id = %s", (approval["id"],)).fetchone()
        assert status == ("executing",)  # what the killed server left behind

        server = resync_serve(tmp_path, port, sim_port)
        assert up(port)
        deadline, current = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            current = httpx.get(
                f"{base}/api/v2/approvals/{approval['id']}", headers={"X-API-Key": OPERATOR}, timeout=10
            ).json()
            if current["status"] not in {"executing", "approved"}:
                break
            time.sleep(0.5)
        writes = [e for e in httpx.get(f"http://127.0.0.1:{sim_port}/admin/audit").json() if e["action"] == "rerun"]
        assert len(writes) <= 1
        assert current["status"] == ("done" if writes else "unknown"), current
        assert "reconciled" in current["reason"] or "in flight" in current["reason"]
        # the killed server's handle was pruned: the embedded PostgreSQL stops with its last user
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        assert not postgres_running_on(data)
    finally:
        for process in (server, sim):
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def postmaster_pid(data: Path) -> int:
    return int((data / "postmaster.pid").read_text().split()[0])


def test_postgresql_killed_or_stopped_heals_without_a_restart(tmp_path: Path) -> None:
    sim_port, port = free_port(), free_port()
    sim = sim_process(sim_port)
    server = resync_serve(tmp_path, port, sim_port)
    data = tmp_path / "pg"
    base, headers = f"http://127.0.0.1:{port}", {"X-API-Key": OPERATOR}

    def approvals() -> tuple[int, float]:
        started = time.monotonic()
        reply = httpx.get(f"{base}/api/v2/approvals", headers=headers, timeout=60)
        return reply.status_code, time.monotonic() - started

    try:
        assert up(port), server_log(tmp_path)
        assert approvals()[0] == 200
        # killed: answered 503 at once, then healed by the server itself
        pid = postmaster_pid(data)
        subprocess.run(["pkill", "-KILL", "-P", str(pid)], check=False)
        os.kill(pid, signal.SIGKILL)
        code, seconds = approvals()
        assert code in {200, 503} and seconds < 10
        deadline = time.monotonic() + 30
        while approvals()[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert approvals()[0] == 200, "the server heals once PostgreSQL is back"
        # stopped (SIGSTOP): nobody waits past the outage answer; continued: healed
        pid = postmaster_pid(data)
        subprocess.run(["pkill", "-STOP", "-P", str(pid)], check=False)
        os.kill(pid, signal.SIGSTOP)
        try:
            code, seconds = approvals()
            assert code == 503 and seconds < 20, (code, seconds)
        finally:
            os.kill(pid, signal.SIGCONT)
            subprocess.run(["pkill", "-CONT", "-P", str(pid)], check=False)
        deadline = time.monotonic() + 30
        while approvals()[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert approvals()[0] == 200
        health = httpx.get(f"{base}/api/health/full", headers=headers, timeout=30).json()
        assert health["dependencies"]["postgresql"]["status"] == "ok"
    finally:
        for process in (server, sim):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
