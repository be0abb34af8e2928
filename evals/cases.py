"""End-to-end evaluation cases (JSONL in ``evals/datasets/``) and the datasets there.

A case: ``{"id", "turns": [...], "language", "query_type", "tools": [...], "must": [fact...],
"must_not": [fact...], "split": "dev"|"heldout", "tags": [...]}`` — the last turn is judged, earlier
turns build the thread. ``tools`` is the expected tool trajectory (a subset the run must call);
facts are resolved against the scheduler when the case runs (``evals.facts``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

DATASETS = Path(__file__).resolve().parent / "datasets"


class Case(BaseModel):
    id: str
    turns: list[str] = Field(min_length=1)
    language: Literal["pt", "en"]
    query_type: str
    tools: list[str] = Field(default_factory=list)
    must: list[dict[str, Any]] = Field(default_factory=list)
    must_not: list[dict[str, Any]] = Field(default_factory=list)
    split: Literal["dev", "heldout"] = "dev"
    tags: list[str] = Field(default_factory=list)
    role: Literal["viewer", "operator", "admin"] = "operator"


def dataset_path(name: str) -> Path:
    return DATASETS / f"{name}.jsonl"


def datasets() -> dict[str, int]:
    """Every dataset in the folder with its number of cases (end-to-end and classifier sets)."""
    files = sorted(DATASETS.glob("*.jsonl"))
    return {p.stem: sum(1 for line in p.read_text(encoding="utf-8").splitlines() if line.strip()) for p in files}


def load_cases(name: str) -> list[Case]:
    path = dataset_path(name)
    if not path.is_file():
        raise LookupError(f"no dataset {name!r}; known: {', '.join(datasets())}")
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        data = json.loads(line)
        if "turns" not in data:
            raise ValueError(f"{path.name}:{number}: not an end-to-end case (a classifier set?)")
        cases.append(Case.model_validate(data))
    return cases
