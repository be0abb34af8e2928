"""/api/v2/investigations: what the watcher found before anyone asked — failed runs and late jobs
with cause, severity, evidence and next step; roots first, their cascades grouped under them."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from tools.causes import Category
from tools.registry import Role
from tools.store.investigations import Investigation, split_cascades

from ..auth import Principal, require
from ..deps import Running
from ..errors import error_response
from ..schemas import InvestigationList, InvestigationOut, IsoDateTime

router = APIRouter(prefix="/api/v2", tags=["investigations"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Severity = Literal["critical", "high", "medium", "low"]


def grouped(records: list[Investigation]) -> list[dict[str, Any]]:
    """Each root failure with the failures below it (a cascade whose root is outside the list is its
    own group: the user still sees it once)."""
    roots, below = split_cascades(records)
    return [
        {"root": asdict(root), "cascade": below.get(root.run_id, []), "blocked_jobs": root.blocked_jobs}
        for root in roots
    ]


@router.get("/investigations", response_model=InvestigationList)
async def list_investigations(
    app: Running,
    principal: Viewer,
    since: Annotated[IsoDateTime | None, Query(description="only what happened since (ISO 8601)")] = None,
    severity: Annotated[Severity | None, Query(description="at least this severe")] = None,
    category: Annotated[Category | None, Query(description="cause category")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    if since is not None and since.tzinfo is None:
        raise HTTPException(422, detail="since needs a time zone (e.g. 2026-11-26T06:00:00Z)")
    records = await app.store.investigations.search(since, severity, category, limit)
    return {
        "count": len(records),
        "groups": grouped(records),
        "investigations": [asdict(r) for r in records],
    }


@router.get(
    "/investigations/{investigation_id}",
    response_model=InvestigationOut,
    responses={404: error_response("no such investigation")},
)
async def get_investigation(
    app: Running, principal: Viewer, investigation_id: Annotated[int, Path(ge=1, le=2**62)]
) -> dict[str, Any]:
    record = await app.store.investigations.get(investigation_id)
    if record is None:
        raise HTTPException(404, detail=f"no investigation {investigation_id}")
    return asdict(record)
