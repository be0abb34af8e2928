"""Replicas, not only workers: two ``resync serve`` processes on ports of their own (standing for two
hosts) share one external PostgreSQL — the machine's PostgreSQL 15 (Debian 12 has no pgvector package for it:
documents fall back to full-text search, as health says) — and one Redis, and
behave as one service: one leader for the sync and the watcher with a takeover when it dies, the
rate limit counted once for both, a revoked key refused by both at once, a conversation continued on
the other replica, and an approval decided on both at the same moment executed once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from server.keys import create_key, hash_key
from tests.apiclient import V2
from tests.live import LiveServer
from tests.test_approvals_api import audit
from tests.test_cli import free_port
from tools.store.access import revoke_key
from tools.store.db import open_pool

ROOT = Path(__file__).resolve().parents[1]
LEADS = "this process leads {}"
LED = ("resync:kg-sync", "resync:watch", "resync:prune", "resync:approvals")
PROBE = "replicas-probe-key-123"  # a static key (API_KEYS) for the readiness probe


class Replica:
    """One ``resync serve`` process and its log."""

    def __init__(self, name: str, env: dict[str, str], data: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data / f"{name}.log"
        command = [
            str(Path(sys.executable).parent / "resync"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        sink = self.log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env={**env, "DATA_DIR": str(data / name)}, stdout=subprocess.DEVNULL, stderr=sink
        )

    def leads(self, name: str) -> bool:
        return LEADS.format(name) in self.log.read_text(errors="replace")

    def ready(self, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"replica on {self.port} exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if self.get("/api/v2/system/health").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        pytest.fail(f"replica on {self.port} never answered: {self.log.read_text(errors='replace')[-2000:]}")

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", headers={"X-API-Key": PROBE}, timeout=5)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # never leave a server behind
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
def replicas(
    pg15_url: str, session_redis: Any, fresh_now_sim: LiveServer, tmp_path: Path
) -> Iterator[tuple[Replica, Replica]]:
    env = {
        **os.environ,
        "DATABASE_URL": pg15_url,
        "REDIS_URL": session_redis.url,
        "TWS_BASE_URL": fresh_now_sim.url,
        "TWS_USERNAME": "admin",
        "TWS_PASSWORD": "admin",
        "EMBEDDINGS": "hashing",
        "KG_SYNC_INTERVAL_SECONDS": "5",  # also how often a follower tries to take the lead
        "WATCH_INTERVAL_SECONDS": "5",
        "RATE_LIMIT_PER_MINUTE": "30",
        "API_KEYS": f"{hash_key(PROBE)}:viewer:probe",
        "LOG_LEVEL": "INFO",
    }
    started: list[Replica] = []
    try:
        for name in ("a", "b"):  # the first migrates; the second finds the schema done
            started.append(Replica(name, env, tmp_path))
            started[-1].ready()
        yield started[0], started[1]
    finally:
        for replica in started:
            replica.stop()


def wait_for(check: Any, seconds: float, what: str) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            pytest.fail(f"not within {seconds} s: {what}")
        time.sleep(0.1)
    return time.monotonic() - started


async def test_two_replicas_on_one_database_behave_as_one_service(
    replicas: tuple[Replica, Replica], pg15_url: str, fresh_now_sim: LiveServer
) -> None:
    a, b = replicas
    for work in LED:
        wait_for(lambda: a.leads(work) or b.leads(work), 30, f"someone leads {work}")  # noqa: B023
    await asyncio.sleep(6)  # a follower tries every 5 s: a second leader would show by now
    for work in LED:
        assert [a.leads(work), b.leads(work)].count(True) == 1, work
    assert "full-text search only" in a.get("/api/health/full").text  # the machine's PostgreSQL, as it is

    pool = await open_pool(pg15_url)
    try:
        keys = {role: (await create_key(pool, role, f"{role}-replicas"))[2] for role in ("viewer", "operator", "admin")}
        doomed_id, _, doomed = await create_key(pool, "viewer", "leaving-replicas")
        headers = {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}
        async with httpx.AsyncClient(timeout=60) as http:
            # the rate limit is one budget for both replicas (30 a minute per key): 20 requests to
            # each, and each refuses some although it saw fewer than 30
            codes: dict[str, list[int]] = {a.url: [], b.url: []}
            began = time.monotonic()
            for _ in range(20):
                for replica in (a, b):
                    sent = await http.get(f"{replica.url}{V2}/jobs/failed", headers=headers["viewer"])
                    codes[replica.url].append(sent.status_code)
            answered = codes[a.url] + codes[b.url]
            refilled = int((time.monotonic() - began) / 2) + 1  # one request back every 2 s
            assert 30 <= answered.count(200) <= 30 + refilled and 429 in answered, codes
            assert 429 in codes[a.url] and 429 in codes[b.url], codes

            # a key revoked anywhere is refused by both at once (each remembered it)
            doomed_headers = {"Authorization": f"Bearer {doomed}"}
            for replica in (a, b):
                assert (await http.get(f"{replica.url}{V2}/system/health", headers=doomed_headers)).status_code == 200
            assert await revoke_key(pool, doomed_id)
            for replica in (a, b):
                deadline = time.monotonic() + 2
                while (await http.get(f"{replica.url}{V2}/system/health", headers=doomed_headers)).status_code != 401:
                    assert time.monotonic() < deadline, f"{replica.url} still accepts a revoked key"
                    await asyncio.sleep(0.05)

            # a conversation started on one replica is continued on the other
            asked = await http.post(
                f"{a.url}{V2}/chat", json={"message": "por que o PAYROLL_NIGHTLY falhou?"}, headers=headers["operator"]
            )
            assert asked.status_code == 200, asked.text
            thread = asked.json()["thread_id"]
            followed = await http.post(
                f"{b.url}{V2}/chat",
                json={"message": "e o log dele?", "thread_id": thread},
                headers=headers["operator"],
            )
            assert followed.status_code == 200, followed.text
            assert followed.json()["entities"]["jobs"] == ["PAYROLL_NIGHTLY"], followed.json()
            assert followed.json()["query_type"] == "logs" and "Log do PAYROLL_NIGHTLY" in followed.json()["message"]

            # an approval decided on both replicas at the same moment is executed once
            proposed = await http.post(
                f"{b.url}{V2}/chat",
                json={"message": "rerun BILLING_INVOICE_GEN", "thread_id": thread},
                headers=headers["operator"],
            )
            approval = proposed.json()["pending_approval"]
            assert approval, proposed.text
            decisions = await asyncio.gather(
                *(
                    http.post(
                        f"{replica.url}{V2}/approvals/{approval}/approve",
                        json={"justification": "DBA cleared the lock"},
                        headers=headers["admin"],
                    )
                    for replica in (a, b)
                )
            )
            assert sorted(d.status_code for d in decisions) == [200, 409], [d.text for d in decisions]
            assert audit(fresh_now_sim) == ["rerun"]
            shown = await http.get(f"{a.url}{V2}/approvals/{approval}", headers=headers["admin"])
            assert shown.json()["status"] == "done"
    finally:
        await pool.close()

    # the leader dies without a word: the other replica takes the sync and the watcher over
    leader, follower = (a, b) if a.leads("resync:kg-sync") else (b, a)
    leader.stop(signal.SIGKILL)
    took = wait_for(lambda: follower.leads("resync:kg-sync") and follower.leads("resync:watch"), 20, "a takeover")
    assert took < 20
    assert follower.get("/api/v2/system/health").status_code == 200
    with psycopg.connect(pg15_url) as conn:  # both replicas wrote to the one database
        runs = conn.execute("SELECT count(*) FROM approvals WHERE status = 'done'").fetchone()
        assert runs == (1,)
