"""What every ``resync`` command shares: the error console and settings loaded without a traceback."""

from __future__ import annotations

import re

import typer
from pydantic import ValidationError
from rich.console import Console

from .settings import Settings

SECRET_SETTING = re.compile(r"PASSWORD|API_KEY|SECRET|TOKEN", re.IGNORECASE)

errors = Console(stderr=True)


def load_settings() -> Settings:
    """Settings or a clear message and exit code 2 — never a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        errors.print("[bold red]Invalid settings:[/]")
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]).upper()
            from tools.cache import masked_url  # only on a bad setting: the CLI starts without Redis's client

            given = "***" if SECRET_SETTING.search(name) else masked_url(str(error.get("input")))
            errors.print(f"  {name}: {error['msg']} (got {given!r})", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from None
