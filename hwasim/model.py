"""In-memory plan objects of the simulator: workstations, job streams, jobs, runs, dependencies.

Internal statuses use the v2 ``JobInPlanStatus`` enum values; the common (DWC) status is
derived from them as the product does (notes section 5.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

NOT_STARTED = frozenset({"HOLD", "READY", "WAIT"})
FINISHED = frozenset({"SUCC", "ABEND", "FAIL", "CANCL"})


@dataclass(slots=True)
class Workstation:
    id: str
    name: str
    type: str
    os: str
    node_name: str
    tcp_port: int
    down_since: datetime | None = None
    domain: str = "MASTERDM"
    limit: int = 100
    fence: int = 0
    description: str = ""

    @property
    def key(self) -> str:
        return f"/{self.name}"

    @property
    def linked(self) -> bool:
        return self.down_since is None

    def accepts_launch_at(self, at: datetime) -> bool:
        return self.down_since is None or at < self.down_since


@dataclass(slots=True)
class Dependency:
    """A dependency of a job or job stream; ``kind`` is the v2 ``dependencyType``."""

    id: str
    kind: str
    sequence: int
    pred_job: Job | None = None
    pred_stream: JobStream | None = None
    file_path: str | None = None
    file_arrives_at: datetime | None = None
    prompt_text: str | None = None
    prompt_answer: bool | None = None  # None: ASKED; True/False: ANSWERED_YES/NO
    released: bool = False
    pool: Resource | None = None  # RESOURCE: the resource it needs a unit of
    waiting: bool = False  # RESOURCE: the job waits for a free unit

    @property
    def prompt_answered(self) -> bool:
        return self.prompt_answer is True


@dataclass(slots=True)
class JobRun:
    id: str
    job_number: int
    status: str
    outcome: str  # "SUCC" or a failure kind's key (``stdlists.kinds()``), rolled when the run is created
    duration_s: int
    rerun_type: str = "REGULAR"
    substatus: str | None = None
    return_code: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    submitted: datetime | None = None
    canceled: bool = False
    cancel_pending: bool = False
    confirmed: bool = False
    killed: bool = False
    last_in_chain: bool = True
    workstation: str = ""
    log_text: str | None = None  # a staged run's program output, printed as given
    cause: str | None = None  # a staged run's true cause category (None: its kind's, or none)

    @property
    def planned_end(self) -> datetime | None:
        """When it ended, or (running) when it will: start + duration."""
        if self.end is not None or self.start is None:
            return self.end
        return self.start + timedelta(seconds=self.duration_s)


@dataclass(slots=True, eq=False)
class Job:
    id: str
    name: str
    stream: JobStream
    workstation: Workstation
    position: int
    sched_time: datetime
    script: str
    user_login: str
    estimated_s: int  # the engine's estimate (the definition's, from history)
    expected_s: int = 0  # what this instance will take on its day (0: the estimate)
    noise: float = 0.05  # how much one run varies around it
    priority: int = 10
    orig_priority: int = 10
    critical: bool = False
    requires_confirmation: bool = False
    deadline: datetime | None = None
    recovery_option: str = "STOP"
    description: str = ""
    deps: list[Dependency] = field(default_factory=list)
    successors: list[Job] = field(default_factory=list)
    runs: list[JobRun] = field(default_factory=list)
    time_released: bool = False

    @property
    def last_run(self) -> JobRun:
        return self.runs[-1]

    @property
    def status(self) -> str:
        return self.last_run.status

    @property
    def held(self) -> bool:
        return self.priority == 0


@dataclass(slots=True, eq=False)
class JobStream:
    id: str
    name: str
    internal_id: str
    workstation: Workstation
    sched_time: datetime
    day: int
    priority: int = 10
    deadline: datetime | None = None
    jobs: list[Job] = field(default_factory=list)
    deps: list[Dependency] = field(default_factory=list)
    successors: list[JobStream] = field(default_factory=list)

    @property
    def status(self) -> str:
        """Job-stream internal status derived from its jobs."""
        statuses = [j.status for j in self.jobs]
        if any(s == "EXEC" for s in statuses):
            return "EXEC"
        if all(s in {"SUCC", "CANCL"} for s in statuses):
            return "SUCC"
        if any(s in {"ABEND", "FAIL"} for s in statuses):
            return "ABEND" if not any(s in NOT_STARTED for s in statuses) else "STUCK"
        if all(s in NOT_STARTED for s in statuses):
            return "HOLD" if statuses and statuses[0] == "HOLD" else "READY"
        return "EXEC"

    @property
    def end(self) -> datetime | None:
        if self.status != "SUCC":
            return None
        ends = [j.last_run.end for j in self.jobs if j.last_run.end is not None]
        return max(ends) if ends else self.sched_time


@dataclass(slots=True, eq=False)
class Resource:
    id: str
    name: str
    workstation: Workstation
    quantity: int
    description: str = ""
    users: list[Job] = field(default_factory=list)  # jobs with a dependency on it

    @property
    def key(self) -> str:
        return f"{self.workstation.key}#/{self.name}"

    def holders(self, at: datetime) -> list[tuple[Job, JobRun]]:
        """The runs holding a unit at ``at``: started, and not yet ended."""
        held = []
        for job in self.users:
            for run in job.runs:
                end = run.planned_end
                if run.start is not None and run.status != "FAIL" and end is not None and run.start <= at < end:
                    held.append((job, run))
        return held

    def in_use(self, at: datetime) -> int:
        return len(self.holders(at))

    def free_from(self, at: datetime, job: Job) -> datetime | None:
        """The first instant not before ``at`` when a unit is free for ``job`` (None: never, the
        limit is 0)."""
        if self.quantity <= 0:
            return None
        moment = at
        while True:
            busy = [(j, r) for j, r in self.holders(moment) if j is not job]
            if len(busy) < self.quantity:
                return moment
            moment = min(r.planned_end or moment for _, r in busy)


def common_status(run: JobRun, job: Job) -> str:
    """The v2 ``CommonStatusV2`` of a run (DWC mapping, notes section 5.2)."""
    if run.canceled:
        return "CANCELED"
    status = run.status
    if status in {"HOLD", "READY", "WAIT"} and job.held and run is job.last_run:
        return "HELD"
    return {
        "HOLD": "WAITING",
        "WAIT": "WAITING",
        "PEND": "WAITING",
        "READY": "READY",
        "EXEC": "RUNNING",
        "SUCC": "SUCCESSFUL",
        "ABEND": "ERROR",
        "FAIL": "ERROR",
        "CANCL": "CANCELED",
    }.get(status, "UNDECIDED")


def stream_common_status(stream: JobStream) -> str:
    return {
        "EXEC": "RUNNING",
        "SUCC": "SUCCESSFUL",
        "ABEND": "ERROR",
        "STUCK": "BLOCKED",
        "HOLD": "WAITING",
        "READY": "READY",
    }.get(stream.status, "UNDECIDED")


def dependency_status(dep: Dependency, now: datetime | None = None) -> str:
    """The v2 ``dependencyStatus`` of a dependency (a file needs the clock, else UNDECIDED)."""
    if dep.released:
        return "SATISFIED"
    if dep.pred_job is not None:
        run = dep.pred_job.last_run
        return "SATISFIED" if run.status == "SUCC" or run.canceled else "UNSATISFIED"
    if dep.pred_stream is not None:
        return "SATISFIED" if dep.pred_stream.status == "SUCC" else "UNSATISFIED"
    if dep.kind == "RESOURCE":
        return "UNSATISFIED" if dep.waiting else "SATISFIED"
    if dep.kind == "PROMPT":
        return "SATISFIED" if dep.prompt_answered else "UNSATISFIED"
    if dep.kind == "FILE" and now is not None and dep.file_arrives_at is not None:
        return "SATISFIED" if dep.file_arrives_at <= now else "UNSATISFIED"
    return "UNDECIDED"
