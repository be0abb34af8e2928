"""Request and response models of the HTTP API (they make the OpenAPI document complete)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from tools.store.approvals import Approval


class ErrorBody(BaseModel):
    detail: str | list[Any]
    request_id: str | None = None


class InvestigateData(BaseModel):
    tws_status: dict[str, Any] | None = None
    kg_context: dict[str, Any] | None = None
    logs: dict[str, Any] | None = None
    dependencies: dict[str, Any] | None = None
    historical_failures: dict[str, Any] | None = None


class InvestigateResponse(BaseModel):
    status: Literal["success", "partial"]
    data: InvestigateData
    errors: list[dict[str, Any]]
    success_rate: float


class ComponentHealth(BaseModel):
    status: str
    data: dict[str, Any] | None = None


class SystemHealthResponse(BaseModel):
    status: Literal["HEALTHY", "DEGRADED", "UNHEALTHY"]
    details: dict[str, ComponentHealth]


class FailedJobsResponse(BaseModel):
    count: int
    hours: int
    jobs: list[dict[str, Any]]


class SummaryResponse(BaseModel):
    job_name: str
    status: str | None
    summary: str
    has_context: bool


class ChatResponse(BaseModel):
    thread_id: str
    message: str
    query_type: str | None
    entities: dict[str, Any]
    tool_calls: list[dict[str, Any]]
    sources: list[str]
    errors: list[dict[str, Any]] = Field(default_factory=list)
    pending_approval: str | None = None


class ApprovalDecision(BaseModel):
    justification: str = Field(min_length=3, max_length=2000, description="the approver's own words (audited)")
    ticket: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.\-/#]+$")


class RejectDecision(BaseModel):
    justification: str | None = Field(None, max_length=2000, description="why it was rejected (optional)")


class ApprovalResult(BaseModel):
    approval: Approval
    run: ChatResponse | None = None


class ResolutionIn(BaseModel):
    resolution: str = Field(min_length=3, max_length=10_000)


class ResolutionOut(BaseModel):
    id: int
    run_id: str


class CacheStats(BaseModel):
    hit_rate: float
    total_gets: int
    hits: int
    misses: int
    last_warmup: str | None
    available: bool


class ToolStats(BaseModel):
    total_executions: int
    by_tool: dict[str, Any]
    avg_duration_ms: float
    error_rate: float


class InvalidateIn(BaseModel):
    pattern: str = Field("tws:*", pattern=r"^tws:[A-Za-z0-9_:*.\-@#]*$")


class InvalidateOut(BaseModel):
    removed: int


class DependencyHealth(BaseModel):
    status: str
    latency_ms: float | None = None
    detail: str | None = None


class FullHealth(BaseModel):
    status: str
    auth: str
    dependencies: dict[str, DependencyHealth]


class UploadOut(BaseModel):
    ingested: list[str]
    unchanged: list[str]
    chunks: int
