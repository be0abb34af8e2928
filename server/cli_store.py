"""``resync db``, ``resync kg`` and ``resync docs``: the knowledge layer from the command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tools.store.db import DatabaseUnavailable, database_url, one_at_a_time, open_pool
from tools.store.migrate import current_version, upgrade

from .cli_common import errors, load_settings

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
kg_app = typer.Typer(help="The knowledge graph of the plan.", no_args_is_help=True)
docs_app = typer.Typer(help="Documents for retrieval (runbooks, manuals).", no_args_is_help=True)
console = Console()


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[bold red]{message}[/]")
    return typer.Exit(code)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the schema migrations not applied yet (also done at every start)."""
    settings = load_settings()

    async def run() -> tuple[list[str], int]:
        url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
        pool = await open_pool(url)
        try:
            applied = await upgrade(pool)
            return [f"{m.version:04d}_{m.name}" for m in applied], await current_version(pool)
        finally:
            await pool.close()

    try:
        applied, version = asyncio.run(run())
    except DatabaseUnavailable as exc:
        raise _fail(str(exc)) from None
    console.print(f"applied: {', '.join(applied) or 'nothing (up to date)'}; schema version {version}")


@db_app.command("prune")
def db_prune() -> None:
    """Delete what is past its retention (RETENTION_* settings): tool executions, idle conversations'
    checkpoints, answer runs and feedback, investigations. The server also does it every hour."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    from tools.store.retention import prune

    settings = load_settings()

    async def run() -> dict[str, object]:
        url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
        pool = await open_pool(url)
        try:
            await upgrade(pool)
            saver = AsyncPostgresSaver(pool)
            async with one_at_a_time(pool, "resync:checkpointer-setup"):
                await saver.setup()
            return (await prune(pool, saver, settings.retention())).as_dict()
        finally:
            await pool.close()

    try:
        report = asyncio.run(run())
    except DatabaseUnavailable as exc:
        raise _fail(str(exc)) from None
    console.print(", ".join(f"{key} {value}" for key, value in report.items()))


@kg_app.command("sync")
def kg_sync(
    incremental: Annotated[bool, typer.Option("--incremental", help="only fetch details of new objects")] = False,
) -> None:
    """Sync the knowledge graph, run history and incidents from the scheduler."""
    from tools.hwa import HWAError
    from tools.store.kg_sync import KnowledgeGraphSync

    from .compose import open_store, scheduler

    settings = load_settings()

    async def run() -> dict[str, object]:
        store = await open_store(settings, ingest_starter=False)
        try:
            async with scheduler(settings) as client:
                report = await KnowledgeGraphSync(client, store.kg).sync(full=not incremental)
                harvested = await store.incidents.harvest(client)
            return {**report.as_dict(), "incidents_recorded": harvested, "totals": await store.kg.counts()}
        finally:
            await store.close()

    try:
        result = asyncio.run(run())
    except (DatabaseUnavailable, HWAError) as exc:
        raise _fail(str(exc)) from None
    console.print_json(json.dumps(result))


@docs_app.command("ingest")
def docs_ingest(paths: Annotated[list[Path], typer.Argument(help="Markdown, text or PDF files, or folders")]) -> None:
    """Ingest documents (an unchanged file is a no-op, a changed one replaces its chunks)."""
    from .compose import open_store

    settings = load_settings()

    async def run() -> dict[str, object]:
        store = await open_store(settings, ingest_starter=False)
        try:
            report = await store.documents.ingest(paths)
            return {
                "ingested": report.ingested,
                "unchanged": report.unchanged,
                "skipped": report.skipped,
                "chunks": report.chunks,
                "embeddings": store.documents.embedder.description,
                "vectors": store.documents.vector_enabled or store.documents.vector_problem,
            }
        finally:
            await store.close()

    try:
        result = asyncio.run(run())
    except DatabaseUnavailable as exc:
        raise _fail(str(exc)) from None
    console.print_json(json.dumps(result))
    if result["skipped"]:
        raise _fail(f"{len(result['skipped'])} path(s) skipped (see 'skipped')")  # type: ignore[arg-type]


@docs_app.command("search")
def docs_search(query: str, k: Annotated[int, typer.Option("--limit", "-k", min=1, max=50)] = 5) -> None:
    """Hybrid (full-text + vector) search of the ingested documents."""
    from .compose import open_store

    settings = load_settings()

    async def run() -> list[dict[str, object]]:
        store = await open_store(settings)
        try:
            hits = await store.documents.search(query, k=k)
            return [
                {
                    "citation": h.citation,
                    "score": h.score,
                    "text_rank": h.text_rank,
                    "vector_rank": h.vector_rank,
                    "excerpt": h.content[:200],
                }
                for h in hits
            ]
        finally:
            await store.close()

    try:
        console.print_json(json.dumps(asyncio.run(run())))
    except DatabaseUnavailable as exc:
        raise _fail(str(exc)) from None
