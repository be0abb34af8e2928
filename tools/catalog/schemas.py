"""Input schemas of the shipped tools (validated before anything runs)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.days import Day

JOB_NAME = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$"
WORKSTATION = r"^/?[A-Za-z0-9][A-Za-z0-9_\-]{0,15}$"
STREAM = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class JobInput(Strict):
    job_name: str = Field(description="job name as in the plan, e.g. PAYROLL_NIGHTLY", pattern=JOB_NAME)
    workstation: str | None = Field(None, description="workstation, e.g. AGT1 (optional)", pattern=WORKSTATION)


class JobStatusInput(JobInput):
    day: Day | None = Field(None, description="the instance of that production day; default: the newest")


class HoursInput(Strict):
    hours: int = Field(24, ge=1, le=24 * 14, description="look back this many hours")


class FailedJobsInput(HoursInput):
    day: Day | None = Field(None, description="instead of hours: one production day (today: so far)")
    workstation: str | None = Field(None, description="only runs on this workstation, e.g. AGT1", pattern=WORKSTATION)
    with_blocking: bool = Field(
        False, description="also what each job still failed holds up downstream (to decide which first)"
    )
    with_causes: bool = Field(
        False, description="also each job still failed's cause, read from its log (and whether a rerun helps)"
    )


class JobLogsInput(Strict):
    job_name: str = Field(description="job name", pattern=JOB_NAME)
    lines: int = Field(100, ge=1, le=500, description="last N lines of the log")
    run_id: str | None = Field(None, description="a specific (past) run's id, from the history or the failed list")
    days_ago: int = Field(0, ge=0, le=14, description="0: the latest instance; 1: yesterday's instance of the job")
    failed: bool = Field(False, description="the instance's latest failed run (why it failed, though a rerun followed)")
    only_failed: bool = Field(False, description="read the log only when that run failed (its diagnosis)")


class NoInput(Strict):
    pass


class DependenciesInput(Strict):
    job_name: str = Field(description="job name", pattern=JOB_NAME)
    depth: int = Field(2, ge=1, le=10, description="levels up and down")


class HistoryInput(Strict):
    job_name: str = Field(description="job name", pattern=JOB_NAME)
    days: int = Field(7, ge=1, le=90, description="look back this many days")


class SimilarIncidentsInput(Strict):
    job_name: str | None = Field(None, description="find incidents like this job's latest failure", pattern=JOB_NAME)
    error_text: str | None = Field(None, description="or like this error message", min_length=3, max_length=2000)

    @model_validator(mode="after")
    def _one_of(self) -> SimilarIncidentsInput:
        if not self.job_name and not self.error_text:
            raise ValueError("give job_name or error_text")
        return self


class SearchInput(Strict):
    query: str = Field(description="question or keywords, in Portuguese or English", min_length=2, max_length=500)


class DiagnoseLogInput(BaseModel):
    log: str = Field(
        description="a job log (stdlist) or part of it, as the operator pasted it", min_length=1, max_length=200_000
    )
    status: Literal["ABEND", "FAIL"] | None = Field(None, description="the run's status, when known")
    return_code: int | None = Field(None, description="the run's return code, when known")


class WorkstationInput(Strict):
    name: str | None = Field(None, description="workstation name; all when omitted", pattern=WORKSTATION)


class WriteJobInput(Strict):
    job_name: str = Field(description="job name", pattern=JOB_NAME)
    workstation: str | None = Field(
        None, description="workstation, to choose among same-named jobs", pattern=WORKSTATION
    )
    job_stream: str | None = Field(None, description="job stream, to choose among same-named jobs", pattern=STREAM)
    job_id: str | None = Field(None, description="exact job id, when the tool asked which one", max_length=64)


class ConfirmJobInput(WriteJobInput):
    result: Literal["succ", "abend"] = Field(description="confirm as successful (succ) or failed (abend)")


class LongRunnersInput(Strict):
    factor: float = Field(1.5, ge=1.1, le=20, description="running longer than this many times the usual duration")


class WorkstationNameInput(Strict):
    name: str = Field(description="workstation name, e.g. AGT1", pattern=WORKSTATION)


class StreamInput(Strict):
    stream: str = Field(description="job stream name, e.g. PAYROLL_DAILY", pattern=STREAM)


class MessageInput(Strict):
    message_id: str = Field(
        description="a message id or code as a log prints it: AWSBHT023E, ORA-01017, SQLSTATE 40P01",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{2,23}$",
    )
