"""Request and response models of the HTTP API (they make the OpenAPI document complete)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, model_validator

from tools.store.approvals import Approval

# NUL and other control characters (tab and line breaks allowed), lone surrogates: refused in every text
FORBIDDEN_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(value: str) -> str:
    found = FORBIDDEN_CHARACTERS.search(value)
    if found:
        raise ValueError(f"contains a forbidden character (U+{ord(found.group()):04X} at position {found.start()})")
    return value


# the same rule in the OpenAPI document (a client sees what is refused before sending it)
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"


def iso_only(value: Any) -> Any:
    """An ISO 8601 date-time and nothing else (a bare number is not read as a Unix time)."""
    if not isinstance(value, str) or not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("an ISO 8601 date-time with its zone, e.g. 2026-11-26T06:00:00Z")
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(iso_only)]


def true_or_false(value: Any) -> Any:
    """A query flag as the document says: ``true`` or ``false`` (not yes/1/on)."""
    if isinstance(value, str) and value not in {"true", "false"}:
        raise ValueError("true or false")
    return value


Flag = Annotated[bool, BeforeValidator(true_or_false)]


def whole_number(value: Any) -> Any:
    """An integer as JSON Schema means it: ``8`` or ``8.0``, never ``true`` or ``"8"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("an integer")
        return int(value)
    return value


Text = Annotated[str, AfterValidator(clean_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]


class ErrorBody(BaseModel):
    """Every error: the reason (a list of field problems for 422) and the request id of the log line."""

    detail: str | list[str]
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


class ModelFailureOut(BaseModel):
    kind: str = Field(
        description="timeout | rate_limited | server_error | unreachable | rejected | malformed | cut_stream"
        " | too_long | empty | refusal | echo"
    )
    detail: str


class ChatResponse(BaseModel):
    thread_id: str
    message: str
    query_type: str | None
    entities: dict[str, Any]
    tool_calls: list[dict[str, Any]]
    sources: list[str]
    errors: list[dict[str, Any]] = Field(default_factory=list)
    pending_approval: str | None = None
    run_id: str | None = Field(None, description="this answer's run (POST /api/v2/feedback rates it)")
    variant: str | None = Field(None, description="the configuration (A/B variant) that produced the answer")
    model_failure: ModelFailureOut | None = Field(
        None, description="the model gave no usable answer: the message was composed from the gathered facts"
    )


class FeedbackIn(BaseModel):
    run_id: uuid.UUID = Field(description="the answer's run_id (chat JSON, SSE end, WebSocket final message)")
    score: Literal[1, -1] = Field(description="1: thumbs up, -1: thumbs down")
    comment: Text | None = Field(None, max_length=2000)


class FeedbackOut(BaseModel):
    run_id: str
    caller: str
    score: int
    comment: str | None
    variant: str
    created_at: datetime
    updated_at: datetime


class ApprovalDecision(BaseModel):
    justification: Text = Field(
        min_length=3, max_length=2000, description="the approver's own words (audited), as on every client"
    )
    ticket: str | None = Field(None, max_length=64, pattern=r"^[A-Za-z0-9_.\-/#]+$")


class RejectDecision(BaseModel):
    justification: Text | None = Field(None, max_length=2000, description="why it was rejected (optional)")


class ApprovalResult(BaseModel):
    approval: Approval
    run: ChatResponse | None = None


class ResolutionIn(BaseModel):
    resolution: Text = Field(min_length=3, max_length=4000)


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


class DocumentOut(BaseModel):
    id: str
    source: str
    title: str | None
    chunks: int
    ingested_at: datetime
    uploaded_by: str | None = Field(description="who uploaded it; null: shipped or ingested on the server")
    status: str = Field(description="active (retrieved) or quarantined (waits for an admin's release)")
    quarantine_reason: str | None
    released_by: str | None
    released_at: datetime | None


class UploadOut(BaseModel):
    ingested: list[str]
    unchanged: list[str]
    chunks: int
    document: DocumentOut


class InvestigationOut(BaseModel):
    """One investigation: a failed run (or a job past its deadline) as the watcher found it."""

    id: int
    run_id: str
    kind: Literal["failure", "late"]
    job_id: str | None
    job_name: str
    workstation: str | None
    job_stream: str | None
    status: str | None
    return_code: int | None
    occurred_at: datetime | None
    category: str
    severity: Literal["critical", "high", "medium", "low"]
    root_run_id: str | None = Field(description="the root failure this one cascades from; null: a root")
    blocked_jobs: int
    blocked_streams: int
    critical_blocked: int
    evidence: dict[str, Any]
    next_step: str
    next_step_pt: str
    action: str | None = Field(description="the write that would act on it (needs an approval)")
    created_at: datetime | None


class CascadeGroup(BaseModel):
    """A root failure and the failures that follow from it: one problem, not N alarms."""

    root: InvestigationOut
    cascade: list[str] = Field(description="job names of the failures below the root")
    blocked_jobs: int


class InvestigationList(BaseModel):
    count: int
    groups: list[CascadeGroup]
    investigations: list[InvestigationOut]


class CriticalPathStep(BaseModel):
    job: str
    status: str | None
    expected_minutes: float
    estimated_from_runs: int = Field(description="successful runs the duration is the median of (0: a default)")
    note: str | None = None


class SlaProjection(BaseModel):
    kind: Literal["job", "stream"]
    name: str
    job_stream: str | None
    deadline: datetime
    expected_finish: datetime
    slack_minutes: float = Field(description="negative: expected after the deadline")
    status: str | None
    drivers: list[CriticalPathStep] = Field(description="the critical path that decides the finish, first job first")


class SlaRisk(BaseModel):
    now: datetime
    within_hours: int
    at_risk: list[SlaProjection]
    on_track: int


class DiagnoseIn(BaseModel):
    """A pasted log; ``return_code`` is an integer as JSON Schema means it (``8`` or ``8.0``, never ``true``)."""

    @model_validator(mode="before")
    @classmethod
    def _whole_return_code(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("return_code") is not None:
            data = {**data, "return_code": whole_number(data["return_code"])}
        return data

    log: str = Field(max_length=2_000_000, description="the job log (stdlist) text, or part of it")
    status: Literal["ABEND", "FAIL"] | None = Field(None, description="the run's status, when known")
    return_code: int | None = Field(None, ge=-2_147_483_648, le=2_147_483_647)
    language: Literal["en", "pt"] = "en"


class DiagnosisOut(BaseModel):
    category: Literal[
        "missing_input", "database", "resource", "permission", "timeout", "dependency", "agent", "unknown"
    ]
    line: str | None = Field(description="the decisive line, as the log prints it")
    line_number: int | None = Field(description="its number in the log (1-based)")
    meaning: str
    rerun_helps: Literal["yes", "no", "unknown"]
    next_step: str
    confidence: float
