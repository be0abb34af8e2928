"""Simulator at scale: build a 100,000-job plan and time filtered, paginated queries over real HTTP.

Run: ``make bench`` (or ``.venv/bin/python -m bench.sim_scale --jobs 100000``). Prints numbers only.
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from hwasim import SimConfig, build_plan, create_app
from tests.live import LiveServer


def timed(http: httpx.Client, params: dict[str, object], repeat: int) -> tuple[float, dict[str, object]]:
    samples, body = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        response = http.get("/twsd/api/v2/plan/job", params=params)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        body = response.json()
    return statistics.median(samples), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    started = time.perf_counter()
    plan = build_plan(42, args.jobs)
    build_s = time.perf_counter() - started
    print(f"plan: {len(plan.jobs)} jobs, {len(plan.streams)} job streams built in {build_s:.2f} s")

    config = SimConfig(jobs=args.jobs, clock="manual")
    with (
        LiveServer(create_app(config, plan)) as server,
        httpx.Client(base_url=server.url, auth=("admin", "admin"), timeout=120) as http,
    ):
        cases = {
            "ABEND filter, limit=100": {"oql": "jobruns.compositeStatus.status = 'ABEND'", "limit": 100},
            "ABEND filter, 3rd page": {"oql": "jobruns.compositeStatus.status = 'ABEND'", "limit": 100, "offset": 200},
            "name LIKE, limit=100": {"oql": "name LIKE 'PAYROLL@'", "limit": 100},
            "no filter, offset=50000": {"limit": 100, "offset": 50_000},
            "AND/OR + ORDER BY": {
                "oql": "(workstation = '/AGT1' OR workstation = '/AGT2') AND jobOptions.critical = true "
                "ORDER BY schedTime DESC",
                "limit": 100,
            },
        }
        for name, params in cases.items():
            median, body = timed(http, params, args.repeat)
            print(f"{name:28s} median {median * 1000:8.1f} ms  count={body.get('count')}  page={len(body['results'])}")


if __name__ == "__main__":
    main()
