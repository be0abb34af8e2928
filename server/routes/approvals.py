"""Approvals (list, show, approve, reject) and incident resolutions.

Approving executes the approval from its record (after a re-check of the job) and answers with what
happened at the scheduler: 200 only when the action was done, 409 with the reason otherwise. The
conversation that asked learns the outcome either way (its paused run resumes, or the outcome is
appended when the thread has moved on)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from tools.executor import Decision, DecisionRefused, JustificationRequired
from tools.registry import Role
from tools.store.approvals import Approval, ApprovalError

from ..auth import Principal, require
from ..chat import report_decision
from ..compose import App
from ..deps import Running
from ..errors import error_response
from ..schemas import ApprovalDecision, ApprovalResult, RejectDecision, ResolutionIn, ResolutionOut

router = APIRouter(prefix="/api/v2", tags=["approvals"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
ApprovalId = Annotated[str, Path(pattern=r"^[0-9a-f\-]{36}$")]
NOT_FOUND = error_response("no such approval or run")
ALREADY = error_response("already decided or expired")
STATUS_ALIASES = {"used": "done"}  # the first release's name for an executed approval


StatusFilter = Literal[
    "pending", "approved", "executing", "done", "failed", "stale", "unknown", "rejected", "expired", "used", "all"
]


@router.get("/approvals", response_model=list[Approval])
async def list_approvals(
    app: Running, principal: Viewer, status: Annotated[StatusFilter, Query(description="all: every status")] = "pending"
) -> list[Approval]:
    chosen = STATUS_ALIASES.get(status, status)
    return await app.approvals.list(None if chosen == "all" else chosen)


@router.get("/approvals/{approval_id}", response_model=Approval, responses={404: NOT_FOUND})
async def show_approval(app: Running, approval_id: ApprovalId, principal: Viewer) -> Approval:
    try:
        return await app.approvals.get(approval_id)
    except ApprovalError as exc:
        raise HTTPException(404, detail=str(exc)) from None


async def _decide(app: App, principal: Principal, approval_id: str, decision: Decision) -> dict[str, Any]:
    try:
        approval = await app.actions.decide(approval_id, decision)
    except JustificationRequired as exc:
        raise HTTPException(422, detail=str(exc)) from None
    except DecisionRefused as exc:
        raise HTTPException(403, detail=str(exc)) from None
    except ApprovalError as exc:
        raise HTTPException(404 if exc.not_found else 409, detail=str(exc)) from None
    run = await report_decision(app, principal, approval)
    approval = await app.approvals.get(approval_id)
    if decision.kind == "approve" and approval.status != "done":
        raise HTTPException(409, detail=f"approval {approval.id} is {approval.status}: {approval.reason}")
    return {"approval": approval, "run": run}


@router.post(
    "/approvals/{approval_id}/approve",
    response_model=ApprovalResult,
    responses={
        404: NOT_FOUND,
        422: error_response("no justification (the approver's reason is required)"),
        409: error_response("not done: stale, failed, unknown, expired or already decided (the reason)"),
    },
)
async def approve(
    app: Running, approval_id: ApprovalId, decision: ApprovalDecision, principal: Operator
) -> dict[str, Any]:
    return await _decide(
        app,
        principal,
        approval_id,
        Decision("approve", principal.name, principal.role.value, decision.justification, decision.ticket),
    )


@router.post("/approvals/{approval_id}/reject", response_model=ApprovalResult, responses={404: NOT_FOUND, 409: ALREADY})
async def reject(
    app: Running, approval_id: ApprovalId, principal: Operator, decision: RejectDecision | None = None
) -> dict[str, Any]:
    why = decision.justification if decision else None
    return await _decide(app, principal, approval_id, Decision("reject", principal.name, principal.role.value, why))


@router.post("/incidents/{run_id}/resolution", response_model=ResolutionOut, responses={404: NOT_FOUND})
async def resolve(app: Running, run_id: ApprovalId, body: ResolutionIn, principal: Operator) -> dict[str, Any]:
    try:
        resolution_id = await app.incidents.attach_resolution(run_id, body.resolution, principal.name)
    except KeyError as exc:
        raise HTTPException(404, detail=str(exc).strip("'")) from None
    return {"id": resolution_id, "run_id": run_id}
