"""The simulator's production days, through its real API where it has one: a configurable start of
day, steady per-job durations (Mondays, month end, a few drifting), slow nights that make streams
with deadlines late for a recorded reason, prompts replied to and resources limited as the spec
defines them."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import httpx
import pytest

from hwasim import Plan, SimConfig, build_plan, create_app
from hwasim.durations import is_month_end, late, profile
from tests.live import LiveServer

AUTH = ("admin", "admin")
ANCHOR = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)  # the history holds a month end (Nov 30 – Dec 2)


@pytest.fixture(scope="module")
def fortnight() -> Plan:
    return build_plan(42, 300 * 14, anchor=ANCHOR, days=14)


def successful(plan: Plan, name: str) -> dict[int, int]:
    """day → duration of the job's successful first run that day (earlier days only)."""
    out = {}
    for job in plan.jobs:
        if job.name == name and job.stream.day > 0 and job.runs[0].status == "SUCC":
            out[job.stream.day] = job.runs[0].duration_s
    return out


def test_a_job_takes_about_the_same_time_every_ordinary_day(fortnight: Plan) -> None:
    plan = fortnight
    steady = 0
    names = sorted({j.name for j in plan.jobs if j.stream.name.endswith("_DAILY")})
    for name in names:
        shape = profile(name, 42)
        if shape.drift_per_day or shape.monday != 1.0 or shape.month_end != 1.0:
            continue
        runs = list(successful(plan, name).values())
        if len(runs) >= 8:
            spread = (max(runs) - min(runs)) / statistics.median(runs)
            assert spread < 0.5, (name, runs)
            steady += 1
    assert steady >= 5


def test_month_end_is_heavier_for_the_books_and_drifting_jobs_slow_down(fortnight: Plan) -> None:
    plan = fortnight
    heavier = drifting = 0
    for name in sorted({j.name for j in plan.jobs}):
        shape, runs = profile(name, 42), successful(plan, name)
        ends = [d for d in runs if is_month_end((ANCHOR - timedelta(hours=18, days=d)).date())]
        ordinary = [d for d in runs if d not in ends and (ANCHOR - timedelta(hours=18, days=d)).weekday() != 0]
        if shape.month_end > 1.5 and ends and len(ordinary) >= 3:
            assert min(runs[d] for d in ends) > statistics.median(runs[d] for d in ordinary), name
            heavier += 1
        if shape.drift_per_day and len(ordinary) >= 6:
            recent, old = min(ordinary), max(ordinary)  # fewer days ago = more recent
            assert runs[recent] > runs[old], (name, runs)
            drifting += 1
    assert heavier >= 3 and drifting >= 1


@pytest.mark.parametrize(("anchor_hour", "expected_date"), [(22, "2026-12-06"), (4, "2026-12-05")])
def test_the_production_day_starts_when_configured(anchor_hour: int, expected_date: str) -> None:
    anchor = ANCHOR.replace(hour=anchor_hour)
    plan = build_plan(42, 300, anchor=anchor, days=2, day_start=time(6, 0))
    assert plan.builder.today_start.isoformat() == f"{expected_date}T06:00:00+00:00"
    today = [s for s in plan.streams if s.day == 0]
    assert min(s.sched_time for s in today) >= plan.builder.today_start
    assert SimConfig(day_start="06:00").start_of_day() == time(6, 0)
    with pytest.raises(ValueError):
        SimConfig(day_start="25:99")


@pytest.fixture
def sim() -> Iterator[LiveServer]:
    plan = build_plan(42, 300, anchor=ANCHOR, days=3)
    with LiveServer(create_app(SimConfig(users="admin:admin:rw,viewer:viewer:ro", clock="manual"), plan)) as server:
        yield server


def test_a_slow_night_makes_streams_with_deadlines_late_for_a_recorded_reason(sim: LiveServer) -> None:
    plan = sim.app.state.plan
    with httpx.Client(base_url=sim.url, timeout=10) as admin, httpx.Client(base_url=sim.url, auth=AUTH) as http:
        nights = admin.get("/admin/nights").json()
        assert nights["days"][0] == "2026-12-06" and len(nights["slow_nights"]) == 2
        tonight = next(n for n in nights["slow_nights"] if n["day"] == 0)
        assert tonight["workstation"] in tonight["cause"] and 2.0 <= tonight["factor"] <= 3.0 and tonight["streams"]
        late_today = [s for s in nights["late_streams"] if s["day"] == 0]
        assert len(late_today) >= 2
        shown = http.get(f"/twsd/api/v2/plan/jobstream/{late_today[0]['id']}").json()
        deadline = datetime.fromisoformat(shown["timeRestrictions"]["deadlineTime"].replace("Z", "+00:00"))
        assert deadline < plan.now
        if "actualEndTime" not in shown.get("timeInfo", {}):
            assert shown["jsStatusFlags"]["lateJobStream"] is True
    slow = {(n.day, name) for n in plan.builder.slow_nights for name in n.streams}
    ordinary = [s for s in plan.streams if s.deadline and s.day > 0 and (s.day, s.name) not in slow]
    assert sum(late(s, plan.now) for s in ordinary) <= len(ordinary) // 3  # a deadline is mostly met


def _job_due_later(http: httpx.Client) -> dict[str, object]:
    held = http.get("/plan/job", params={"oql": "jobruns.compositeStatus.status = 'HOLD'", "limit": 300}).json()
    return next(j for j in held["results"] if j["lastRunCompositeStatus"].get("substatus") == "HOLD_WAITING_FOR_TIME")


def test_a_prompt_is_replied_through_the_spec_api(sim: LiveServer) -> None:
    api = f"{sim.url}/twsd/api/v2"
    with httpx.Client(base_url=api, auth=AUTH) as http, httpx.Client(base_url=sim.url) as admin:
        job = _job_due_later(http)
        admin.post(f"/admin/job/{job['id']}/wait", json={"reason": "prompt"}).raise_for_status()
        prompt = next(
            d for d in http.get(f"/plan/job/{job['id']}").json()["dependencies"] if d["dependencyType"] == "PROMPT"
        )
        assert prompt["promptStatus"] == "ASKED"
        assert http.put("/plan/prompt/no-such-prompt/action/reply", json={"answer": True}).status_code == 404
        assert http.put(f"/plan/prompt/{prompt['id']}/action/reply", json={}).status_code == 400
        with httpx.Client(base_url=api, auth=("viewer", "viewer")) as viewer:
            assert viewer.put(f"/plan/prompt/{prompt['id']}/action/reply", json={"answer": True}).status_code == 403
        assert http.put(f"/plan/prompt/{prompt['id']}/action/reply", json={"answer": False}).status_code == 200
        after = http.get(f"/plan/job/{job['id']}").json()
        denied = next(d for d in after["dependencies"] if d["id"] == prompt["id"])
        assert denied["promptStatus"] == "ANSWERED_NO" and denied["dependencyStatus"] == "UNSATISFIED"
        assert after["lastRunCompositeStatus"]["substatus"] == "HOLD_WAITING_FOR_PROMPT"  # no keeps it waiting
        again = http.put(f"/plan/prompt/{prompt['id']}/action/reply", json={"answer": True})
        assert again.status_code == 400 and "not ASKED" in again.text
        audit = admin.get("/admin/audit").json()
        assert any(a["action"] == "reply" and a["outcome"] == "no" for a in audit)


def test_a_job_waits_for_a_resource_until_its_limit_is_raised(sim: LiveServer) -> None:
    with httpx.Client(base_url=f"{sim.url}/twsd/api/v2", auth=AUTH) as http, httpx.Client(base_url=sim.url) as admin:
        job = _job_due_later(http)
        admin.post(f"/admin/job/{job['id']}/wait", json={"reason": "resource"}).raise_for_status()
        admin.post("/admin/clock/step", json={"seconds": 86400}).raise_for_status()  # its time comes, no unit
        waiting = http.get(f"/plan/job/{job['id']}").json()
        assert waiting["lastRunCompositeStatus"]["status"] == "READY"
        assert waiting["lastRunCompositeStatus"]["substatus"] == "READY_WAITING_FOR_RESOURCES"
        need = next(d for d in waiting["dependencies"] if d["dependencyType"] == "RESOURCE")
        assert need["dependencyStatus"] == "UNSATISFIED" and need["totalQuantity"] == 0
        pools = http.get("/plan/resource", params={"oql": f"name = '{need['name']}'"}).json()["results"]
        assert [p["quantityAvailable"] for p in pools] == [0]
        assert (
            http.put(f"/plan/resource/{pools[0]['id']}/action/update-quantity", params={"quantity": -1}).status_code
            == 400
        )
        raised = http.put(f"/plan/resource/{pools[0]['id']}/action/update-quantity", params={"quantity": 1})
        assert raised.status_code == 200, raised.text
        moved = http.get(f"/plan/job/{job['id']}").json()["lastRunCompositeStatus"]
        assert moved["status"] in {"EXEC", "SUCC", "ABEND", "FAIL"}, moved
        if moved["status"] == "EXEC":
            held = http.get(f"/plan/resource/{pools[0]['id']}").json()
            assert [h["jobId"] for h in held["holders"]] == [job["id"]] and held["quantityAvailable"] == 0
        assert http.get("/plan/resource/nope").status_code == 404


def test_generated_jobs_queue_for_a_shared_connection_pool() -> None:
    """Resources are real limits in the generated plan: with one unit, no two holders overlap."""
    plan = build_plan(42, 3000, anchor=ANCHOR, days=3)
    pools = plan.builder.resources.values()
    assert pools
    for pool in pools:
        spans = sorted(
            (r.start, r.planned_end)
            for j in pool.users
            for r in j.runs
            if r.start and r.planned_end and r.status != "FAIL"
        )
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start >= end, pool.name
