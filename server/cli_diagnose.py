"""``resync diagnose``: the diagnosis of a job log from a file or standard input, as one JSON object."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .cli_common import errors

MAX_LOG_BYTES = 10_000_000


def diagnose_command(
    source: Annotated[str, typer.Argument(help="a job log (stdlist) file, or - for standard input")] = "-",
    status: Annotated[str | None, typer.Option("--status", help="the run's status: ABEND or FAIL")] = None,
    rc: Annotated[int | None, typer.Option("--rc", help="the run's return code")] = None,
    language: Annotated[str, typer.Option("--language", help="en or pt")] = "en",
) -> None:
    """Print {category, line, line_number, meaning, rerun_helps, next_step, confidence} for a job log."""
    from tools.diagnosis import diagnose

    if status is not None and status.upper() not in {"ABEND", "FAIL"}:
        errors.print(f"--status must be ABEND or FAIL, not {status!r}")
        raise typer.Exit(2)
    if language not in {"en", "pt"}:
        errors.print(f"--language must be en or pt, not {language!r}")
        raise typer.Exit(2)
    try:
        raw = sys.stdin.buffer.read(MAX_LOG_BYTES + 1) if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        errors.print(f"cannot read {source}: {exc.strerror or exc}")
        raise typer.Exit(2) from None
    if len(raw) > MAX_LOG_BYTES:
        errors.print(f"the log is larger than {MAX_LOG_BYTES} bytes")
        raise typer.Exit(2)
    text = raw.decode("utf-8", errors="replace")
    found = diagnose(text, status.upper() if status else None, rc)
    print(json.dumps(found.as_json(language), ensure_ascii=False))
