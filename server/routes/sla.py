"""/api/v2/sla/risk: deadlines the projected critical path would miss, and what drives them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from tools.registry import Role
from tools.services.sla import sla_risk

from ..auth import Principal, require
from ..deps import Running
from ..schemas import SlaRisk

router = APIRouter(prefix="/api/v2", tags=["investigations"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]


@router.get("/sla/risk", response_model=SlaRisk)
async def risk(
    app: Running,
    principal: Viewer,
    within_hours: Annotated[int, Query(ge=1, le=168, description="deadlines up to this many hours ahead")] = 24,
) -> dict[str, Any]:
    """Jobs and job streams with a deadline within the window that have not finished: the expected
    finish along each one's critical path (durations: the median of the job's last 10 successful
    runs), the slack, and the jobs that drive it. ``at_risk``: expected after the deadline."""
    now = datetime.now(UTC)
    projections = await sla_risk(app.store.kg, now, timedelta(hours=within_hours))
    late = [p.as_dict() for p in projections if p.slack_minutes < 0]
    return {"now": now, "within_hours": within_hours, "at_risk": late, "on_track": len(projections) - len(late)}
