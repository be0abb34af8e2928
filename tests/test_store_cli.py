"""The knowledge layer as operators run it: resync db/kg/docs, first start, background sync,
and the embedded PostgreSQL shared by processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from server.compose import open_store
from server.settings import Settings
from tests.live import LiveServer
from tests.test_cli import free_port, run
from tools.hwa import HWAClient, HWAClientConfig
from tools.store.kg import KnowledgeGraph
from tools.store.kg_sync import KnowledgeGraphSync, SyncReport, sync_periodically
from tools.store.migrate import available

START_EMBEDDED = (
    "from pathlib import Path; import sys; from tools.store.db import embedded_url; "
    "print(embedded_url(Path(sys.argv[1])))"
)


def test_two_processes_start_the_embedded_server_at_once(tmp_path: Path) -> None:
    data = tmp_path / "pg"
    procs = [
        subprocess.Popen([sys.executable, "-c", START_EMBEDDED, str(data)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    urls = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs) and urls[0] == urls[1]
    # the server stopped with its last user; a new one restarts on the same data
    url = subprocess.run(
        [sys.executable, "-c", START_EMBEDDED, str(data)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert url == urls[0]


def test_db_upgrade_docs_and_kg_commands(tmp_path: Path, sim: LiveServer, pg_url: str) -> None:
    env = {"DATA_DIR": str(tmp_path), "EMBEDDINGS": "hashing", "DATABASE_URL": pg_url}  # a fresh database
    first = run(["db", "upgrade"], env)
    assert first.returncode == 0 and "0001_knowledge_graph" in first.stdout, first.stderr
    assert "nothing (up to date)" in run(["db", "upgrade"], env).stdout
    doc = tmp_path / "runbook.md"
    doc.write_text("# Payroll feed\n\nWhen PAYROLL_NIGHTLY cannot find employees.csv, call the HR feed team.\n")
    ingest = run(["docs", "ingest", str(doc)], env)
    assert ingest.returncode == 0 and json.loads(ingest.stdout)["chunks"] == 1
    assert json.loads(run(["docs", "ingest", str(doc)], env).stdout)["unchanged"] == [str(doc.resolve())]
    hits = json.loads(run(["docs", "search", "who to call when the employees file is missing", "-k", "1"], env).stdout)
    assert hits[0]["citation"] == "runbook.md › Payroll feed"
    bad = run(["docs", "ingest", str(tmp_path / "nope.md")], env)
    assert bad.returncode == 1 and "skipped" in bad.stderr and "Traceback" not in bad.stderr
    engine = {**env, "TWS_BASE_URL": sim.url, "TWS_USERNAME": "viewer", "TWS_PASSWORD": "viewer"}
    synced = json.loads(run(["kg", "sync"], engine).stdout)
    assert synced["totals"]["jobs"] == 300 and synced["incidents_recorded"] >= 5
    again = json.loads(run(["kg", "sync", "--incremental"], engine).stdout)
    assert again["changed"] == 0 and again["details_fetched"] == 0


def test_kg_sync_starts_the_built_in_simulator(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "SIM_PORT": str(free_port()), "SIM_JOBS": "60", "EMBEDDINGS": "hashing"}
    result = run(["kg", "sync"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["jobs"] == 60


def test_unreachable_database_is_a_message(tmp_path: Path) -> None:
    result = run(["db", "upgrade"], {"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"})
    assert (
        result.returncode == 1 and "cannot connect to PostgreSQL" in result.stderr and "Traceback" not in result.stderr
    )


async def test_first_start_ingests_the_starter_knowledge_once(embedded_pg: str, tmp_path: Path) -> None:
    from tests.conftest import _fresh_database

    url = _fresh_database(embedded_pg)
    settings = Settings(database_url=url, embeddings="hashing", data_dir=tmp_path)
    store = await open_store(settings)
    try:
        sources = await store.documents.sources()
        assert len(sources) == len(list(settings.knowledge_dir.glob("*.md")))
        hits = await store.documents.search("o que fazer quando a estação está desconectada")
        assert Path(hits[0].source).name == "estacoes-desconectadas.md"
    finally:
        await store.close()
    again = await open_store(settings)
    try:
        assert [s["ingested_at"] for s in await again.documents.sources()] == [s["ingested_at"] for s in sources]
    finally:
        await again.close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT max(version) FROM resync_schema_migrations").fetchone() == (
            available()[-1].version,
        )


async def test_background_sync_runs_until_stopped(fresh_sim: LiveServer, pool: Any) -> None:
    reports: list[SyncReport] = []
    stop = asyncio.Event()
    async with HWAClient(HWAClientConfig(fresh_sim.url, "viewer", "viewer")) as client:
        task = asyncio.create_task(
            sync_periodically(KnowledgeGraphSync(client, KnowledgeGraph(pool)), 0.2, stop, reports.append)
        )
        while len(reports) < 2:  # noqa: ASYNC110 - polling the reports the callback appends
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 5)
    assert reports[0].counts["jobs"].inserted == 300 and reports[1].changed == 0
