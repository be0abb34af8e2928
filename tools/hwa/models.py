"""Pydantic models of the v2 JSON the assistant uses (unknown fields are kept, not rejected)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

FAILED_STATUSES = frozenset({"ABEND", "FAIL"})
WAITING_STATUSES = frozenset({"HOLD", "READY", "WAIT"})
LINKED_STATES = frozenset({"LINKED", "FULLY_LINKED", "DIRECTLY_LINKED", "HOST_LINKED"})

T = TypeVar("T")


class HWAModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class CompositeStatus(HWAModel):
    status: str | None = None
    substatus: str | None = None
    canceled: bool = False
    error: bool = False
    started: bool = False
    cancel_pending: bool = False


class TimeInfo(HWAModel):
    estimated_duration: str | None = None
    actual_start_time: datetime | None = None
    actual_end_time: datetime | None = None
    elapsed_time: str | None = None


class JobRun(HWAModel):
    id: str
    job_number: int | None = None
    composite_status: CompositeStatus | None = None
    common_status: str | None = None
    return_code: int | None = None
    rerun_type: str | None = None
    actual_workstation: str | None = None
    confirmed: bool | None = None
    last_in_rerun_chain: bool | None = None
    time_info: TimeInfo | None = None

    @property
    def status(self) -> str | None:
        return self.composite_status.status if self.composite_status else None


class Dependency(HWAModel):
    dependency_type: str
    id: str | None = None
    dependency_status: str | None = None
    satisfied: bool | None = None
    job_id: str | None = None
    job_name: str | None = None
    job_stream_id: str | None = None
    job_stream_name: str | None = None
    job_stream_workstation: str | None = None
    name: str | None = None
    prompt_name: str | None = None
    text: str | None = None
    file: dict[str, Any] | None = None


class JobOptions(HWAModel):
    critical: bool = False
    requires_confirmation: bool = False


class TimeRestrictions(HWAModel):
    start_time: datetime | None = None
    deadline_time: datetime | None = None


class JobDefinition(HWAModel):
    name: str | None = None
    workstation: str | None = None
    description: str | None = None
    task: dict[str, Any] | None = None
    recovery_option: str | None = None
    estimated_duration: str | None = None


class JobInPlan(HWAModel):
    id: str
    name: str
    flow_node_type: str | None = None
    workstation: str | None = None
    job_stream_id: str | None = None
    job_stream_name: str | None = None
    job_stream_workstation: str | None = None
    sched_time: datetime | None = None
    priority: int | None = None
    last_run_composite_status: CompositeStatus | None = None
    last_run_common_status: str | None = None
    job_options: JobOptions | None = None
    time_restrictions: TimeRestrictions | None = None
    job_definition: JobDefinition | None = None
    jobruns: list[JobRun] = Field(default_factory=list)
    dependencies: list[Dependency] | None = None  # filled only by GET /plan/job/{id}
    dependencies_stats: dict[str, int] | None = None

    @property
    def has_dependencies(self) -> bool:
        """False only when the engine says so (``dependenciesStats``): then there is nothing to fetch."""
        stats = self.dependencies_stats
        return stats is None or stats.get("numberOfDependencies", 1) > 0

    @property
    def status(self) -> str | None:
        """Internal status of the latest run (v2 has no top-level ``status``)."""
        if self.last_run_composite_status and self.last_run_composite_status.status:
            return self.last_run_composite_status.status
        run = self.last_run
        return run.status if run else None

    @property
    def last_run(self) -> JobRun | None:
        chained = [r for r in self.jobruns if r.last_in_rerun_chain]
        return chained[-1] if chained else (self.jobruns[-1] if self.jobruns else None)

    @property
    def return_code(self) -> int | None:
        run = self.last_run
        return run.return_code if run else None

    @property
    def is_failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def qualified_name(self) -> str:
        """conman-style ``WS#JOBSTREAM.JOB``."""
        ws = (self.job_stream_workstation or self.workstation or "").lstrip("/")
        return f"{ws}#{self.job_stream_name}.{self.name}"


class JobStreamInPlan(HWAModel):
    id: str
    name: str
    flow_node_type: str | None = None
    workstation: str | None = None
    sched_time: datetime | None = None
    composite_status: CompositeStatus | None = None
    common_status: str | None = None
    time_restrictions: TimeRestrictions | None = None
    job_stream_stats: dict[str, int] | None = None
    jobs: list[JobInPlan] = Field(default_factory=list)
    dependencies: list[Dependency] | None = None
    dependencies_stats: dict[str, int] | None = None

    @property
    def status(self) -> str | None:
        return self.composite_status.status if self.composite_status else None

    @property
    def has_dependencies(self) -> bool:
        stats = self.dependencies_stats
        return stats is None or stats.get("numberOfDependencies", 1) > 0


class WorkstationInPlan(HWAModel):
    id: str
    name: str
    type: str | None = None
    os: str | None = None
    node_name: str | None = None
    domain_name: str | None = None
    description: str | None = None
    active_states: list[str] = Field(default_factory=list)

    @property
    def linked(self) -> bool:
        return bool(LINKED_STATES & set(self.active_states))

    @property
    def running(self) -> bool:
        return bool({"RUNNING", "JOBMAN_UP"} & set(self.active_states))


class ConfigValue(HWAModel):
    value: str | None = None
    description: str | None = None


class EngineInfo(HWAModel):
    display_version: str | None = None
    full_version: str | None = None
    timezone: str | None = None
    locale: str | None = None


class Page(BaseModel, Generic[T]):
    count: int | None = None
    results: list[T] = Field(default_factory=list)
    next: str | None = None
    previous: str | None = None


class GroupedCount(HWAModel):
    count: int = 0
    grouped_count: dict[str, int] = Field(default_factory=dict)


class ActionResult(HWAModel):
    id: str | None = None
    url: str | None = None
    message: str | None = None
    is_error: bool | None = None


class FilterActionResult(HWAModel):
    successful_resource_responses: list[ActionResult] = Field(default_factory=list)
    failed_resource_responses: list[ActionResult] = Field(default_factory=list)


FlowNode = JobInPlan | JobStreamInPlan


def parse_flow_node(data: dict[str, Any]) -> FlowNode:
    if data.get("flowNodeType") == "JOBSTREAM":
        return JobStreamInPlan.model_validate(data)
    return JobInPlan.model_validate(data)
