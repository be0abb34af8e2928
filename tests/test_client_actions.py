"""Actions through the client on a fresh simulator: allowed and refused transitions (notes §6),
audit headers, filter actions, and the clock moving the plan."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.live import LiveServer
from tools.hwa import HWABadRequest, HWAClient, HWAClientConfig, JobAction, JobInPlan, Justification, oql


@pytest.fixture
async def client(fresh_sim: LiveServer) -> AsyncIterator[HWAClient]:
    async with HWAClient(HWAClientConfig(fresh_sim.url, "admin", "admin")) as hwa:
        yield hwa


async def one(client: HWAClient, text: str) -> JobInPlan:
    page = await client.query_jobs(text, limit=1)
    assert page.results, f"no job matches {text}"
    return await client.get_job(page.results[0].id)


def step(http: httpx.Client, seconds: float) -> None:
    assert http.post("/admin/clock/step", json={"seconds": seconds}).status_code == 200


WAITING_TODAY = "jobruns.compositeStatus.status = 'HOLD' AND priority > 0 ORDER BY schedTime DESC"


async def test_hold_and_release(client: HWAClient, admin_http: httpx.Client) -> None:
    job = await one(client, WAITING_TODAY)
    why = Justification("maintenance", "hold for storage window", "CHG-1234")
    await client.job_action(job.id, JobAction.HOLD, why)
    held = await client.get_job(job.id)
    assert held.priority == 0 and held.last_run_common_status == "HELD"
    with pytest.raises(HWABadRequest, match="already held"):
        await client.job_action(job.id, JobAction.HOLD)
    await client.job_action(job.id, JobAction.RELEASE)
    assert (await client.get_job(job.id)).priority == 10
    with pytest.raises(HWABadRequest, match="not held"):
        await client.job_action(job.id, JobAction.RELEASE)
    audit = admin_http.get("/admin/audit").json()
    assert audit[0]["action"] == "hold" and audit[0]["user"] == "admin"
    assert audit[0]["headers"] == {
        "Justification-Category": "maintenance",
        "Justification-Description": "hold for storage window",
        "Justification-Ticket-Num": "CHG-1234",
    }
    assert [a["outcome"].split(":")[0] for a in audit] == ["ok", "refused", "ok", "refused"]


async def test_hold_refused_once_started(client: HWAClient) -> None:
    done = await one(client, "jobruns.compositeStatus.status = 'SUCC'")
    with pytest.raises(HWABadRequest, match="cannot be held"):
        await client.job_action(done.id, JobAction.HOLD)


async def test_kill_only_a_running_job(client: HWAClient) -> None:
    waiting = await one(client, WAITING_TODAY)
    with pytest.raises(HWABadRequest, match="only a running job can be killed"):
        await client.job_action(waiting.id, JobAction.KILL)
    running = await one(client, "jobruns.compositeStatus.status = 'EXEC'")
    await client.job_action(running.id, JobAction.KILL)
    killed = await client.get_job(running.id)
    assert killed.status == "ABEND"
    assert killed.last_run is not None
    assert "kill requested by operator" in await client.job_log(killed.last_run.id)
    # dependents are not released by a kill
    successors = await client.job_successors(killed.id)
    assert all(s.status in {"HOLD", "WAIT"} for s in successors)


async def test_rerun_adds_a_run_and_is_refused_where_not_allowed(client: HWAClient, admin_http: httpx.Client) -> None:
    failed = (await client.find_jobs("BILLING_INVOICE_GEN"))[0]
    assert failed.status == "ABEND" and failed.last_run is not None
    old_run = failed.last_run.id
    result = await client.rerun_run(old_run, Justification("incident", "deadlock cleared", "INC-77"))
    rerun = await client.get_job(failed.id)
    assert len(rerun.jobruns) == len(failed.jobruns) + 1
    assert rerun.last_run is not None and rerun.last_run.id == result.id
    assert rerun.last_run.rerun_type == "RERUN" and rerun.last_run.last_in_rerun_chain
    assert rerun.status == "EXEC"
    with pytest.raises(HWABadRequest, match="not the last"):
        await client.rerun_run(old_run)
    with pytest.raises(HWABadRequest, match="cannot be rerun"):
        await client.rerun_run(result.id or "")
    step(admin_http, 6 * 3600)
    assert (await client.get_job(failed.id)).status == "SUCC"
    waiting = await one(client, WAITING_TODAY)
    assert waiting.last_run is not None
    with pytest.raises(HWABadRequest, match="cannot be rerun"):
        await client.rerun_run(waiting.last_run.id)
    assert admin_http.get("/admin/audit").json()[0]["headers"]["Justification-Ticket-Num"] == "INC-77"


async def test_cancel_releases_dependents_and_cancel_pending(client: HWAClient, admin_http: httpx.Client) -> None:
    failed = (await client.find_jobs("PAYROLL_NIGHTLY"))[0]
    successors = await client.job_successors(failed.id)
    assert successors and all(s.status == "HOLD" for s in successors)
    await client.job_action(failed.id, JobAction.CANCEL)
    cancelled = await client.get_job(failed.id)
    assert cancelled.last_run_common_status == "CANCELED"
    step(admin_http, 60)
    for successor in successors:
        after = await client.get_job(successor.id)
        on_cancelled = [d for d in after.dependencies or [] if d.job_id == failed.id]
        assert on_cancelled and all(d.dependency_status == "SATISFIED" for d in on_cancelled)
    statuses = [(await client.get_job(s.id)).status for s in successors]
    assert any(status != "HOLD" for status in statuses)
    with pytest.raises(HWABadRequest, match="already cancelled"):
        await client.job_action(failed.id, JobAction.CANCEL)
    done = await one(client, "jobruns.compositeStatus.status = 'SUCC'")
    with pytest.raises(HWABadRequest, match="cannot be cancelled"):
        await client.job_action(done.id, JobAction.CANCEL)
    pending = await one(client, WAITING_TODAY)
    await client.job_action(pending.id, JobAction.CANCEL_PENDING)
    assert (await client.get_job(pending.id)).last_run_composite_status.cancel_pending  # type: ignore[union-attr]


async def test_confirm_matrix(client: HWAClient) -> None:
    failed = (await client.find_jobs("BILLING_INVOICE_GEN"))[0]
    await client.job_action(failed.id, JobAction.CONFIRM_ABEND)  # ABEND + confirm abend: no effect
    assert (await client.get_job(failed.id)).status == "ABEND"
    await client.job_action(failed.id, JobAction.CONFIRM_SUCC)  # ABEND -> SUCC
    assert (await client.get_job(failed.id)).status == "SUCC"
    with pytest.raises(HWABadRequest, match="not supported"):
        await client.job_action(failed.id, JobAction.CONFIRM_SUCC)  # SUCC -> not supported
    never_launched = (await client.find_jobs("BACKUP_DB_PROD"))[0]
    assert never_launched.status == "FAIL"
    with pytest.raises(HWABadRequest, match="not supported"):
        await client.job_action(never_launched.id, JobAction.CONFIRM_ABEND)
    pend = await one(client, "jobruns.compositeStatus.status = 'PEND'")
    await client.job_action(pend.id, JobAction.CONFIRM_SUCC)
    assert (await client.get_job(pend.id)).status == "SUCC"


async def test_release_all_dependencies_lets_a_blocked_job_run(client: HWAClient, admin_http: httpx.Client) -> None:
    blocked = await one(
        client,
        "jobruns.compositeStatus.status = 'HOLD' AND dependencies.dependencyStatus = 'UNSATISFIED' AND priority > 0",
    )
    result = await client.job_action(blocked.id, JobAction.RELEASE_ALL_DEPENDENCIES)
    assert result.id == blocked.id
    step(admin_http, 1)
    assert (await client.get_job(blocked.id)).status in {"EXEC", "SUCC", "ABEND", "FAIL", "READY"}
    with pytest.raises(HWABadRequest, match="no pending dependencies"):
        await client.job_action(
            (await one(client, "jobruns.compositeStatus.status = 'SUCC'")).id,
            JobAction.RELEASE_ALL_DEPENDENCIES,
        )


async def test_release_selected_dependencies(client: HWAClient) -> None:
    blocked = await one(
        client,
        "jobruns.compositeStatus.status = 'HOLD' AND dependencies.dependencyStatus = 'UNSATISFIED' AND priority > 0",
    )
    assert blocked.dependencies
    target = next(d for d in blocked.dependencies if d.dependency_status == "UNSATISFIED")
    await client.release_dependencies(blocked.id, [target.id or ""])
    after = await client.get_job(blocked.id)
    assert next(d for d in after.dependencies or [] if d.id == target.id).dependency_status == "SATISFIED"


async def test_filter_actions(client: HWAClient) -> None:
    many = oql.query(oql.field("jobruns.compositeStatus.status").eq("HOLD") & oql.field("priority").gt(0))
    with pytest.raises(HWABadRequest, match="more than max_object_affected=1"):
        await client.job_action_by_filter(JobAction.HOLD, many)
    failed = oql.query(oql.field("jobruns.compositeStatus.status").in_(["ABEND", "FAIL"]))
    count = (await client.query_jobs(failed)).count or 0
    result = await client.job_action_by_filter(JobAction.KILL, failed, max_object_affected=count)
    assert len(result.failed_resource_responses) == count and not result.successful_resource_responses
    assert all(r.is_error and "only a running job" in (r.message or "") for r in result.failed_resource_responses)
    ok = await client.job_action_by_filter(JobAction.HOLD, oql.query(oql.field("name").eq("NO_SUCH_JOB")))
    assert ok.successful_resource_responses == [] == ok.failed_resource_responses


async def test_clock_moves_jobs_forward(client: HWAClient, admin_http: httpx.Client) -> None:
    before = await client.count_jobs(("status",))
    timed = await one(client, "jobruns.compositeStatus.status = 'HOLD' ORDER BY schedTime DESC")
    step(admin_http, 30 * 3600)
    after = await client.count_jobs(("status",))
    assert after.grouped_count.get("SUCC", 0) > before.grouped_count.get("SUCC", 0)
    assert after.grouped_count.get("EXEC", 0) == 0  # nothing runs 30 hours
    moved = await client.get_job(timed.id)
    assert moved.status != "HOLD" or moved.last_run_composite_status.substatus != "HOLD_WAITING_FOR_TIME"  # type: ignore[union-attr]


async def test_unlinked_workstation_holds_jobs_until_linked(client: HWAClient, admin_http: httpx.Client) -> None:
    stuck = await one(client, "jobruns.compositeStatus.status = 'READY' AND workstation = '/AGT4'")
    assert stuck.last_run_composite_status is not None
    assert stuck.last_run_composite_status.substatus == "READY_WAITING_FOR_AGENT"
    assert admin_http.post("/admin/workstation/AGT4/link").json() == {"name": "AGT4", "linked": True}
    assert (await client.get_job(stuck.id)).status in {"EXEC", "SUCC", "ABEND", "FAIL"}
