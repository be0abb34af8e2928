"""The diagnosis measured on stdlists it was not built on: ``datasets/diagnosis_heldout*.jsonl``,
realistic job logs written by helpers who had read none of our code or data (sets 1–3 have since
been read and tuned on; set 4 is untouched, the default). Accuracy, accuracy on hard cases, the
decisive line found, rerun-helps agreement, and precision/recall per category — with the same
``tools.diagnosis.diagnose`` the product runs.

Run: ``.venv/bin/python -m evals.diagnosis [--dataset diagnosis_heldout2] [--verbose]``.
"""

from __future__ import annotations

import argparse
import collections
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.diagnosis import diagnose

HELD_OUT = Path(__file__).parent / "datasets" / "diagnosis_heldout4.jsonl"


@dataclass
class Score:
    cases: int = 0
    right: int = 0
    hard: int = 0
    hard_right: int = 0
    with_decisive: int = 0  # cases whose writer named a decisive line
    decisive_found: int = 0
    rerun_agrees: int = 0
    confusion: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    misses: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.right / self.cases if self.cases else 0.0

    def per_category(self) -> dict[str, tuple[float, float]]:
        return precision_recall(self.confusion)


def precision_recall(confusion: collections.Counter[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    """category → (precision, recall), from (true, predicted) counts, for every true category."""
    out = {}
    for category in sorted({truth for truth, _ in confusion}):
        predicted = sum(n for (_, p), n in confusion.items() if p == category)
        actual = sum(n for (t, _), n in confusion.items() if t == category)
        hits = confusion[(category, category)]
        out[category] = (hits / predicted if predicted else 0.0, hits / actual if actual else 0.0)
    return out


def score(path: Path = HELD_OUT) -> Score:
    result = Score()
    for raw in path.read_text().splitlines():
        case: dict[str, Any] = json.loads(raw)
        found = diagnose(case["log"], case["status"], case["return_code"])
        ok = found.category == case["category"]
        result.cases += 1
        result.right += ok
        result.hard += case["difficulty"] == "hard"
        result.hard_right += ok and case["difficulty"] == "hard"
        line = found.line or ""
        result.with_decisive += bool(case["decisive"])
        wanted = case["decisive"]
        result.decisive_found += bool(line and wanted) and (wanted in line or line in wanted)
        result.rerun_agrees += found.rerun_helps == case["rerun_helps"]
        result.confusion[(case["category"], found.category)] += 1
        if not ok:
            result.misses.append(f"{case['id']}: {case['category']} read as {found.category} ({line[:80]!r})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Score tools.diagnosis on a held-out set of stdlists.")
    parser.add_argument("--dataset", default="diagnosis_heldout4", help="a name under evals/datasets/ or a path")
    parser.add_argument("--verbose", action="store_true", help="list the misses")
    args = parser.parse_args()
    path = Path(args.dataset)
    if not path.exists():
        path = HELD_OUT.parent / f"{args.dataset}.jsonl"
    if not path.exists():
        raise SystemExit(f"no such dataset: {args.dataset}")
    result = score(path)
    print(f"held-out stdlists: {result.cases} ({path.name})")
    print(f"accuracy {result.accuracy:.3f}; hard {result.hard_right}/{result.hard}")
    found = f"{result.decisive_found}/{result.with_decisive}"
    print(f"decisive line found {found}; rerun-helps agrees {result.rerun_agrees}/{result.cases}")
    for category, (precision, recall) in result.per_category().items():
        print(f"  {category:<14} precision {precision:.3f} recall {recall:.3f}")
    if args.verbose:
        print("\n".join(result.misses))


if __name__ == "__main__":
    main()
