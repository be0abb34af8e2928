"""``resync eval``: datasets, variants, offline evaluation runs and the online A/B report."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from .cli_common import errors, load_settings

eval_app = typer.Typer(help="Evaluate answers: datasets, variants, offline runs, online A/B.", no_args_is_help=True)


@eval_app.command("datasets")
def eval_datasets() -> None:
    """Every dataset with its number of cases, one per line."""
    from evals.cases import datasets

    for name, size in datasets().items():
        print(f"{name}\t{size}")


@eval_app.command("variants")
def eval_variants() -> None:
    """Every variant name, one per line."""
    from graph.variants import variant_names

    for name in variant_names():
        print(name)


@eval_app.command("run")
def eval_run(
    dataset: Annotated[str, typer.Option(help="an end-to-end dataset (resync eval datasets)")] = "smoke",
    variant: Annotated[list[str] | None, typer.Option(help="a variant; repeat for an A/B (the first is A)")] = None,
    repetitions: Annotated[int, typer.Option(min=1, max=20, help="runs of each case per variant")] = 1,
    out: Annotated[Path | None, typer.Option(help="report folder (default evals/reports/<timestamp>)")] = None,
    split: Annotated[str | None, typer.Option(help="only dev or heldout cases")] = None,
) -> None:
    """Run the variants on the same cases (a seeded simulator on a manual clock); prints the report's
    path last."""
    from evals.run import run
    from graph.variants import variant_names

    variants = variant or ["baseline"]
    unknown = [v for v in variants if v not in variant_names()]
    if unknown:
        errors.print(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(variant_names())}")
        raise typer.Exit(2)
    if split not in {None, "dev", "heldout"}:
        errors.print("--split must be dev or heldout")
        raise typer.Exit(2)
    settings = load_settings()
    try:
        path = asyncio.run(run(dataset, variants, repetitions, out, settings, split))
    except (LookupError, ValueError, RuntimeError) as exc:
        errors.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None
    print(path)


@eval_app.command("online")
def eval_online(
    since: Annotated[str | None, typer.Option(help="ISO date or time, e.g. 2026-11-01")] = None,
) -> None:
    """Thumbs-up rate per live variant (95% intervals resampling users), whether the first two differ
    (a permutation test over users), and the configured variants that got no answers."""
    from evals.online import online_report

    from .compose import active_variants

    try:
        start = datetime.fromisoformat(since) if since else None
    except ValueError:
        errors.print(f"--since {since!r} is not an ISO date or time")
        raise typer.Exit(2) from None
    settings = load_settings()
    configured = [v.name for v in active_variants(settings)]
    print(asyncio.run(online_report(settings, start, configured)))
