"""The ``resync`` command."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from .cli_common import errors, load_settings
from .cli_diagnose import diagnose_command
from .cli_eval import eval_app
from .cli_graph import chat_command, classify_command
from .cli_mcp import mcp_command
from .cli_serve import keys_app, serve_command
from .cli_store import db_app, docs_app, kg_app
from .cli_watch import watch_command

app = typer.Typer(
    help="Resync: AI operations assistant for IBM Workload Scheduler / HCL Workload Automation.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(kg_app, name="kg")
app.add_typer(docs_app, name="docs")
app.command("classify")(classify_command)
app.command("chat")(chat_command)
app.command("diagnose")(diagnose_command)
app.command("serve")(serve_command)
app.command("watch")(watch_command)
app.command("mcp")(mcp_command)
app.add_typer(keys_app, name="keys")
app.add_typer(eval_app, name="eval")
console = Console()


@app.command()
def sim(
    host: Annotated[str, typer.Option(help="address to bind (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="port (31115 is the HWA HTTP port)")] = 31115,
    jobs: Annotated[int, typer.Option(min=1, max=1_000_000, help="job instances in the plan")] = 300,
    seed: Annotated[int, typer.Option(help="seed of the generated plan")] = 42,
    days: Annotated[int, typer.Option(min=1, max=14, help="production days (today and earlier)")] = 3,
    clock: Annotated[
        str, typer.Option(help="real (follows wall time) or manual (stepped via /admin/clock/step)")
    ] = "real",
) -> None:
    """Run the HWA REST v2 simulator on its own, serving /twsd/api/v2/..."""
    import uvicorn

    from hwasim import SimConfig, banner, create_app, plan_for

    if clock not in {"real", "manual"}:
        errors.print(f"--clock must be real or manual, not {clock!r}")
        raise typer.Exit(2)
    try:
        config = SimConfig(jobs=jobs, seed=seed, days=days, clock=clock)
    except ValidationError as exc:
        errors.print(f"[bold red]Invalid simulator settings:[/] {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    plan = plan_for(config)
    server = uvicorn.Server(uvicorn.Config(create_app(config, plan), host=host, port=port, log_level="warning"))
    console.print(banner(host, port, config, plan), highlight=False, soft_wrap=True)
    server.run()
    if not server.started:
        errors.print(f"[bold red]Could not start the simulator on {host}:{port}[/] (port in use?)")
        raise typer.Exit(1)


@app.command("validate-config")
def validate_config() -> None:
    """Check every setting and every reachable dependency; exit 1 on a blocking problem."""
    from .checks import run_checks

    settings = load_settings()
    checks = asyncio.run(run_checks(settings))
    table = Table(title="Resync configuration", show_lines=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("detail", overflow="fold")
    colours = {"OK": "green", "WARN": "yellow", "FAIL": "bold red"}
    for check in checks:
        table.add_row(check.name, f"[{colours[check.level]}]{check.level}[/]", check.detail)
    console.print(table)
    blocking = [c for c in checks if c.blocking]
    if blocking:
        console.print(f"[bold red]{len(blocking)} blocking problem(s):[/] {', '.join(c.name for c in blocking)}")
        raise typer.Exit(1)
    console.print("[green]Configuration OK[/]")


def main() -> None:  # pragma: no cover - console entry point
    sys.exit(app())


if __name__ == "__main__":  # python -m server.cli (how serve --workers starts the simulator)
    main()
