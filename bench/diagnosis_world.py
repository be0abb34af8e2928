"""How well the diagnosis (``tools.diagnosis.diagnose``) reads the simulator's world: every failure
kind, on each program family it occurs on, in English and (where the kind has one) pt_BR, with the
noise of twelve different runs. Prints accuracy, precision and recall per category and the confusion
matrix — the baseline the diagnosis work (issue 24) is measured against.

Run: ``.venv/bin/python -m bench.diagnosis_world``.
"""

from __future__ import annotations

import collections
import platform

from evals.diagnosis import precision_recall
from hwasim.stdlists import CATEGORIES, RunFacts, body, kinds
from tools.diagnosis import diagnose

RUNS_PER_VARIANT = 12


def cases() -> list[tuple[str, str, int | None, list[str]]]:
    """(true category, status, return code, stdlist body) for every kind × family × locale × run."""
    out = []
    for kind in kinds().values():
        for family in kind.platforms:
            for locale in ("en", "pt_BR") if kind.pt else ("en",):
                for n in range(RUNS_PER_VARIANT):
                    facts = RunFacts(
                        run_id=f"{kind.key}-{family}-{locale}-{n}",
                        job_name="BILLING_POST_LEDGER",
                        script="/opt/batch/billing/billing_post_ledger.sh",
                        user="batchusr",
                        workstation="AGT2" if locale == "pt_BR" else "AGT1",
                        platform=family,
                        locale=locale,
                        outcome=kind.key,
                        failed=True,
                        killed=False,
                        steps_done=0.5,
                        date="2026-12-05",
                    )
                    out.append((kind.category, kind.status, kind.rc, body(facts)))
    return out


def main() -> None:
    confusion: collections.Counter[tuple[str, str]] = collections.Counter()
    for truth, status, rc, lines in cases():
        confusion[(truth, diagnose("\n".join(lines), status, rc).category)] += 1
    total = sum(confusion.values())
    right = sum(n for (t, p), n in confusion.items() if t == p)
    print(f"machine: {platform.node()} ({platform.machine()}), {total} stdlists from {len(kinds())} failure kinds")
    print(f"accuracy: {right / total:.3f}")
    print(f"{'category':<14} {'precision':>9} {'recall':>7} {'n':>5}")
    scores = precision_recall(confusion)
    for category in CATEGORIES:
        precision, recall = scores.get(category, (0.0, 0.0))
        actual = sum(n for (t, _), n in confusion.items() if t == category)
        print(f"{category:<14} {precision:>9.3f} {recall:>7.3f} {actual:>5}")
    print("confusion (true → predicted: n):")
    for (truth, predicted), n in sorted(confusion.items()):
        if truth != predicted:
            print(f"  {truth:<14} → {predicted:<14} {n}")


if __name__ == "__main__":
    main()
