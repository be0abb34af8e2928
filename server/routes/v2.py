"""/api/v2 job and system routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from tools.diagnosis import diagnose
from tools.diagnosis_model import refined
from tools.registry import Role

from ..auth import Principal, require
from ..deps import Running
from ..metrics import observe
from ..schemas import (
    DiagnoseIn,
    DiagnosisOut,
    FailedJobsResponse,
    Flag,
    InvestigateResponse,
    SummaryResponse,
    SystemHealthResponse,
)

router = APIRouter(prefix="/api/v2", tags=["jobs"])
JobName = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$", description="job name as in the plan")]
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]


@router.post("/diagnose", response_model=DiagnosisOut)
async def diagnose_log(app: Running, body: DiagnoseIn, principal: Viewer) -> dict[str, Any]:
    """The diagnosis of a pasted job log: the decisive line (numbered), the cause category, what the
    message means, whether a plain rerun helps, the next step — the same reading the watcher and the
    chat make."""
    found = await refined(diagnose(body.log, body.status, body.return_code), body.log, app.parts.reader)
    return found.as_json(body.language)


@router.get("/jobs/failed", response_model=FailedJobsResponse)
async def failed_jobs(
    app: Running, principal: Viewer, hours: Annotated[int, Query(ge=1, le=336)] = 24
) -> dict[str, Any]:
    async with observe("failed_jobs"):
        result = await app.parts.catalog.execute(
            "get_failed_jobs",
            {"hours": hours},
            app.parts.for_caller(principal.name, principal.role.value),
        )
    if not result.ok:
        raise HTTPException(503, detail=f"scheduler unavailable: {result.error}")
    return {"count": result.data["count"], "hours": hours, "jobs": result.data["jobs"]}


@router.get("/jobs/{job_name}/investigate", response_model=InvestigateResponse)
async def investigate(
    app: Running, job_name: JobName, principal: Viewer, include_logs: Flag = True, include_deps: Flag = True
) -> dict[str, Any]:
    async with observe("investigate_job_failure"):
        return await app.orchestrator.investigate_job_failure(job_name.upper(), include_logs, include_deps)


@router.get("/system/health", response_model=SystemHealthResponse)
async def system_health(app: Running, principal: Viewer) -> dict[str, Any]:
    async with observe("get_system_health"):
        return await app.orchestrator.get_system_health()


@router.get("/jobs/{job_name}/summary", response_model=SummaryResponse)
async def summary(app: Running, job_name: JobName, principal: Viewer) -> dict[str, Any]:
    """A short answer about the job from the whole graph (model + retrieval); the status is the one
    the run gathered from the scheduler."""
    from ..chat import ChatRequest, claim_thread, run_to_end

    ask = ChatRequest(message=f"why did {job_name} fail?")
    await claim_thread(app, ask, principal)
    final = await run_to_end(app, principal, ask, with_context=True)
    jobs = [j for j in final.get("entities", {}).get("jobs", [])]
    statuses = [
        job.get("status")
        for item in final.get("context", [])
        if item["branch"] == "status"
        for job in (item.get("data") or {}).get("jobs", [])
        if job.get("job", "").upper() == job_name.upper()
    ]
    return {
        "job_name": job_name.upper(),
        "status": statuses[0] if statuses else None,
        "summary": final.get("message", ""),
        "has_context": bool(final.get("sources")) and bool(jobs),
    }
