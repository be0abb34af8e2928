"""The simulator's world as messy as production, through its real API: every failure kind's stdlist
(per program family, pt_BR workstations, noise that is not the cause), the true cause of every run
(admin API only), and staged incidents (``POST /admin/runs``) that live in the plan like generated runs."""

from __future__ import annotations

import collections
from typing import Any

import httpx
import pytest

from hwasim import build_plan
from hwasim.joblog import render
from hwasim.stdlists import CATEGORIES, kinds, locale_of
from tests.live import LiveServer

AUTH = ("admin", "admin")


def api(sim: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=f"{sim.url}/twsd/api/v2", auth=AUTH, timeout=10)


def newest_job(sim: LiveServer, name: str) -> dict[str, Any]:
    with api(sim) as http:
        found = http.get("/plan/job", params={"oql": f"name = '{name}'", "limit": 50}).json()["results"]
        job: dict[str, Any] = max(found, key=lambda j: j["schedTime"])
        return http.get(f"/plan/job/{job['id']}").json()


def test_the_catalogue_covers_every_category_with_forty_kinds() -> None:
    catalogue = kinds()
    assert len(catalogue) >= 40
    per_category = collections.Counter(k.category for k in catalogue.values())
    assert set(per_category) == set(CATEGORIES) and min(per_category.values()) >= 5, per_category
    assert {p for k in catalogue.values() for p in k.platforms} == {"unix", "windows", "dynamic", "sap", "zos"}
    assert sum(1 for k in catalogue.values() if k.pt) >= 6  # glibc/shell messages in Portuguese


def test_generated_failures_are_messy_and_deterministic() -> None:
    plan = build_plan(7, 2000, days=3, failure_rate=0.15)
    seen: collections.Counter[str] = collections.Counter()
    noisy = portuguese = jobmanrc = 0
    for job in plan.jobs:
        for run in job.runs:
            if run.status not in {"ABEND", "FAIL"} or run.killed:
                continue
            seen[run.outcome] += 1
            text = "\n".join(render(job, run, plan.now) or [])
            assert text == "\n".join(render(job, run, plan.now) or [])  # the same run, the same log
            noisy += "INFO  " in text
            portuguese += any(w in text for w in ("inexistente", "Permissão negada", "Não há espaço", "não concluído"))
            jobmanrc += "JOBMANRC" in text
            if locale_of(run.workstation) == "pt_BR" and kinds()[run.outcome].pt:
                assert "Locale LANG" not in text or "pt_BR" in text
    assert len(seen) >= 25, seen
    assert noisy and portuguese and jobmanrc


def test_every_kind_staged_prints_its_stdlist_and_its_true_cause(fresh_now_sim: LiveServer) -> None:
    names = {"unix": "PAYROLL_NIGHTLY", "dynamic": "PAYROLL_NIGHTLY"}
    with httpx.Client(base_url=fresh_now_sim.url, timeout=10) as admin, api(fresh_now_sim) as http:
        for kind in kinds().values():
            job = names.get(kind.platforms[0], "BILLING_INVOICE_GEN")
            made = admin.post("/admin/runs", json={"job": job, "kind": kind.key, "ended_minutes_ago": 5})
            assert made.status_code == 201, made.text
            run_id = made.json()["run_id"]
            log = http.get(f"/plan/job/run/{run_id}/joblog", headers={"Accept": "text/plain"}).text
            decisive = kind.lines[-1].split("{")[0][:25]
            assert decisive in log, (kind.key, log)
            truth = admin.get(f"/admin/runs/{run_id}").json()
            assert truth["cause"] == kind.category and truth["kind"] == kind.key and truth["status"] == kind.status
            assert truth["return_code"] == (None if kind.status == "FAIL" else kind.rc)


def test_a_staged_incident_lives_in_the_plan_like_a_generated_run(fresh_now_sim: LiveServer) -> None:
    stdlist = "Connecting to ledger\nORA-12154: TNS:could not resolve the connect identifier specified\n"
    with httpx.Client(base_url=fresh_now_sim.url, timeout=10) as admin:
        made = admin.post(
            "/admin/runs",
            json={
                "job": "BILLING_INVOICE_GEN",
                "status": "ABEND",
                "return_code": 8,
                "log": stdlist,
                "cause": "database",
                "ended_minutes_ago": 12,
            },
        )
        assert made.status_code == 201 and set(made.json()) == {"job_id", "run_id"}
        ids = made.json()
        job = newest_job(fresh_now_sim, "BILLING_INVOICE_GEN")
        assert job["id"] == ids["job_id"]
        last = [r for r in job["jobruns"] if r["lastInRerunChain"]]
        assert [r["id"] for r in last] == [ids["run_id"]] and last[0]["returnCode"] == 8
        assert job["lastRunCompositeStatus"]["status"] == "ABEND"
        with api(fresh_now_sim) as http:
            log = http.get(f"/plan/job/run/{ids['run_id']}/joblog", headers={"Accept": "text/plain"}).text
        assert "ORA-12154" in log and "= Exit Status : 8" in log and log.startswith("=")
        assert admin.get(f"/admin/runs/{ids['run_id']}").json()["cause"] == "database"
        # bad input is a clear 4xx
        assert admin.post("/admin/runs", json={"job": "NO_SUCH_JOB", "status": "ABEND"}).status_code == 404
        assert admin.post("/admin/runs", json={"job": "BILLING_INVOICE_GEN"}).status_code == 400
        assert admin.post("/admin/runs", json={"job": "X", "status": "BROKEN"}).status_code == 400
        assert admin.post("/admin/runs", json={"job": "X", "kind": "nope", "status": "ABEND"}).status_code == 400


@pytest.mark.parametrize("status", ["SUCC", "FAIL"])
def test_a_staged_end_releases_or_blocks_as_the_engine_does(fresh_now_sim: LiveServer, status: str) -> None:
    with httpx.Client(base_url=fresh_now_sim.url, timeout=10) as admin:
        made = admin.post("/admin/runs", json={"job": "BACKUP_DB_PROD", "status": status, "ended_minutes_ago": 1})
        truth = admin.get(f"/admin/runs/{made.json()['run_id']}").json()
    assert truth["status"] == status and truth["return_code"] == (0 if status == "SUCC" else None)
    job = newest_job(fresh_now_sim, "BACKUP_DB_PROD")
    assert job["lastRunCompositeStatus"]["status"] == status


def waiting_pair(plan: Any) -> tuple[Any, Any]:
    """(a job of today still waiting for a predecessor of its own, a successor whose only unmet
    dependency is that job)."""
    for job in plan.jobs:
        if job.stream.day != 0 or job.last_run.substatus != "HOLD_WAITING_FOR_PREDECESSOR":
            continue
        for successor in job.successors:
            unmet = [d for d in successor.deps if d.pred_job is not None and d.pred_job.last_run.status != "SUCC"]
            if [d.pred_job for d in unmet] == [job] and successor.status == "HOLD":
                return job, successor
    raise AssertionError("no waiting pair in the plan")


@pytest.mark.parametrize("verb", ["cancel", "cancel-pending"])
def test_a_cancel_releases_the_successors_unless_pend_was_asked(verb: str) -> None:
    """As in the engine (notes §6): a cancel without pend releases the dependents at once (they run
    without the job's output); cancel-pending waits until the job's own dependencies resolve."""
    from hwasim import SimConfig, create_app

    plan = build_plan(42, 300)
    job, successor = waiting_pair(plan)
    config = SimConfig(users="admin:admin:rw", jobs=300, seed=42, clock="manual")
    with LiveServer(create_app(config, plan)) as sim, api(sim) as http:
        http.put(f"/plan/job/{job.id}/action/{verb}", headers={"Justification-Description": "test"}).raise_for_status()
        after = http.get(f"/plan/job/{successor.id}").json()
        on_job = next(d for d in after["dependencies"] if d.get("jobId") == job.id)
        cancelled = http.get(f"/plan/job/{job.id}").json()["lastRunCompositeStatus"]
    if verb == "cancel":
        assert cancelled["canceled"] and on_job["dependencyStatus"] == "SATISFIED"
    else:
        assert cancelled.get("cancelPending") and on_job["dependencyStatus"] != "SATISFIED"


@pytest.mark.parametrize(
    ("reason", "substatus"),
    [
        ("operator", "HOLD_PRIORITY_ZERO"),
        ("time", "HOLD_WAITING_FOR_TIME"),
        ("file", "HOLD_WAITING_FOR_FILE"),
        ("prompt", "HOLD_WAITING_FOR_PROMPT"),
        ("predecessor", "HOLD_WAITING_FOR_PREDECESSOR"),
    ],
)
def test_a_job_waits_for_the_reason_it_is_given(fresh_now_sim: LiveServer, reason: str, substatus: str) -> None:
    """``POST /admin/job/{id}/wait``: the engine's own reason shows in the job's substatus; an ASKED
    prompt is answered and the job moves on."""
    with api(fresh_now_sim) as http, httpx.Client(base_url=fresh_now_sim.url, timeout=10) as admin:
        held = http.get("/plan/job", params={"oql": "jobruns.compositeStatus.status = 'HOLD'", "limit": 200}).json()
        job = next(  # due later today, nothing else in its way
            j for j in held["results"] if j["lastRunCompositeStatus"].get("substatus") == "HOLD_WAITING_FOR_TIME"
        )
        body = {"reason": reason, **({"predecessor": "BILLING_INVOICE_GEN"} if reason == "predecessor" else {})}
        made = admin.post(f"/admin/job/{job['id']}/wait", json=body)
        assert made.status_code == 200, made.text
        shown = http.get(f"/plan/job/{job['id']}").json()
        assert shown["lastRunCompositeStatus"]["status"] == "HOLD", shown["lastRunCompositeStatus"]
        assert shown["lastRunCompositeStatus"]["substatus"] == substatus
        if reason == "prompt":
            asked = [d for d in shown["dependencies"] if d["dependencyType"] == "PROMPT"]
            assert asked and asked[0]["promptStatus"] == "ASKED"
            reply = http.put(f"/plan/prompt/{asked[0]['id']}/action/reply", json={"answer": True})  # the spec's
            assert reply.status_code == 200 and reply.json()["id"] == asked[0]["id"], reply.text
            moved = http.get(f"/plan/job/{job['id']}").json()["lastRunCompositeStatus"]
            assert moved.get("substatus") != "HOLD_WAITING_FOR_PROMPT"
        started = http.get("/plan/job", params={"oql": "jobruns.compositeStatus.status = 'SUCC'", "limit": 1}).json()
        assert admin.post(f"/admin/job/{started['results'][0]['id']}/wait", json=body).status_code == 400
