"""Cause categories of failed runs (the log wins over the return code) and the advice for each."""

from __future__ import annotations

import pytest

from tools.causes import cause_of

CASES = [
    ("ABEND", 12, ["ERROR: file not found: /data/in/payroll.csv"], "missing_input"),
    ("ABEND", 8, ["ERROR: database deadlock detected (SQLSTATE 40P01)"], "database"),
    ("ABEND", 1, ["ORA-00060: deadlock detected while waiting for resource"], "database"),
    ("ABEND", 28, [], "resource"),
    ("ABEND", 1, ["write failed: No space left on device"], "resource"),
    ("ABEND", 124, [], "timeout"),
    ("ABEND", 126, ["bash: ./load.sh: Permission denied"], "permission"),
    ("FAIL", None, [], "agent"),
    ("ABEND", 12, ["ERROR: Permission denied: /data/in/x.lock"], "permission"),  # the log wins over the code
    ("ABEND", 3, ["something odd"], "unknown"),
]


@pytest.mark.fast
@pytest.mark.parametrize(("status", "rc", "lines", "category"), CASES)
def test_cause_categories(status: str, rc: int | None, lines: list[str], category: str) -> None:
    cause = cause_of(status, rc, lines)
    assert cause.category == category and cause.evidence
    assert cause.next_step("pt") != cause.next_step("en")
