"""What the server keeps doing while it serves, started by the lifespan: the knowledge-graph sync,
pruning past retention, the recovery pass over unanswered writes and the watcher — each led by one
process of all the workers and replicas (``tools.store.leader``) — and, in every process, reviving
the embedded PostgreSQL when it stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tools.services.watch import watch_periodically
from tools.store.db import revive_embedded
from tools.store.kg_sync import KnowledgeGraphSync, sync_periodically
from tools.store.leader import lead
from tools.store.retention import prune

from .chat import settle_unanswered_writes
from .compose import App, notifier_for, watcher_for
from .settings import Settings

log = logging.getLogger("resync")


async def _first_sync(sync: KnowledgeGraphSync, incidents: Any, client: Any) -> None:
    try:
        report = await sync.sync(full=True)
        await incidents.harvest(client)
        log.info(
            "knowledge graph synced in full: %d detail GETs in %.1f s; incident history harvested",
            report.details_fetched,
            report.seconds,
        )
    except Exception:  # the server serves without a fresh graph; the loop retries
        log.exception("initial knowledge-graph sync failed")


async def _every(stop: asyncio.Event, seconds: float, work: Callable[[], Awaitable[None]], failed: str) -> None:
    """``work`` every ``seconds`` until ``stop`` (after a first wait); a failure is logged and tried again."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
            return
        try:
            await work()
        except Exception:  # the next interval tries again
            log.exception(failed)


class Background:
    """The server's background work for one running application."""

    def __init__(self, running: App, settings: Settings) -> None:
        self.running, self.settings = running, settings
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        conninfo = str(self.running.store.pool.conninfo)
        retry = min(self.settings.kg_sync_interval_seconds, 15.0)
        led = [  # one process of all the workers does each
            ("resync:kg-sync", self.keep_the_graph_synced, retry),
            ("resync:prune", self.keep_within_retention, 60.0),
            ("resync:approvals", self.keep_approvals_answered, retry),
        ]
        if self.settings.watch_interval_seconds > 0:
            led.append(("resync:watch", self.watch, retry))
        self.tasks = [asyncio.create_task(lead(conninfo, name, work, every)) for name, work, every in led]
        self.tasks.append(asyncio.create_task(self.keep_the_embedded_database_up()))

    async def close(self) -> None:
        self.stop.set()
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def keep_the_graph_synced(self) -> None:
        """A full sync (and the incident history), then incremental ones."""
        parts = self.running.parts
        assert parts.kg is not None
        sync = KnowledgeGraphSync(parts.client, parts.kg)
        await _first_sync(sync, parts.incidents, parts.client)
        await sync_periodically(sync, self.settings.kg_sync_interval_seconds, self.stop, wait_first=True)

    async def keep_within_retention(self) -> None:
        async def prune_once() -> None:
            report = await prune(self.running.store.pool, self.running.saver, self.settings.retention())
            log.info("pruned past retention: %s", report.as_dict())

        await _every(self.stop, self.settings.prune_interval_seconds, prune_once, "pruning failed")

    async def keep_approvals_answered(self) -> None:  # at start, then every interval
        await settle_unanswered_writes(self.running, self.settings, self.stop)

    async def watch(self) -> None:
        running = self.running
        watcher = watcher_for(self.settings, running.parts.client, running.store)
        notifier = notifier_for(self.settings, running.store.pool)
        for _ in range(120):  # severity needs the graph: let the first sync land (up to a minute)
            if (await running.store.kg.counts())["jobs"] or self.stop.is_set():
                break
            await asyncio.sleep(0.5)
        after = notifier.after_pass if notifier else None
        await watch_periodically(watcher, self.settings.watch_interval_seconds, self.stop, after)

    async def keep_the_embedded_database_up(self) -> None:
        """Every process: whoever sees the embedded PostgreSQL dead starts it again."""
        folder = self.running.store.embedded_dir
        while folder is not None and not self.stop.is_set():
            try:
                if await asyncio.to_thread(revive_embedded, folder):
                    log.warning("the embedded PostgreSQL had stopped: started again in %s", folder)
            except Exception:  # the next look tries again
                log.warning("could not start the embedded PostgreSQL again", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=2.0)
