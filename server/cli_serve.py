"""``resync serve`` and ``resync keys create``."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from tools.store.db import DatabaseUnavailable, database_url, open_pool
from tools.store.migrate import upgrade

from .cli_common import errors, load_settings

keys_app = typer.Typer(help="API keys of the HTTP API.", no_args_is_help=True)


def serve_command(
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Run the HTTP API, the WebSocket and the chat page (with every default: embedded PostgreSQL,
    the simulator, the offline model, Redis if reachable)."""
    import uvicorn

    from .app import configure_logging, create_app

    settings = load_settings()
    configure_logging(settings.log_level)
    errors.print(
        f"Resync on http://{host}:{port}/ (API docs at /docs); scheduler "
        f"{settings.tws_base_url or f'built-in simulator on {settings.sim_host}:{settings.sim_port}'}",
        soft_wrap=True,
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, timeout_graceful_shutdown=5)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="viewer, operator or admin")] = "viewer",
    name: Annotated[str, typer.Option(help="who the key is for")] = "",
) -> None:
    """Create an API key; prints only the key (stored hashed; it cannot be shown again)."""
    if role not in {"viewer", "operator", "admin"}:
        errors.print("--role must be viewer, operator or admin")
        raise typer.Exit(2)
    settings = load_settings()

    from .keys import create_key

    async def run() -> str:
        url = await asyncio.to_thread(database_url, settings.database_url, settings.data_dir / "pg")
        pool = await open_pool(url)
        try:
            await upgrade(pool)
            return await create_key(pool, role, name or f"{role}-key")
        finally:
            await pool.close()

    try:
        print(asyncio.run(run()))
    except DatabaseUnavailable as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
