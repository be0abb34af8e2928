"""``resync watch``: the watcher on its own (the server runs the same one in the background)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated

import typer

from .cli_common import errors, load_settings


def watch_command(
    once: Annotated[bool, typer.Option("--once", help="one pass, print its report, exit")] = False,
    interval: Annotated[
        float | None, typer.Option(min=1, help="seconds between passes (default WATCH_INTERVAL_SECONDS)")
    ] = None,
) -> None:
    """Investigate every new failed run and late job into investigation records (the knowledge graph
    is synced first). Without --once it keeps watching; with a server also watching, one of them
    does (an advisory lock) and the other waits to take over."""
    from tools.hwa import HWAError
    from tools.services.watch import watch_periodically
    from tools.store.db import DatabaseUnavailable
    from tools.store.kg_sync import KnowledgeGraphSync
    from tools.store.leader import lead

    from .compose import notifier_for, open_store, scheduler, watcher_for

    settings = load_settings()
    every = interval or settings.watch_interval_seconds or 60

    async def run() -> None:
        store = await open_store(settings, ingest_starter=False)
        try:
            async with scheduler(settings) as client:
                await KnowledgeGraphSync(client, store.kg).sync(full=True)
                await store.incidents.harvest(client)
                watcher = watcher_for(settings, client, store)
                notifier = notifier_for(settings, store.pool)
                after = notifier.after_pass if notifier else None
                if once:
                    report = await watcher.tick()
                    if after is not None:
                        await after(report)
                    found = await store.investigations.search(limit=20)
                    counts = {k: v for k, v in asdict(report).items() if k != "records"}
                    print(json.dumps({"report": counts, "latest": [_line(r) for r in found]}, default=str))
                    return
                errors.print(f"watching every {every:.0f} s (Ctrl-C to stop)")
                stop = asyncio.Event()

                async def watch() -> None:
                    await watch_periodically(watcher, every, stop, after)

                await lead(str(store.pool.conninfo), "resync:watch", watch, min(every, 15.0))
        finally:
            await store.close()

    try:
        asyncio.run(run())
    except (DatabaseUnavailable, HWAError) as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def _line(record: object) -> dict[str, object]:
    data = asdict(record)  # type: ignore[call-overload]
    keep = ("id", "job_name", "kind", "category", "severity", "root_run_id", "blocked_jobs", "next_step")
    return {k: data[k] for k in keep}
