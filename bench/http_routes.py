"""Cached read routes against a bare FastAPI route, with wrk (one worker each, loopback, same run):
``GET /api/v2/jobs/failed`` and ``GET /api/v2/system/health`` answered from the Redis cache, with
a real API key, against ``bench.bare_app``'s hello. Prints requests/s and the ratio to the bare route.

Run: ``.venv/bin/python -m bench.http_routes [--seconds 5] [--connections 8]`` (needs ``wrk``:
``apt-get install wrk``; Redis on 127.0.0.1:6379). The rate limit is off for the measured server
(``RATE_LIMIT_PER_MINUTE=0``; one key at thousands of requests a second is over any real limit);
``--rate-limit N`` measures with it on.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from evals.bench import free_port

KEY = "rsk_bench_viewer_key"


@contextlib.contextmanager
def serving(
    command: list[str], url: str, env: dict[str, str], headers: dict[str, str], log: Path | None = None
) -> Iterator[None]:
    """The command running until the block ends, once ``url`` answers 200 (its stderr into ``log``)."""
    sink = open(log, "w") if log else subprocess.PIPE  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=sink, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, headers=headers, timeout=5).status_code == 200:
                    break
            if process.poll() is not None:
                detail = process.stderr.read() if process.stderr else (log.read_text() if log else "")
                raise SystemExit(f"{command[0]} ended: {detail[-2000:]}")
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer 200 in 90 s")
            time.sleep(0.3)
        yield
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        if process.poll() is None:
            process.kill()
        if log:
            sink.close()  # type: ignore[union-attr]


def wrk(url: str, seconds: int, connections: int, key: str | None = None) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    if key:
        command[1:1] = ["-H", f"X-API-Key: {key}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} error responses\n{out}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise SystemExit(f"wrk printed no rate:\n{out}")
    return float(found.group(1))


def main(seconds: int, connections: int, rate_limit: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk")
    python = sys.executable
    bare_port, port, sim_port = free_port(), free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    bare = [python, "-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port), "--log-level", "warning"]
    bare_url = f"http://127.0.0.1:{bare_port}/hello"
    with serving(bare, bare_url, env, {}):
        wrk(bare_url, 1, connections)  # warm
        bare_rate = wrk(bare_url, seconds, connections)
    folder = tempfile.mkdtemp(prefix="resync-bench-http-")
    env |= {
        "DATA_DIR": folder,
        "SIM_PORT": str(sim_port),
        "API_KEYS": f"{hashlib.sha256(KEY.encode()).hexdigest()}:viewer:bench",
        "RATE_LIMIT_PER_MINUTE": str(rate_limit),
        "LOG_LEVEL": "WARNING",
        "CACHE_TTL_JOB_STATUS": "3600",  # every measured request a hit
    }
    resync = [str(Path(python).parent / "resync"), "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    headers = {"X-API-Key": KEY}
    routes = ["/api/v2/jobs/failed", "/api/v2/system/health"]
    print(f"wrk -t1 -c{connections} -d{seconds}s, one uvicorn worker each; rate limit {rate_limit or 'off'}")
    print(f"bare FastAPI hello: {bare_rate:8.0f} req/s")
    with serving(resync, f"{base}/api/health/full", env, headers):
        for route in routes:
            httpx.get(base + route, headers=headers, timeout=30).raise_for_status()  # fills the cache
            wrk(base + route, 1, connections, KEY)
            rate = wrk(base + route, seconds, connections, KEY)
            print(f"GET {route:<22} {rate:8.0f} req/s = {rate / bare_rate:.2f}× the bare route")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rate-limit", type=int, default=0)
    args = parser.parse_args()
    main(args.seconds, args.connections, args.rate_limit)
