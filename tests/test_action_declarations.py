"""The write actions' own rules, on job records as the engine returns them: a rerun only from the last
run of its chain, release-dependencies bound to the dependencies seen, the consequence each states."""

from __future__ import annotations

from typing import Any

import pytest

from tools.actions import ACTIONS, seen_state, unresolved_dependencies, what_changed
from tools.hwa import JobInPlan

pytestmark = pytest.mark.fast


def job(status: str, runs: list[dict[str, Any]] | None = None, deps: list[dict[str, Any]] | None = None) -> JobInPlan:
    data: dict[str, Any] = {
        "id": "J1",
        "name": "CRM_NOTIFY",
        "jobStreamName": "CRM_DAILY",
        "workstation": "AGT2",
        "priority": 10,
        "lastRunCompositeStatus": {"status": status},
        "jobruns": runs if runs is not None else [{"id": "R1", "lastInRerunChain": True, "returnCode": 8}],
    }
    if deps is not None:
        data["dependencies"] = deps
    return JobInPlan.model_validate(data)


def test_a_rerun_is_proposed_only_for_the_last_run_of_its_chain() -> None:
    assert ACTIONS["rerun"].check(job("ABEND")) is None
    rerun_already = job("ABEND", [{"id": "R1", "lastInRerunChain": False}, {"id": "R2", "lastInRerunChain": False}])
    assert "not the last in its rerun chain" in (ACTIONS["rerun"].check(rerun_already) or "")
    assert ACTIONS["rerun"].check(job("EXEC")) is not None


def test_release_dependencies_is_bound_to_the_dependencies_seen() -> None:
    waiting = job(
        "HOLD",
        deps=[
            {"dependencyType": "INTERNAL_JOB", "id": "D1", "satisfied": False, "dependencyStatus": "UNSATISFIED"},
            {"dependencyType": "FILE", "id": "D2", "satisfied": True, "dependencyStatus": "SATISFIED"},
        ],
    )
    assert unresolved_dependencies(waiting) == ["D1"]
    seen = seen_state(waiting)
    assert seen["unresolved_dependencies"] == ["D1"]
    released = job("HOLD", deps=[{"dependencyType": "INTERNAL_JOB", "id": "D1", "satisfied": True}])
    assert "no unresolved dependencies left" in (ACTIONS["release_dependencies"].check(released) or "")
    assert ACTIONS["release_dependencies"].applied(seen, released)
    # a dependency the requester did not see makes the approval stale; one resolved meanwhile does not
    grown = job(
        "HOLD",
        deps=[
            {"dependencyType": "INTERNAL_JOB", "id": "D1", "satisfied": False},
            {"dependencyType": "PROMPT", "id": "D3", "satisfied": False},
        ],
    )
    assert "D3" in (what_changed(seen, seen_state(grown)) or "")
    assert what_changed(seen, seen_state(waiting)) is None


def test_every_action_states_what_it_does_downstream() -> None:
    assert all(action.consequence for action in ACTIONS.values())
    assert "released at once" in ACTIONS["cancel"].consequence
    assert "NOT released" in ACTIONS["kill"].consequence
    assert "twice" in ACTIONS["rerun"].consequence
