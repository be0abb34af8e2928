"""The client against the simulator over a real socket: every read method, pagination, OQL, auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.live import LiveServer
from tools.hwa import (
    HWABadRequest,
    HWAClient,
    HWAClientConfig,
    HWAForbidden,
    HWANotFound,
    HWAQueryError,
    HWAUnauthorized,
    JobAction,
    oql,
)


@pytest.fixture
async def client(sim: LiveServer) -> AsyncIterator[HWAClient]:
    async with HWAClient(HWAClientConfig(sim.url, "viewer", "viewer", page_size=50)) as hwa:
        yield hwa


@pytest.fixture(scope="module")
def all_jobs(sim: LiveServer) -> list[dict[str, Any]]:
    with httpx.Client(base_url=sim.url, auth=("viewer", "viewer")) as http:
        results: list[dict[str, Any]] = http.get("/twsd/api/v2/plan/job").json()["results"]
        return results


async def test_engine_info(client: HWAClient) -> None:
    info = await client.engine_info()
    assert info.display_version == "10.1.0.1"


async def test_pagination_visits_every_job_once(client: HWAClient) -> None:
    first = await client.query_jobs(limit=7)
    assert first.count == 300 and len(first.results) == 7 and first.next and first.previous is None
    second = await client.query_jobs(limit=7, offset=7)
    assert second.previous and {j.id for j in first.results}.isdisjoint(j.id for j in second.results)
    ids = [job.id async for job in client.iter_jobs(page_size=23)]
    assert len(ids) == len(set(ids)) == 300


async def test_find_jobs_and_statuses(client: HWAClient) -> None:
    jobs = await client.find_jobs("PAYROLL_NIGHTLY")
    assert len(jobs) == 3
    assert [j.sched_time for j in jobs] == sorted((j.sched_time for j in jobs), reverse=True)
    today = jobs[0]
    assert today.status == "ABEND" and today.return_code == 12 and today.is_failed
    assert today.qualified_name == "AGT1#PAYROLL_DAILY.PAYROLL_NIGHTLY"
    assert today.dependencies is None  # query results never carry dependencies
    assert await client.find_jobs("PAYROLL_NIGHTLY", workstation="AGT1", job_stream="PAYROLL_DAILY") == jobs
    assert await client.find_jobs("PAYROLL_NIGHTLY", workstation="AGT2") == []
    # yesterday's failure was rerun and fixed: history shows both runs
    yesterday = jobs[1]
    assert [r.status for r in yesterday.jobruns][-1] == "SUCC" and len(yesterday.jobruns) >= 2


async def test_failed_jobs_are_latest_run_failures(client: HWAClient, all_jobs: list[dict[str, Any]]) -> None:
    failed = await client.failed_jobs()
    expected = {j["id"] for j in all_jobs if j["lastRunCompositeStatus"]["status"] in {"ABEND", "FAIL"}}
    assert {j.id for j in failed} == expected
    assert {"PAYROLL_NIGHTLY", "BILLING_INVOICE_GEN", "BACKUP_DB_PROD"} <= {j.name for j in failed}
    assert any(j.status == "FAIL" and j.return_code is None for j in failed)


async def test_job_detail_dependencies_and_graph(client: HWAClient, all_jobs: list[dict[str, Any]]) -> None:
    with_deps = [j for j in all_jobs if j["dependenciesStats"]["numberOfJobDependencies"] >= 1]
    job = await client.get_job(with_deps[-1]["id"])
    assert job.dependencies and all(d.dependency_type for d in job.dependencies)
    preds1 = await client.job_predecessors(job.id, depth=1)
    preds3 = await client.job_predecessors(job.id, depth=3)
    assert {d.job_id for d in job.dependencies if d.job_id} == {p.id for p in preds1}
    assert {p.id for p in preds1} <= {p.id for p in preds3}
    for pred in preds1:
        succ = await client.job_successors(pred.id)
        assert job.id in {s.id for s in succ}
    with pytest.raises(HWANotFound):
        await client.get_job("00000000-0000-4000-8000-000000000000")


async def test_counts(client: HWAClient) -> None:
    by_status = await client.count_jobs(("status",))
    assert by_status.count == 300 == sum(by_status.grouped_count.values())
    assert {"SUCC", "ABEND", "FAIL", "EXEC", "HOLD", "READY", "WAIT"} <= set(by_status.grouped_count)
    both = await client.count_jobs(("status", "workstation"))
    assert sum(both.grouped_count.values()) == 300 and "READY,/AGT4" in both.grouped_count
    payroll = await client.count_jobs((), plan_filter="AGT1#PAYROLL_DAILY.PAYROLL_@")
    assert payroll.count >= 3


async def test_job_log_format_and_slicing(client: HWAClient) -> None:
    job = (await client.find_jobs("PAYROLL_NIGHTLY"))[0]
    assert job.last_run is not None
    full = await client.job_log(job.last_run.id)
    lines = full.splitlines()
    assert lines[1].startswith("= JOB       : AGT1#PAYROLL_DAILY[(") and lines[1].endswith("].PAYROLL_NIGHTLY")
    assert "= Exit Status : 12" in lines and "ERROR: file not found: /data/in/payroll/payroll_nightly.csv" in lines
    content = (await client.job_log(job.last_run.id, content_only=True)).splitlines()
    assert not any(line.startswith("=") for line in content) and content[0].startswith("Starting ")
    assert (await client.job_log(job.last_run.id, from_line=2, to_line=4)).splitlines() == lines[1:4]
    assert (await client.job_log(job.last_run.id, content_only=True, from_line=2)).splitlines() == content[1:]
    assert await client.job_log_by_filter(oql.query(oql.field("id").eq(job.id))) == full
    with pytest.raises(HWABadRequest):
        await client.job_log(job.last_run.id, from_line=5, to_line=2)


async def test_job_log_of_running_and_waiting_jobs(client: HWAClient, all_jobs: list[dict[str, Any]]) -> None:
    running = next(j for j in all_jobs if j["lastRunCompositeStatus"]["status"] == "EXEC")
    log = await client.job_log(running["jobruns"][-1]["id"])
    assert "= Job Number:" in log and "Exit Status" not in log
    waiting = next(j for j in all_jobs if j["lastRunCompositeStatus"]["status"] == "HOLD")
    with pytest.raises(HWANotFound, match="has not started"):
        await client.job_log(waiting["jobruns"][-1]["id"])


async def test_job_streams_and_workstations(client: HWAClient) -> None:
    streams = await client.query_job_streams(oql.query(oql.field("name", "jobstream").eq("PAYROLL_DAILY")))
    assert streams.count == 3
    detail = await client.get_job_stream(streams.results[0].id)
    assert detail.jobs and detail.jobs[0].name == "PAYROLL_NIGHTLY"
    stations = await client.query_workstations()
    by_name = {w.name: w for w in stations.results}
    assert by_name["AGT1"].linked and by_name["AGT1"].running and not by_name["AGT4"].linked
    unlinked = await client.query_workstations("jobmanUp = false")
    assert "AGT4" in {w.name for w in unlinked.results}
    assert (await client.get_workstation(by_name["AGT4"].id)).name == "AGT4"


OQL_CASES = [
    ("name = 'PAYROLL_NIGHTLY'", lambda j: j["name"] == "PAYROLL_NIGHTLY"),
    ("name != 'PAYROLL_NIGHTLY'", lambda j: j["name"] != "PAYROLL_NIGHTLY"),
    ("priority < 10", lambda j: j["priority"] < 10),
    ("priority <= 10", lambda j: j["priority"] <= 10),
    ("priority > 0", lambda j: j["priority"] > 0),
    ("priority >= 10", lambda j: j["priority"] >= 10),
    ("jobruns.returnCode IN [8, 12]", lambda j: any(r.get("returnCode") in (8, 12) for r in j["jobruns"])),
    ("workstation NOT IN ['/AGT1', '/AGT2']", lambda j: j["workstation"] not in ("/AGT1", "/AGT2")),
    ("name LIKE 'BILLING_@'", lambda j: j["name"].startswith("BILLING_")),
    ("name LIKE 'GL_POSTIN?'", lambda j: j["name"] == "GL_POSTING"),
    ("name NOT LIKE '@_0@'", lambda j: "_0" not in j["name"]),
    (
        "(workstation = '/AGT1' OR workstation = '/AGT2') AND jobruns.compositeStatus.status = 'SUCC'",
        lambda j: (
            j["workstation"] in ("/AGT1", "/AGT2")
            and any(r["compositeStatus"]["status"] == "SUCC" for r in j["jobruns"])
        ),
    ),
    ("jobOptions.critical = true", lambda j: j["jobOptions"]["critical"]),
]


@pytest.mark.parametrize(("text", "expected"), OQL_CASES, ids=[c[0] for c in OQL_CASES])
async def test_oql_operators(client: HWAClient, all_jobs: list[dict[str, Any]], text: str, expected: Any) -> None:
    found = {job.id async for job in client.iter_jobs(text)}
    assert found == {j["id"] for j in all_jobs if expected(j)}


async def test_oql_order_by(client: HWAClient) -> None:
    page = await client.query_jobs("name LIKE 'PAYROLL@' ORDER BY name DESC", limit=500)
    names = [j.name for j in page.results]
    assert names == sorted(names, reverse=True) and len(names) > 3


async def test_malformed_oql_says_where(client: HWAClient) -> None:
    with pytest.raises(HWABadRequest, match="column"):
        await client.query_jobs("name = 'A' AND")
    with pytest.raises(HWABadRequest, match="unknown field 'status'"):
        await client.query_jobs("status = 'ABEND'")


async def test_oql_builder_cannot_be_widened(client: HWAClient) -> None:
    hostile = "X' OR name LIKE '@"
    assert await client.find_jobs(hostile) == []
    assert oql.literal(hostile) == r"'X\' OR name LIKE \'@'"
    assert await client.find_jobs("PAYROLL_NIGHTLY' OR name != '") == []
    for bad in ["JOB\nX", "JOB\x00", "JOB\u202eX"]:
        with pytest.raises(HWAQueryError, match="control character"):
            oql.field("name").eq(bad)
    with pytest.raises(HWAQueryError, match="unknown job field"):
        oql.field("name = 'x' OR name")
    with pytest.raises(ValueError):
        await client.get_job("../engine/info")
    condition = oql.field("name").eq("A") & (oql.field("priority").gt(0) | oql.field("jobOptions.critical").eq(True))
    assert str(condition) == "(name = 'A' AND (priority > 0 OR jobOptions.critical = true))"


async def test_auth_failures(sim: LiveServer) -> None:
    async with HWAClient(HWAClientConfig(sim.url)) as anonymous:
        with pytest.raises(HWAUnauthorized):
            await anonymous.engine_info()
    async with HWAClient(HWAClientConfig(sim.url, "admin", "wrong")) as wrong:
        with pytest.raises(HWAUnauthorized):
            await wrong.engine_info()
    async with HWAClient(HWAClientConfig(sim.url, api_key="ro-key-456")) as reader:
        assert (await reader.engine_info()).display_version
        job = (await reader.find_jobs("PAYROLL_NIGHTLY"))[0]
        with pytest.raises(HWAForbidden):
            await reader.job_action(job.id, JobAction.HOLD)
    async with HWAClient(HWAClientConfig(sim.url, api_key="not-a-key")) as bad_key:
        with pytest.raises(HWAUnauthorized):
            await bad_key.engine_info()
    async with HWAClient(HWAClientConfig(sim.url, "viewer", "viewer")) as viewer:
        with pytest.raises(HWAForbidden, match="read-only"):
            await viewer.rerun_run(job.jobruns[-1].id)
