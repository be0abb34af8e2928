"""Knowledge-graph sync at scale (issue 27, item 1): a full sync of a simulator plan of N jobs over HTTP
(the simulator in a process of its own, as an engine is), then an incremental sync after the plan's
clock moved on (about 1% of the jobs change), into a fresh embedded PostgreSQL. Prints the time, the
detail GETs, the rows changed and the sync's own peak memory.

Run: ``.venv/bin/python -m bench.sync_scale [--jobs 100000] [--step-seconds 600]``
(``--page-size``, ``--filtered-page``: the sync's page sizes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

from tools.hwa import HWAClient, HWAClientConfig
from tools.store.db import embedded_url, open_pool
from tools.store.kg import KnowledgeGraph
from tools.store.kg_sync import KnowledgeGraphSync
from tools.store.migrate import upgrade


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def simulator(jobs: int) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "server.cli", "sim", "--jobs", str(jobs), "--clock", "manual", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/admin/status", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the simulator did not start: {process.stderr.read() if process.stderr else ''}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="resync-bench-sync-"))
    server = embedded_url(root / "pg")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CREATE DATABASE bench_sync")
    pool = await open_pool(server.replace("/postgres?", "/bench_sync?"))
    await upgrade(pool)
    with simulator(args.jobs) as url:
        config = HWAClientConfig(url, "admin", "admin", read_timeout=60, max_retries=2)
        async with HWAClient(config) as client:
            sync = KnowledgeGraphSync(
                client, KnowledgeGraph(pool), page_size=args.page_size, filtered_page=args.filtered_page
            )
            before = rss_mib()
            report = await sync.sync(full=True)
            print(
                f"full sync of {args.jobs} jobs: {report.seconds:.1f} s, {report.details_fetched} detail GETs, "
                f"{report.changed} rows; peak RSS +{rss_mib() - before:.0f} MiB"
            )
            async with httpx.AsyncClient(base_url=url, timeout=60) as admin:
                stepped = await admin.post("/admin/clock/step", json={"seconds": args.step_seconds})
                stepped.raise_for_status()
            report = await sync.sync(full=False)
            print(
                f"incremental after {args.step_seconds:.0f} s of plan time: {report.seconds:.1f} s, "
                f"{report.details_fetched} detail GETs, {report.changed} rows changed"
            )
    await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--step-seconds", type=float, default=600)
    parser.add_argument("--page-size", type=int, default=1000, help="jobs per page of a whole-plan list")
    parser.add_argument("--filtered-page", type=int, default=5000, help="jobs per page of a filtered list")
    asyncio.run(main(parser.parse_args()))
