"""``resync serve`` and ``resync keys create|list|revoke``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from tools.store.db import DatabaseUnavailable, Pool, database_url, open_pool
from tools.store.migrate import upgrade

from .cli_common import errors, load_settings
from .settings import Settings

T = TypeVar("T")

keys_app = typer.Typer(help="API keys of the HTTP API.", no_args_is_help=True)


def serve_command(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="worker processes (one simulator, one graph sync, shared limits)")
    ] = 1,
) -> None:
    """Run the HTTP API, the WebSocket and the chat page (with every default: embedded PostgreSQL,
    the simulator, the offline model, Redis if reachable)."""
    import uvicorn

    from .app import configure_logging, create_app
    from .protocol import BoundedHttpProtocol
    from .workers import shared_database, shared_simulator

    settings = load_settings()
    configure_logging(settings.log_level)
    errors.print(
        f"Resync on http://{host}:{port}/ (API docs at /docs); scheduler "
        f"{settings.tws_base_url or f'built-in simulator on {settings.sim_host}:{settings.sim_port}'}"
        + (f"; {workers} workers" if workers > 1 else ""),
        soft_wrap=True,
    )
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=host,
            port=port,
            log_config=None,
            timeout_graceful_shutdown=5,
            http=BoundedHttpProtocol,
        )
        return
    try:
        with shared_simulator(settings), shared_database(settings):
            uvicorn.run(
                "server.workers:worker_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_config=None,
                timeout_graceful_shutdown=5,
                http=BoundedHttpProtocol,
            )
    except (RuntimeError, DatabaseUnavailable) as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None


async def _on_database(settings: Settings, work: Callable[[Pool], Awaitable[T]]) -> T:
    url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
    pool = await open_pool(url)
    try:
        await upgrade(pool)
        return await work(pool)
    finally:
        await pool.close()


def _run_on_database(work: Callable[[Pool], Awaitable[T]]) -> T:
    """Run ``work`` on the server's database (same DATA_DIR / DATABASE_URL); a clear message when down."""
    settings = load_settings()
    try:
        return asyncio.run(_on_database(settings, work))
    except DatabaseUnavailable as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="viewer, operator or admin")] = "viewer",
    name: Annotated[str, typer.Option(help="who it is for: unique among active keys (default <role>-<random>)")] = "",
) -> None:
    """Create an API key; prints only the key (stored hashed; it cannot be shown again). Its id and
    name go to stderr."""
    if role not in {"viewer", "operator", "admin"}:
        errors.print("--role must be viewer, operator or admin")
        raise typer.Exit(2)
    from tools.store.access import KeyNameTaken

    from .keys import create_key

    try:
        key_id, key_name, key = _run_on_database(lambda pool: create_key(pool, role, name or None))
    except (KeyNameTaken, ValueError) as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(2) from None
    errors.print(f"key {key_id} ({key_name}, {role})")
    print(key)


@keys_app.command("list")
def keys_list() -> None:
    """Every key: id, name, role, created, revoked (never the key or its hash)."""
    from tools.store.access import list_keys

    rows = _run_on_database(list_keys)
    for row in rows:
        revoked = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        print(f"{row['id']}\t{row['name']}\t{row['role']}\tcreated {row['created_at']:%Y-%m-%d %H:%M}\t{revoked}")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="the key's id (resync keys list)")]) -> None:
    """Revoke a key: it stops working at its next request (open WebSockets at their next message)."""
    from tools.store.access import revoke_key

    row = _run_on_database(lambda pool: revoke_key(pool, key_id))
    if row is None:
        errors.print(f"[bold red]no key with id {key_id}[/] (resync keys list)")
        raise typer.Exit(1)
    print(f"revoked key {row['id']} ({row['name']}, {row['role']})")
