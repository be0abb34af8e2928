"""``resync classify`` and ``resync chat``: the graph from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from typing import Annotated, Any

import typer
from rich.console import Console

from .cli_common import errors, load_settings

console = Console()


def classify_command(
    text: Annotated[str, typer.Argument(help='the question, or "-" to read one question per line from stdin')],
) -> None:
    """Classify a question (query type, language, entities) and print JSON; "-" reads stdin."""
    from graph.classifier import classify
    from tools.hwa import HWAError
    from tools.store.db import DatabaseUnavailable

    settings = load_settings()

    async def run() -> list[dict[str, Any]]:
        names = await _known_names(settings)
        lines = sys.stdin.read().splitlines() if text == "-" else [text]
        return [classify(line, names).as_output() for line in lines if line.strip()]

    try:
        outputs = asyncio.run(run())
    except (DatabaseUnavailable, HWAError) as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    for output in outputs:
        sys.stdout.write(json.dumps(output, ensure_ascii=False) + "\n")


async def _known_names(settings: Any) -> Any:
    """The names the knowledge graph knows, read straight from its tables (no scheduler, no graph: a
    classification starts in well under a second); the whole application, which lists them from the
    scheduler, only when the graph was never synced."""
    from psycopg.errors import UndefinedTable

    from tools.store.db import database_url, open_pool, release_embedded
    from tools.store.kg import KnowledgeGraph

    embedded = None if settings.database_url else settings.data_dir / "pg"
    url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
    try:
        pool = await open_pool(url, min_size=1, max_size=1)
        try:
            jobs, streams, stations = await KnowledgeGraph(pool).names()
        except UndefinedTable:  # a database nothing has migrated yet
            jobs, streams, stations = [], [], []
        finally:
            await pool.close()
        if jobs:
            from graph.classifier import KnownNames

            return KnownNames(jobs, streams, stations)
        from .compose import known_names, open_app

        async with open_app(settings) as app:
            return await known_names(app)
    finally:
        if embedded is not None:
            release_embedded(embedded)


def chat_command(
    question: Annotated[str, typer.Argument(help="the question, in Portuguese or English")],
    thread: Annotated[str | None, typer.Option("--thread", help="continue this conversation")] = None,
    role: Annotated[str, typer.Option(help="viewer (default), operator or admin")] = "viewer",
    caller: Annotated[str, typer.Option(help="who is asking (audit)")] = "cli",
    prompt_version: Annotated[
        str | None, typer.Option(help="system prompt version (v1, v2); PROMPT_VERSION by default")
    ] = None,
) -> None:
    """Run the whole graph and stream the answer; --thread continues a conversation."""
    from graph.prompts import available_versions
    from tools.hwa import HWAError
    from tools.store.db import DatabaseUnavailable

    if role not in {"viewer", "operator", "admin"}:
        errors.print("--role must be viewer, operator or admin")
        raise typer.Exit(2)
    settings = load_settings()
    thread_id = thread or f"cli-{uuid.uuid4().hex[:8]}"
    version = prompt_version or settings.prompt_version
    if version not in available_versions():
        errors.print(f"unknown prompt version {version!r}; available: {', '.join(available_versions())}")
        raise typer.Exit(2)
    try:
        asyncio.run(_chat(settings, question, thread_id, caller, role, version))
    except (DatabaseUnavailable, HWAError) as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None


async def _graph_ready(app: Any) -> None:
    """A first ``resync chat`` on a fresh data folder syncs the knowledge graph from the scheduler
    before answering (the server's own sync keeps it fresh after that), and says so."""
    from tools.store.kg_sync import KnowledgeGraphSync

    kg = app.parts.kg
    if kg is None or (await kg.counts()).get("jobs", 0):
        return
    started = time.monotonic()
    await KnowledgeGraphSync(app.parts.client, kg).sync(full=True)
    jobs = (await kg.counts()).get("jobs", 0)
    errors.print(
        f"[dim]The knowledge graph was empty: synced it from the scheduler first ({jobs} jobs, "
        f"{time.monotonic() - started:.1f} s).[/]"
    )


async def _chat(settings: Any, question: str, thread_id: str, caller: str, role: str, version: str) -> None:
    """One turn through the runner the server uses (thread claim, rollback, waiting text), printed."""
    from graph.turns import ThreadNotYours, Turn

    from .compose import open_app

    async with open_app(settings) as app:
        await _graph_ready(app)
        try:
            thread_id = await app.turns.claim(thread_id, caller, role == "admin")
        except ThreadNotYours as exc:
            errors.print(f"[bold red]{exc}[/]")
            raise typer.Exit(1) from None
        context = app.turn_context(caller, role, prompt_version=version)  # as the server makes a turn's
        streamed = False
        async for event, data in app.turns.events(Turn(thread_id, context, question)):
            streamed |= event == "token"
            if event == "end" and not streamed:  # an answer nobody streamed (a write waiting for approval)
                sys.stdout.write(data["message"])
            show(event, data)
        errors.print(f"[dim]thread {thread_id}[/]")


def show(event: str, data: dict[str, Any]) -> None:
    """A turn's event on the terminal: the answer on stdout, the rest on stderr."""
    if event == "token":
        sys.stdout.write(data["text"])
        sys.stdout.flush()
    elif event == "tool_call" and data.get("status") != "started":
        errors.print(f"[dim]tool {data['name']} → {data['status']}[/]")
    elif event == "reset":  # what the model streamed is not the answer
        errors.print(f"\n[yellow]the model's reply was unusable ({data.get('reason')}); the composed answer:[/]")
    elif event == "approval_request":
        errors.print(f"[yellow]Approval needed[/] ({data['approval_id']}): {data['action_requests'][0]['description']}")
    elif event == "end":
        sys.stdout.write("\n")
        sys.stdout.flush()


__all__ = ["chat_command", "classify_command"]
