"""``resync serve`` as an operator runs it: a restart within seconds finds its scheduler again (no
TIME_WAIT confusion), two servers on one machine share one built-in simulator, and SIGTERM leaves no
PostgreSQL running on the data folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server.keys import hash_key
from tests.test_cli import free_port
from tests.test_langgraph_dev import postgres_running_on

ROOT = Path(__file__).resolve().parents[1]
KEY = "lifecycle-viewer-key-123"


def serve(data_dir: Path, port: int, sim_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SIM_PORT": str(sim_port),
        "EMBEDDINGS": "hashing",
        "API_KEYS": f"{hash_key(KEY)}:viewer:watcher",
        "LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "resync"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def engine_ok(port: int, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            health = httpx.get(
                f"http://127.0.0.1:{port}/api/v2/system/health", headers={"X-API-Key": KEY}, timeout=5
            ).json()
            if health["details"]["engine"]["status"] == "ok":
                return True
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.3)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def test_restart_share_and_stop(tmp_path: Path) -> None:
    sim_port, first_port, second_port = free_port(), free_port(), free_port()
    first = serve(tmp_path, first_port, sim_port)
    try:
        assert engine_ok(first_port), "the first server never reached its scheduler"
        second = serve(tmp_path, second_port, sim_port)  # same machine, same simulator port, same data
        try:
            assert engine_ok(second_port), "the second server did not share the running simulator"
        finally:
            stop(second)
        assert engine_ok(first_port, 5)  # the simulator stayed with the process that started it
    finally:
        stop(first)
    restarted = serve(tmp_path, first_port, sim_port)  # within seconds: the old sockets are in TIME_WAIT
    try:
        assert engine_ok(restarted_port := first_port), f"no scheduler after a quick restart on {restarted_port}"
    finally:
        stop(restarted)
    deadline = time.monotonic() + 10
    while postgres_running_on(tmp_path / "pg") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not postgres_running_on(tmp_path / "pg"), "PostgreSQL kept running after SIGTERM"
