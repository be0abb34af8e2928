"""Accuracy of the offline classifier and F1 of its entities on the labelled query set.

Run: ``.venv/bin/python -m evals.classifier [--show-errors]``. Prints numbers and, on request,
every miss; never edit the dataset to fit the rules (the cases were written first).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

from graph.classifier import KnownNames, classify

DATASETS = Path(__file__).resolve().parent / "datasets"


def load_cases(path: Path = DATASETS / "queries.jsonl") -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def known_names(path: Path = DATASETS / "known_names.json") -> KnownNames:
    data = json.loads(path.read_text())
    return KnownNames(data["jobs"], data["job_streams"], data["workstations"])


def entity_pairs(entities: dict[str, Any]) -> set[tuple[str, str]]:
    pairs = set()
    for key, value in entities.items():
        if value in (None, [], ""):
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.add((key, str(item)))
    return pairs


def evaluate(cases: list[dict[str, Any]], known: KnownNames) -> dict[str, Any]:
    correct = lang_ok = tp = fp = fn = 0
    per_type: Counter[str] = Counter()
    per_type_ok: Counter[str] = Counter()
    misses = []
    for case in cases:
        result = classify(case["text"], known).as_output()
        per_type[case["query_type"]] += 1
        if result["query_type"] == case["query_type"]:
            correct += 1
            per_type_ok[case["query_type"]] += 1
        lang_ok += result["language"] == case["language"]
        expected, got = entity_pairs(case["entities"]), entity_pairs(result["entities"])  # type: ignore[arg-type]
        tp += len(expected & got)
        fp += len(got - expected)
        fn += len(expected - got)
        if result["query_type"] != case["query_type"] or expected != got:
            misses.append(
                {
                    "text": case["text"],
                    "want": case["query_type"],
                    "got": result["query_type"],
                    "missing": sorted(expected - got),
                    "extra": sorted(got - expected),
                }
            )
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "cases": len(cases),
        "query_type_accuracy": round(correct / len(cases), 3),
        "language_accuracy": round(lang_ok / len(cases), 3),
        "entity_precision": round(precision, 3),
        "entity_recall": round(recall, 3),
        "entity_f1": round(2 * precision * recall / (precision + recall), 3) if precision + recall else 0.0,
        "accuracy_by_type": {t: round(per_type_ok[t] / n, 2) for t, n in sorted(per_type.items())},
        "misses": misses,
    }


SETS = {"dev": "queries.jsonl", "holdout": "queries_holdout.jsonl"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    for name, file in SETS.items():
        if args.set not in {name, "all"}:
            continue
        report = evaluate(load_cases(DATASETS / file), known_names())
        misses = report.pop("misses")
        print(json.dumps({"set": name, **report}, indent=2))
        if args.show_errors:
            for miss in misses:
                print(json.dumps(miss, ensure_ascii=False))


if __name__ == "__main__":
    main()
