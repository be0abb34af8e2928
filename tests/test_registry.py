"""The tool registry: discovery, roles, validation errors back to the model, history and stats,
and every read tool against the simulator."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from prometheus_client import REGISTRY

from tests.live import LiveServer
from tests.tooling import tool_context
from tools.registry import ToolPermission, get_tool_catalog, mask

KNOWLEDGE = Path(__file__).resolve().parents[1] / "knowledge"
READ_TOOLS = {
    "get_job_status",
    "get_failed_jobs",
    "get_job_logs",
    "get_system_health",
    "get_job_dependencies",
    "get_job_history",
    "find_similar_incidents",
    "search_knowledge",
    "get_workstation_status",
    "get_impact",
}
WRITE_TOOLS = {
    "rerun_job",
    "hold_job",
    "release_job",
    "cancel_job",
    "kill_job",
    "confirm_job",
    "release_job_dependencies",
}


def test_discovery_registers_a_new_tool_without_other_changes(tmp_path: Path) -> None:
    (tmp_path / "resync_tools_acme.py").write_text(
        textwrap.dedent('''
        from pydantic import BaseModel
        from tools.registry import ToolPermission, tool

        class PingInput(BaseModel):
            host: str

        @tool(permission=ToolPermission.READ_ONLY, input_schema=PingInput, tags=["acme"])
        async def acme_ping(host: str) -> dict:
            """Check that an ACME host answers."""
            return {"host": host, "alive": True}
    ''')
    )
    sys.path.insert(0, str(tmp_path))
    catalog = get_tool_catalog()
    try:
        assert "resync_tools_acme" in catalog.discover()
        spec = catalog.get("acme_ping")
        assert spec.tags == ("acme",) and spec.description == "Check that an ACME host answers."
        assert [s.name for s in catalog.list_tools(tags=["acme"])] == ["acme_ping"]
        assert "acme_ping" in {t.name for t in catalog.as_langchain_tools("viewer")}
    finally:
        sys.path.remove(str(tmp_path))
        catalog.tools.pop("acme_ping", None)
        sys.modules.pop("resync_tools_acme", None)


def test_roles_decide_what_is_offered() -> None:
    catalog = get_tool_catalog()
    assert {s.name for s in catalog.list_tools("viewer")} >= READ_TOOLS
    assert not {s.name for s in catalog.list_tools("viewer")} & WRITE_TOOLS
    assert {s.name for s in catalog.list_tools("operator")} >= READ_TOOLS | WRITE_TOOLS
    assert all(s.permission == ToolPermission.WRITE for s in catalog.list_tools("operator") if s.name in WRITE_TOOLS)
    lc_tools = catalog.as_langchain_tools("viewer")
    assert all(isinstance(t, BaseTool) for t in lc_tools) and not {t.name for t in lc_tools} & WRITE_TOOLS
    with pytest.raises(ValueError, match="unknown role"):
        catalog.list_tools("root")


def test_secrets_are_masked() -> None:
    assert mask({"job_name": "X", "password": "p", "api_key": "k", "Authorization": "Bearer x"}) == {
        "job_name": "X",
        "password": "***",
        "api_key": "***",
        "Authorization": "***",
    }


async def test_validation_errors_go_back_to_the_model(
    sim: LiveServer, pool: Any, pg_url: str, session_redis: Any
) -> None:
    async with tool_context(sim.url, pool, pg_url, session_redis.url, role="viewer", sync=False) as (ctx, catalog):
        status = next(t for t in catalog.as_langchain_tools("viewer", ctx) if t.name == "get_job_status")
        bad = await status.ainvoke(
            {"type": "tool_call", "id": "call-1", "name": "get_job_status", "args": {"job_name": "rm -rf /"}}
        )
        assert isinstance(bad, ToolMessage) and bad.status == "error" and "job_name" in str(bad.content)
        good = await status.ainvoke(
            {"type": "tool_call", "id": "call-2", "name": "get_job_status", "args": {"job_name": "PAYROLL_NIGHTLY"}}
        )
        assert good.status == "success" and '"status": "ABEND"' in str(good.content)
        refused = await catalog.execute("rerun_job", {"job_name": "PAYROLL_NIGHTLY"}, ctx)
        assert refused.outcome == "refused" and "role viewer may not use rerun_job" in (refused.error or "")
        unknown = await catalog.execute("format_disk", {}, ctx)
        assert unknown.outcome == "invalid"
        history = await catalog.get_execution_history(10)
        assert [h["outcome"] for h in history[:2]] == ["invalid", "refused"]
        assert history[1]["caller"] == "ana" and history[1]["role"] == "viewer"
        stats = await catalog.stats()
        assert stats["total_executions"] >= 3 and 0 < stats["error_rate"] < 1
        assert stats["by_tool"]["get_job_status"]["count"] >= 1
    sample = REGISTRY.get_sample_value("resync_tool_executions_total", {"tool": "rerun_job", "outcome": "refused"})
    assert sample is not None and sample >= 1


async def test_every_read_tool_against_the_simulator(
    now_sim: LiveServer, pool: Any, pg_url: str, session_redis: Any
) -> None:
    async with tool_context(now_sim.url, pool, pg_url, session_redis.url, role="viewer") as (ctx, catalog):
        await ctx.documents.ingest([KNOWLEDGE])  # type: ignore[union-attr]

        async def run(tool_name: str, **args: Any) -> Any:
            result = await catalog.execute(tool_name, args, ctx)
            assert result.ok, (tool_name, result.error)
            assert "_fetched_at" in result.data
            return result.data

        status = await run("get_job_status", job_name="payroll_nightly")
        assert status["jobs"][0]["status"] == "ABEND" and status["jobs"][0]["return_code"] == 12
        failed = await run("get_failed_jobs", hours=24 * 4)
        assert {"PAYROLL_NIGHTLY", "BACKUP_DB_PROD"} <= {j["job"] for j in failed["jobs"]}
        logs = await run("get_job_logs", job_name="PAYROLL_NIGHTLY", lines=20)
        assert "ERROR: file not found" in logs["log"] and logs["lines"] == 20
        health = await run("get_system_health")
        assert health["workstations"]["unlinked"] == ["AGT4"] and health["status"] == "DEGRADED"
        deps = await run("get_job_dependencies", job_name="PAYROLL_NIGHTLY", depth=2)
        assert deps["needed_by"] and all(d["status"] in {"HOLD", "WAIT"} for d in deps["needed_by"][:1])
        history = await run("get_job_history", job_name="PAYROLL_NIGHTLY", days=30)
        assert history["failures"] >= 2 and len(history["runs"]) >= 4
        similar = await run("find_similar_incidents", job_name="PAYROLL_NIGHTLY")
        assert similar["incidents"][0]["signature"] == "ERROR: file not found: <path>"
        knowledge = await run("search_knowledge", query="quando não reexecutar um job?")
        assert knowledge["passages"][0]["source"].startswith("reexecucao-e-dependencias.md")
        stations = await run("get_workstation_status", name="AGT4")
        assert stations["workstations"][0]["linked"] is False and stations["workstations"][0]["jobs_ready_waiting"] >= 1
        impact = await run("get_impact", job_name="PAYROLL_NIGHTLY")
        assert impact["blocked_jobs"] >= 1 and impact["context"].startswith("JOB AGT1#PAYROLL_DAILY.PAYROLL_NIGHTLY")
        # the cache serves the second call
        before = (await ctx.cache.stats())["hits"]  # type: ignore[union-attr]
        await run("get_job_status", job_name="PAYROLL_NIGHTLY")
        assert (await ctx.cache.stats())["hits"] == before + 1  # type: ignore[union-attr]
        missing = await catalog.execute("get_job_status", {"job_name": "NO_SUCH_JOB"}, ctx)
        assert missing.outcome == "error" and "no job named NO_SUCH_JOB" in (missing.error or "")
