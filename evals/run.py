"""An evaluation run: every variant on the same cases as a LangSmith experiment (``aevaluate``),
kept locally when offline (no upload, no background tracing), uploaded when ``LANGSMITH_API_KEY``
is set; then the report."""

from __future__ import annotations

import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langsmith import Client
from langsmith.evaluation import aevaluate
from langsmith.schemas import Example

from graph.models.factory import make_chat_model
from graph.variants import Variant, load_variant
from server.settings import Settings

from . import report
from .bench import Bench, bench
from .cases import Case, load_cases
from .evaluators import EVALUATORS, judge
from .facts import resolve_all
from .interleave import measure

REPORTS = Path(__file__).resolve().parent / "reports"


def uploading() -> bool:
    return bool(os.environ.get("LANGSMITH_API_KEY"))


async def examples(cases: list[Case], bench_: Bench) -> list[Example]:
    """Each case with its facts resolved on the scheduler as it is now; a case whose premise the plan
    does not hold today (a job with no instance that day, no run with a return code) is left out and
    named on stderr."""
    out = []
    for case in cases:
        try:
            must = [e.as_dict() for e in await resolve_all(bench_.app.parts.client, case.must)]
            must_not = [e.as_dict() for e in await resolve_all(bench_.app.parts.client, case.must_not)]
        except LookupError as exc:
            print(f"case {case.id} left out: {exc}", file=sys.stderr)
            continue
        out.append(
            Example(
                id=uuid.uuid5(uuid.NAMESPACE_URL, f"resync-eval:{case.id}"),
                inputs={"case": case.id, "turns": case.turns},
                outputs={
                    "query_type": case.query_type,
                    "language": case.language,
                    "tools": case.tools,
                    "must": must,
                    "must_not": must_not,
                    "known": sorted(bench_.known),
                    "turns": case.turns,
                },
                metadata={"split": case.split, "tags": case.tags},
                dataset_id=uuid.uuid5(uuid.NAMESPACE_URL, "resync-eval"),
                created_at=datetime.now(UTC),
            )
        )
    return out


def judge_for(bench_: Bench, variant: Variant) -> Any:
    """The judge model (``EVAL_JUDGE_MODEL``), or None: none is configured, or it is the model under test."""
    settings = bench_.app.settings
    if not settings.eval_judge_model:
        return None
    tested = bench_.app.parts_for(variant).chat_model
    base_url = settings.eval_judge_base_url or settings.openai_base_url
    if (
        getattr(tested, "model_name", None) == settings.eval_judge_model
        and (getattr(tested, "openai_api_base", None) or settings.openai_base_url) == base_url
    ):
        print(f"variant {variant.name} is not judged: the judge is the model under test", file=sys.stderr)
        return None
    return make_chat_model(settings.eval_judge_model, base_url=base_url, api_key=settings.openai_key, temperature=0.0)


async def experiment(
    bench_: Bench,
    cases: list[Case],
    data: list[Example],
    variant: Variant,
    repetitions: int,
    prefix: str,
    measured: dict[tuple[str, str], list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    """One variant as a LangSmith experiment; ``measured``: its outputs, already run interleaved with
    the other variants' (offline), else the graph runs here (uploading: its traces join the experiment)."""
    by_id = {case.id: case for case in cases}

    async def target(inputs: dict[str, Any]) -> dict[str, Any]:
        if measured is not None:
            return measured[(variant.name, inputs["case"])].pop(0)
        return await bench_.run(by_id[inputs["case"]], variant)

    evaluators: list[Any] = list(EVALUATORS)
    grader = judge_for(bench_, variant)
    if grader is not None:
        evaluators.append(judge(grader, traced=uploading()))
    client = Client(auto_batch_tracing=False) if not uploading() else Client()
    results = await aevaluate(
        target,
        data=data,
        evaluators=evaluators,
        experiment_prefix=f"{prefix}-{variant.name}",
        num_repetitions=repetitions,
        max_concurrency=1,
        upload_results=uploading(),
        client=client,
    )
    rows: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    async for result in results:
        case_id = (result["example"].inputs or {})["case"]
        counts[case_id] = counts.get(case_id, 0) + 1
        outputs = result["run"].outputs or {}
        metrics = {r.key: r.score for r in result["evaluation_results"]["results"]}
        comments = {r.key: r.comment for r in result["evaluation_results"]["results"] if r.comment}
        rows.append(
            {
                "case": case_id,
                "variant": variant.name,
                "repetition": counts[case_id],
                "split": by_id[case_id].split,
                "metrics": metrics,
                "comments": comments,  # what a check missed or found (e.g. the facts not stated)
                "answer": outputs.get("answer", ""),
                "query_type": outputs.get("query_type"),
                "trajectory": outputs.get("trajectory"),
                "error": str(result["run"].error) if result["run"].error else None,
            }
        )
    return rows


async def run(
    dataset: str,
    variants: list[str],
    repetitions: int = 1,
    out: Path | None = None,
    settings: Settings | None = None,
    split: str | None = None,
) -> Path:
    """Run the variants on the dataset (optionally one split); the report's path."""
    if not uploading():
        os.environ.setdefault("LANGSMITH_TRACING", "false")
        os.environ.setdefault("LANGCHAIN_TRACING_V2", "false")
    chosen = [load_variant(name) for name in variants]
    cases = [c for c in load_cases(dataset) if split is None or c.split == split]
    if not cases:
        raise LookupError(f"dataset {dataset} has no {split} cases")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    folder = out or REPORTS / stamp
    rows: list[dict[str, Any]] = []
    async with bench(settings) as opened:
        data = await examples(cases, opened)
        kept = {str((e.inputs or {})["case"]) for e in data}
        # offline, every run first, interleaved (no variant gains from going first); uploading, each
        # experiment runs its own graph so its traces are attached
        measured = (
            None if uploading() else await measure(opened, [c for c in cases if c.id in kept], chosen, repetitions)
        )
        for variant in chosen:
            rows += await experiment(opened, cases, data, variant, repetitions, f"{dataset}-{stamp}", measured)
        configured = opened.app.parts.chat_model
        assert configured is not None
        models = {v.name: v.model_label(configured) for v in chosen}
    return report.write(folder, dataset, [v.name for v in chosen], rows, repetitions, models)
