"""What every ``resync`` command shares: the error console and settings loaded without a traceback."""

from __future__ import annotations

import typer
from pydantic import ValidationError
from rich.console import Console

from .settings import Settings

errors = Console(stderr=True)


def load_settings() -> Settings:
    """Settings or a clear message and exit code 2 — never a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        errors.print("[bold red]Invalid settings:[/]")
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]).upper()
            errors.print(f"  {name}: {error['msg']} (got {error.get('input')!r})")
        raise typer.Exit(2) from None
