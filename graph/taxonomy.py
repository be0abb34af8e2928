"""The one taxonomy: query types, languages and the entities a question can carry."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from tools.days import Day


class QueryType(StrEnum):
    STATUS = "status"
    TROUBLESHOOT = "troubleshoot"
    FAILED_JOBS = "failed_jobs"
    LOGS = "logs"
    DEPENDENCIES = "dependencies"
    HEALTH = "health"
    ACTION = "action"
    HOWTO = "howto"
    OUTCOME = "outcome"  # what happened to this conversation's requests ("did it work?")
    IMPACT = "impact"  # what-if: what an action would do; explains, never acts
    HISTORY = "history"  # past runs, durations, long runners
    SLA = "sla"  # critical jobs, deadlines, lateness
    STREAM = "stream"  # a job stream's state and what blocks it
    WORKSTATION = "workstation"  # what runs on (or waits for) a workstation
    PROMPTS = "prompts"  # prompts waiting for a reply
    DIGEST = "digest"  # what happened overnight: the watcher's investigations, roots and cascades
    DIAGNOSE = "diagnose"  # a job log pasted into the chat: what broke, and what to do
    HANDOVER = "handover"  # what the next shift must know (graph/capabilities/handover.py)
    LONG_RUNNERS = "long_runners"  # jobs running far beyond their usual duration
    CHANGES = "changes"  # what changed for a job since the previous production day
    MESSAGE = "message"  # what a message id means and which jobs got it
    PRIORITISE = "prioritise"  # which failed job first
    STUCK = "stuck"  # what is stuck now, plan-wide, in the order to look at it
    OTHER = "other"


Language = Literal["pt", "en"]
Action = Literal["rerun", "hold", "release", "cancel", "kill", "confirm"]


class Entities(BaseModel):
    jobs: list[str] = Field(default_factory=list)
    job_streams: list[str] = Field(default_factory=list)
    workstations: list[str] = Field(default_factory=list)
    statuses: list[str] = Field(default_factory=list)
    return_codes: list[int] = Field(default_factory=list)
    message_ids: list[str] = Field(default_factory=list)
    time_window_hours: int | None = None
    action: Action | None = None
    inferred: dict[str, str] = Field(default_factory=dict)  # what the user wrote -> the plan's name it was read as
    run_ids: list[str] = Field(default_factory=list)  # a run named by its id (a past run's log)
    days_ago: int | None = None  # "yesterday's log": the job's instance of that many days ago
    day: Day | None = None  # "ontem", "tonight": a production day (tools.days)

    def is_empty(self) -> bool:
        return not (
            self.jobs
            or self.job_streams
            or self.workstations
            or self.statuses
            or self.return_codes
            or self.message_ids
            or self.time_window_hours
            or self.day
            or self.action
        )


class Classification(BaseModel):
    query_type: QueryType
    language: Language
    confidence: float = Field(ge=0, le=1)
    entities: Entities = Field(default_factory=Entities)

    def as_output(self) -> dict[str, object]:
        """The ``resync classify`` JSON shape."""
        entities = self.entities.model_dump(exclude={"inferred", "run_ids", "days_ago", "day"})  # the contract's keys
        return {"query_type": self.query_type.value, "language": self.language, "entities": entities}
