"""Fan-out at injected scheduler latency: ``investigate`` and a troubleshooting turn against one
scheduler call, with the Redis cache cleared before each run (so every read goes to the engine).
Prints the ratio to one call and the scheduler requests each run sent.

Run: ``.venv/bin/python -m bench.fanout [--latency-ms 100] [--repeat 5]`` (Redis on 127.0.0.1:6379).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import httpx

from evals.bench import bench
from evals.cases import Case
from graph.variants import load_variant


async def main(latency_ms: int, repeat: int) -> None:
    async with bench() as opened:
        app = opened.app
        sent: list[str] = []

        async def count(request: httpx.Request) -> None:
            sent.append(f"{request.method} {request.url.path}")

        app.parts.client._http.event_hooks["request"].append(count)  # measurement only
        rule = {"path_prefix": "/twsd/api/v2/", "latency_ms": latency_ms}
        async with httpx.AsyncClient() as admin:  # the simulator runs on this event loop
            (await admin.put(f"{opened.sim_url}/admin/faults", json={"rules": [rule]})).raise_for_status()
        cache = app.cache

        async def timed(run: Any) -> tuple[float, int]:
            await cache.invalidate_pattern("tws:*")
            sent.clear()
            started = time.perf_counter()
            await run()
            return (time.perf_counter() - started) * 1000, len(sent)

        def median(samples: list[tuple[float, int]]) -> tuple[float, int]:
            return statistics.median(s[0] for s in samples), max(s[1] for s in samples)

        one = median([await timed(lambda: app.parts.client.find_jobs("PAYROLL_NIGHTLY")) for _ in range(repeat)])
        case = Case(id="bench", turns=["why did PAYROLL_NIGHTLY fail?"], language="en", query_type="troubleshoot")
        baseline = load_variant("baseline")
        runs = {
            "investigate_job_failure": lambda: app.orchestrator.investigate_job_failure("PAYROLL_NIGHTLY"),
            "troubleshooting turn": lambda: opened.run(case, baseline),
        }
        print(f"scheduler latency {latency_ms} ms; one call: {one[0]:.0f} ms")
        for name, run in runs.items():
            await run()  # warm the code paths (not the cache: it is cleared before each timed run)
            ms, requests = median([await timed(run) for _ in range(repeat)])
            print(f"{name}: {ms:.0f} ms = {ms / one[0]:.2f}× one call; {requests} scheduler requests")
        async with httpx.AsyncClient() as admin:
            await admin.delete(f"{opened.sim_url}/admin/faults")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.latency_ms, args.repeat))
