"""Approvals (list, approve, reject — the paused run resumes) and incident resolutions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from tools.registry import Role
from tools.store.approvals import Approval, ApprovalError

from ..auth import Principal, require
from ..chat import ChatRequest, run_events
from ..schemas import ApprovalDecision, ApprovalOut, ApprovalResult, ResolutionIn, ResolutionOut

router = APIRouter(prefix="/api/v2", tags=["approvals"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]
ApprovalId = Annotated[str, Path(pattern=r"^[0-9a-f\-]{36}$")]


def out(approval: Approval) -> dict[str, Any]:
    return approval.as_dict()


@router.get("/approvals", response_model=list[ApprovalOut])
async def list_approvals(request: Request, principal: Viewer, status: str | None = "pending") -> list[dict[str, Any]]:
    if status not in {None, "pending", "approved", "rejected", "expired", "used"}:
        raise HTTPException(422, detail="status must be pending, approved, rejected, expired or used")
    return [out(a) for a in await request.app.state.services.approvals.list(status)]


async def _decide(
    request: Request, principal: Principal, approval_id: str, decision: ApprovalDecision | None, kind: str
) -> dict[str, Any]:
    store = request.app.state.services.approvals
    try:
        if kind == "approve":
            assert decision is not None
            approval = await store.approve(approval_id, principal.name, decision.justification, decision.ticket)
        else:
            approval = await store.reject(approval_id, principal.name, decision.justification if decision else None)
    except ApprovalError as exc:
        code = 404 if "no approval" in str(exc) else 409
        raise HTTPException(code, detail=str(exc)) from None
    run = None
    if approval.thread_id:
        final: dict[str, Any] = {}
        resume = {"decisions": [{"type": kind}]}
        async for event, data in run_events(
            request.app.state, principal, ChatRequest(message="-", thread_id=approval.thread_id), resume=resume
        ):
            if event == "end":
                final = data
        run = final
        approval = await store.get(approval_id)
    return {"approval": out(approval), "run": run}


@router.post("/approvals/{approval_id}/approve", response_model=ApprovalResult)
async def approve(
    request: Request, approval_id: ApprovalId, decision: ApprovalDecision, principal: Operator
) -> dict[str, Any]:
    return await _decide(request, principal, approval_id, decision, "approve")


@router.post("/approvals/{approval_id}/reject", response_model=ApprovalResult)
async def reject(
    request: Request, approval_id: ApprovalId, principal: Operator, decision: ApprovalDecision | None = None
) -> dict[str, Any]:
    return await _decide(request, principal, approval_id, decision, "reject")


@router.post("/incidents/{run_id}/resolution", response_model=ResolutionOut)
async def resolve(request: Request, run_id: ApprovalId, body: ResolutionIn, principal: Operator) -> dict[str, Any]:
    try:
        resolution_id = await request.app.state.services.incidents.attach_resolution(
            run_id, body.resolution, principal.name
        )
    except KeyError as exc:
        raise HTTPException(404, detail=str(exc).strip("'")) from None
    return {"id": resolution_id, "run_id": run_id}
