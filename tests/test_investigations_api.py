"""/api/v2/investigations over HTTP: the server's own watcher investigates the plan's failures at
start (no one asked), roots and cascades come grouped, filters and errors are clean."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.apiclient import V2, client
from tests.live import LiveServer


async def wait_for_investigations(api: LiveServer, key: str, job: str) -> dict[str, Any]:
    """The investigations once the watcher has investigated ``job``'s failure (it goes through the
    plan's failures one by one: another may be listed first)."""
    async with client(api, key) as http:
        for _ in range(120):
            body = (await http.get(f"{V2}/investigations")).json()
            if any(i["job_name"] == job and i["kind"] == "failure" for i in body["investigations"]):
                return dict(body)
            await asyncio.sleep(0.25)
    raise AssertionError(f"the watcher did not investigate {job}: {body}")


async def test_failures_are_investigated_before_anyone_asks(api: LiveServer, keys: dict[str, str]) -> None:
    body = await wait_for_investigations(api, keys["viewer"], "PAYROLL_NIGHTLY")
    payroll = [i for i in body["investigations"] if i["job_name"] == "PAYROLL_NIGHTLY" and i["kind"] == "failure"]
    assert payroll, "the scripted PAYROLL_NIGHTLY failure was not investigated"
    first = payroll[0]
    assert first["category"] == "missing_input" and first["return_code"] == 12
    assert any("file not found" in line["text"] for line in first["evidence"]["log_lines"])
    assert first["next_step"] and first["next_step_pt"]
    assert len(body["groups"]) <= body["count"]  # cascades are grouped under their roots
    async with client(api, keys["viewer"]) as http:
        one = await http.get(f"{V2}/investigations/{first['id']}")
        assert one.status_code == 200 and one.json()["run_id"] == first["run_id"]
        missing = await http.get(f"{V2}/investigations/999999")
        assert missing.status_code == 404 and "no investigation" in missing.json()["detail"]
        only = (await http.get(f"{V2}/investigations", params={"category": "missing_input"})).json()
        assert only["count"] >= 1 and {i["category"] for i in only["investigations"]} == {"missing_input"}
        severe = (await http.get(f"{V2}/investigations", params={"severity": "critical"})).json()
        assert {i["severity"] for i in severe["investigations"]} <= {"critical"}
        assert (await http.get(f"{V2}/investigations", params={"severity": "urgent"})).status_code == 422
        naive = await http.get(f"{V2}/investigations", params={"since": "2026-11-26T06:00:00"})
        assert naive.status_code == 422 and "time zone" in naive.json()["detail"]
        future = (await http.get(f"{V2}/investigations", params={"since": "2999-01-01T00:00:00Z"})).json()
        assert future["count"] == 0
        risk = await http.get(f"{V2}/sla/risk", params={"within_hours": 48})
        assert risk.status_code == 200 and {"at_risk", "on_track", "now"} <= set(risk.json())
        for item in risk.json()["at_risk"]:
            assert item["slack_minutes"] < 0 and item["drivers"] and item["drivers"][-1]["expected_minutes"] > 0
        assert (await http.get(f"{V2}/sla/risk", params={"within_hours": 0})).status_code == 422
    async with client(api) as anonymous:
        assert (await anonymous.get(f"{V2}/investigations")).status_code == 401
