"""The simulated plan: deterministic from a seed, anchored at now, realistic mix, scale."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from hwasim import build_plan
from hwasim.fields import JOB_FIELDS
from hwasim.joblog import render
from hwasim.oql import OQLError, compile_oql
from hwasim.stdlists import kinds
from tests.conftest import ANCHOR


def fingerprint(seed: int) -> list[tuple[str, str, str, str, int | None]]:
    plan = build_plan(seed, 300, anchor=ANCHOR)
    return [(j.id, j.name, j.stream.name, j.status, j.last_run.return_code) for j in plan.jobs]


def test_same_seed_same_plan_other_seed_other_plan() -> None:
    assert fingerprint(42) == fingerprint(42)
    assert fingerprint(42) != fingerprint(7)


def test_plan_is_anchored_at_now_with_history_before() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    plan = build_plan(42, 300)
    assert abs((plan.now - now).total_seconds()) < 5
    days = Counter(j.stream.day for j in plan.jobs)
    assert days == {0: 100, 1: 100, 2: 100}
    history = [j for j in plan.jobs if j.stream.day > 0]
    assert all(j.sched_time < now - timedelta(hours=18) for j in history)
    assert Counter(j.status for j in history)["SUCC"] == len(history)  # earlier days ended complete
    assert any(len(j.runs) > 1 for j in history)  # …after reruns of their failures


@pytest.mark.parametrize("seed", [1, 42, 2026])
def test_operator_sees_the_whole_mix_from_the_start(seed: int) -> None:
    plan = build_plan(seed, 300, anchor=ANCHOR)
    today = Counter(j.status for j in plan.jobs if j.stream.day == 0)
    assert {"SUCC", "ABEND", "FAIL", "EXEC", "HOLD", "READY", "WAIT"} <= set(today), today
    assert any(not w.linked for w in plan.workstations)
    assert any(j.critical for j in plan.jobs)


def test_failures_have_matching_causes_in_their_logs() -> None:
    """Every failed run prints its failure kind's lines (in Portuguese on a pt_BR workstation) and
    exits with the kind's return code; a FAIL never started and has none."""
    plan = build_plan(42, 3000, anchor=ANCHOR)
    seen = set()
    for job in plan.jobs:
        for run in job.runs:
            if run.status not in {"ABEND", "FAIL"} or run.killed:
                continue
            kind = kinds()[run.outcome]
            text = "\n".join(render(job, run, plan.now) or [])
            decisive = {lines[-1].split("{")[0][:20] for lines in (kind.lines, kind.pt or kind.lines)}
            assert any(d in text for d in decisive), (kind.key, text)
            if run.status == "FAIL":
                assert kind.status == "FAIL" and run.return_code is None
            else:
                assert run.return_code == kind.rc
                assert f"= Exit Status : {'' if kind.rc is None else kind.rc}" in text
            seen.add(run.outcome)
    assert len(seen) >= 30, sorted(seen)


def test_clock_moves_jobs_through_their_states() -> None:
    plan = build_plan(42, 300, anchor=ANCHOR)
    waiting = [j for j in plan.jobs if j.last_run.substatus == "HOLD_WAITING_FOR_TIME" and j.workstation.linked]
    assert waiting
    job = waiting[0]
    plan.advance(job.sched_time + timedelta(seconds=1))
    assert job.status in {"EXEC", "FAIL"}
    plan.advance(job.sched_time + timedelta(days=1))
    assert job.status in {"SUCC", "ABEND", "FAIL", "PEND"}
    before = plan.now
    plan.advance(before - timedelta(hours=1))  # the clock never goes back
    assert plan.now == before


def test_sim_oql_errors_point_at_the_problem() -> None:
    for text, fragment in [
        ("name = ", "end of query"),
        ("name == 'X'", "column 7"),
        ("nome = 'X'", "unknown field 'nome'"),
        ("name = 'X' ORDER BY", "end of query"),
        ("name IN ['A', ]", "column"),
        ("name = 'unterminated", "column"),
    ]:
        with pytest.raises(OQLError, match=fragment):
            compile_oql(text, JOB_FIELDS)


def test_sim_oql_literal_escapes_keep_one_string() -> None:
    plan = build_plan(42, 30, anchor=ANCHOR)
    query = compile_oql(r"name = 'X\' OR name LIKE \'@'", JOB_FIELDS)
    assert not any(query.predicate(j) for j in plan.jobs)
    assert any(compile_oql("name LIKE '@'", JOB_FIELDS).predicate(j) for j in plan.jobs)


def test_large_plan_loads_and_filters() -> None:
    started = time.perf_counter()
    plan = build_plan(42, 20_000, anchor=ANCHOR)
    query = compile_oql("jobruns.compositeStatus.status = 'ABEND'", JOB_FIELDS)
    abended = [j for j in plan.jobs if query.predicate(j)]
    assert len(plan.jobs) == 19_998 and abended
    assert time.perf_counter() - started < 60  # a sanity bound, not a speed goal (see bench/)
