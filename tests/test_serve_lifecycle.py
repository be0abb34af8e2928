"""``resync serve`` as an operator runs it: a restart within seconds finds its scheduler again (no
TIME_WAIT confusion), two servers on one machine share one built-in simulator, and SIGTERM leaves no
PostgreSQL running on the data folder."""

from __future__ import annotations

import os
import signal
import socket
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


def serve(
    data_dir: Path, port: int, sim_port: int, workers: int = 1, log: Path | None = None
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SIM_PORT": str(sim_port),
        "EMBEDDINGS": "hashing",
        "API_KEYS": f"{hash_key(KEY)}:viewer:watcher",
        "LOG_LEVEL": "INFO" if log else "WARNING",
    }
    command = [str(Path(sys.executable).parent / "resync"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers)]
    sink = log.open("wb") if log else subprocess.DEVNULL
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=sink)


def engine_ok(port: int, seconds: float = 60, key: str = KEY) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            health = httpx.get(
                f"http://127.0.0.1:{port}/api/v2/system/health", headers={"X-API-Key": key}, timeout=5
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


def test_two_workers_share_one_simulator_one_sync_and_stop_cleanly(tmp_path: Path) -> None:
    """``--workers 2``: both workers answer, the graph is synced once (one leader of the advisory
    lock), and SIGTERM stops the workers, the simulator and PostgreSQL."""
    sim_port, port = free_port(), free_port()
    log = tmp_path / "serve.log"
    process = serve(tmp_path, port, sim_port, workers=2, log=log)
    try:
        assert engine_ok(port), "no scheduler behind two workers"
        deadline = time.monotonic() + 60

        def started() -> bool:
            text = log.read_text()
            return "knowledge graph synced in full" in text and text.count("Application startup complete") == 2

        while not started() and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(1)  # a second sync would have started by now
        text = log.read_text()
        assert text.count("Application startup complete") == 2  # two workers
        assert text.count("this process leads resync:kg-sync") == 1
        assert text.count("knowledge graph synced in full") == 1
        failed = httpx.get(f"http://127.0.0.1:{port}/api/v2/jobs/failed", headers={"X-API-Key": KEY}, timeout=10)
        assert failed.status_code == 200 and failed.json()["count"] > 0
    finally:
        stop(process)
    deadline = time.monotonic() + 10
    while postgres_running_on(tmp_path / "pg") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not postgres_running_on(tmp_path / "pg"), "PostgreSQL kept running after SIGTERM"
    with socket.socket() as probe:  # the simulator went with the server
        assert probe.connect_ex(("127.0.0.1", sim_port)) != 0
