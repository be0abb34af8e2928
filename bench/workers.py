"""Chat throughput with several workers: ``resync serve --workers 1`` against ``--workers 2`` on this
machine, ``POST /api/v2/chat`` (a troubleshooting question, a new thread each time) from wrk with 8
connections; prints turns/s, the ratio, how many full knowledge-graph syncs each start made, and the p99
of a turn with 50 concurrent chats (``--crowd``).

Run: ``.venv/bin/python -m bench.workers [--seconds 10] [--connections 8] [--crowd 50]`` (needs ``wrk``; Redis).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.bench import free_port

from .http_routes import KEY, serving

SCRIPT = """
wrk.method = "POST"
wrk.body = '{"message": "why did PAYROLL_NIGHTLY fail?"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "%s"
"""


def chat_rate(url: str, seconds: int, connections: int, script: Path) -> tuple[float, float]:
    """Turns a second and the p99 latency in ms."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rate, p99 = None, None
    for line in out.splitlines():
        if "Non-2xx" in line:
            raise SystemExit(f"errors under load:\n{out}")
        if line.startswith("Requests/sec:"):
            rate = float(line.split()[1])
        if line.strip().startswith("99%"):
            p99 = milliseconds(line.split()[1])
    if rate is None or p99 is None:
        raise SystemExit(f"wrk printed no rate or p99:\n{out}")
    return rate, p99


def milliseconds(text: str) -> float:
    """wrk's '812.34ms', '1.02s' or '950.00us' in ms."""
    for unit, factor in (("ms", 1.0), ("us", 0.001), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    raise ValueError(text)


def one(workers: int, seconds: int, connections: int, script: Path, crowd: int) -> tuple[float, int, float]:
    """Turns/s with ``connections``, full syncs at start, and the p99 (ms) with ``crowd`` connections."""
    folder = Path(tempfile.mkdtemp(prefix="resync-bench-workers-"))
    port, sim_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(folder),
        "SIM_PORT": str(sim_port),
        "API_KEYS": f"{hashlib.sha256(KEY.encode()).hexdigest()}:viewer:bench",
        "RATE_LIMIT_PER_MINUTE": "0",
        "LOG_LEVEL": "INFO",
    }
    log = folder / "server.log"
    command = [str(Path(sys.executable).parent / "resync"), "serve", "--port", str(port), "--workers", str(workers)]
    with serving(command, f"http://127.0.0.1:{port}/api/health/full", env, {"X-API-Key": KEY}, log):
        # every worker up, the start-up sync and harvest done: they are not part of the measure
        # (one worker runs the simulator in-process, which logs its start-up too)
        expected = workers if workers > 1 else 2

        def ready() -> bool:
            text = log.read_text()
            return "synced in full" in text and text.count("Application startup complete") >= expected

        deadline = time.monotonic() + 120
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.5)
        started = log.read_text().count("Application startup complete")
        if started < expected:
            raise SystemExit(f"{started} of {workers} workers started:\n{log.read_text()[-6000:]}")
        url = f"http://127.0.0.1:{port}/api/v2/chat"
        chat_rate(url, 2, connections, script)  # warm every worker
        rate, _ = chat_rate(url, seconds, connections, script)
        _, p99 = chat_rate(url, seconds, crowd, script)
    syncs = log.read_text().count("knowledge graph synced in full")
    shutil.rmtree(folder, ignore_errors=True)
    return rate, syncs, p99


def main(seconds: int, connections: int, crowd: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    script = Path(tempfile.mkdtemp()) / "chat.lua"
    script.write_text(SCRIPT % KEY)
    print(f"POST /api/v2/chat, wrk -c{connections} -d{seconds}s, {os.cpu_count()} cores")
    single, single_syncs, single_p99 = one(1, seconds, connections, script, crowd)
    print(f"1 worker : {single:6.1f} turns/s ({single_syncs} full sync at start); p99 {single_p99:.0f} ms at -c{crowd}")
    double, double_syncs, double_p99 = one(2, seconds, connections, script, crowd)
    print(
        f"2 workers: {double:6.1f} turns/s = {double / single:.2f}× one ({double_syncs} full sync at start); "
        f"p99 {double_p99:.0f} ms at -c{crowd}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--crowd", type=int, default=50, help="concurrent chats for the p99")
    args = parser.parse_args()
    main(args.seconds, args.connections, args.crowd)
