"""``resync mcp``: the tool registry as an MCP server on stdin/stdout, as the caller whose API key is
in ``RESYNC_API_KEY`` (the same roles as over HTTP; a write creates a pending approval)."""

from __future__ import annotations

import asyncio
import os

import typer

from .cli_common import errors, load_settings


def mcp_command() -> None:
    """Serve the tools over MCP (stdio) for an MCP client such as an IDE or a desktop assistant."""
    from mcp.server.stdio import stdio_server

    from tools.hwa import HWAError
    from tools.store.db import DatabaseUnavailable

    from .compose import open_app
    from .mcp_tools import mcp_server

    key = os.environ.get("RESYNC_API_KEY", "").strip()
    if not key:
        errors.print("[bold red]set RESYNC_API_KEY to an API key (resync keys create --role viewer)[/]")
        raise typer.Exit(2)
    settings = load_settings()

    async def run() -> None:
        async with open_app(settings) as app:
            principal = await app.auth.lookup(key)
            if principal is None:
                errors.print("[bold red]RESYNC_API_KEY is not a valid (or is a revoked) API key[/]")
                raise typer.Exit(1)
            server = mcp_server(lambda: app, stdio_principal=principal)
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

    try:
        asyncio.run(run())
    except (DatabaseUnavailable, HWAError, RuntimeError) as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
