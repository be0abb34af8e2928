"""The living plan: a clock that moves jobs HOLD→READY→EXEC→SUCC/ABEND, and operator actions.

``Plan.advance(to)`` walks jobs in topological order, so a predecessor's end time is known
before its successors are looked at; a single pass is an exact event simulation.
Actions follow the state machine of the notes (section 6) and raise ``ActionError`` (HTTP 400)
for transitions the product refuses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from .config import SimConfig
from .durations import set_deadlines
from .generator import SCRIPTED_STREAMS, PlanBuilder, new_run
from .model import FINISHED, NOT_STARTED, Dependency, Job, JobRun, JobStream, Resource, Workstation
from .resources import launch_time
from .stdlists import kinds

# how often a rerun fails the same way: always when the cause needs a fix first (a rerun does not
# help), sometimes when it is transient; PAYROLL_NIGHTLY's missing file came back once (its history)
PERSISTENT_FAILURES = {"permission_denied": 1.0, "missing_file": 0.5}


def persistence(outcome: str) -> float:
    kind = kinds().get(outcome)
    if outcome in PERSISTENT_FAILURES or kind is None:
        return PERSISTENT_FAILURES.get(outcome, 0.0)
    return {"no": 0.6, "unknown": 0.3, "yes": 0.0}[kind.rerun_helps]


class ActionError(Exception):
    """An action the job's current state does not allow (the engine answers 400)."""

    def __init__(self, message: str, exception_name: str = "InvalidActionException") -> None:
        super().__init__(message)
        self.message = message
        self.exception_name = exception_name


@dataclass
class AuditEntry:
    time: datetime
    user: str
    action: str
    target: str
    headers: dict[str, str]
    outcome: str


@dataclass
class Plan:
    """The current plan of the simulated engine."""

    workstations: list[Workstation]
    streams: list[JobStream]
    jobs: list[Job]
    now: datetime
    seed: int
    builder: PlanBuilder
    audit: list[AuditEntry] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed * 7919 + 1)
        self.jobs_by_id = {j.id: j for j in self.jobs}
        self.runs_by_id: dict[str, tuple[Job, JobRun]] = {r.id: (j, r) for j in self.jobs for r in j.runs}
        self.streams_by_id = {s.id: s for s in self.streams}
        self.workstations_by_id = {w.id: w for w in self.workstations}
        self.plan_start = min((s.sched_time for s in self.streams), default=self.now)

    # ------------------------------------------------------------------ clock
    def advance(self, to: datetime) -> None:
        """Move the clock to ``to`` (never backwards) and let every job progress."""
        self.now = max(self.now, to)
        for job in self.jobs:
            run = job.last_run
            if run.status in FINISHED or run.status == "PEND":
                continue
            self._step(job, run)

    def _step(self, job: Job, run: JobRun) -> None:
        if run.status == "EXEC":
            self._maybe_finish(job, run)
            return
        ready_at, blocker = self._ready_time(job)
        if ready_at is None:
            run.status, run.substatus = ("WAIT", None) if blocker == "STREAM" else ("HOLD", blocker)
            return
        if run.cancel_pending:
            run.status, run.canceled, run.end = "CANCL", True, ready_at
            return
        if job.held:
            run.substatus = "HOLD_PRIORITY_ZERO"
            return
        if ready_at > self.now:
            run.status, run.substatus = "HOLD", "HOLD_WAITING_FOR_TIME"
            return
        if not job.workstation.accepts_launch_at(ready_at):
            run.status, run.substatus = "READY", "READY_WAITING_FOR_AGENT"
            return
        start = launch_time(job, ready_at)
        waiting = start is None or start > self.now
        for dep in job.deps:
            dep.waiting = waiting and dep.kind == "RESOURCE" and not dep.released
        if start is None or waiting:
            run.status, run.substatus = "READY", "READY_WAITING_FOR_RESOURCES"
            return
        self._launch(job, run, start)

    def _ready_time(self, job: Job) -> tuple[datetime | None, str | None]:
        """When the job's dependencies were all met, or None with what still blocks it."""
        times: list[datetime] = [] if job.time_released else [job.sched_time]
        if job.last_run.submitted is not None:
            times.append(job.last_run.submitted)
        for dep in job.stream.deps:
            ok, at = self._dep_met(dep)
            if not ok:
                return None, "STREAM"
            if at is not None:
                times.append(at)
        if job.last_run.rerun_type == "REGULAR":
            for dep in job.deps:
                ok, at = self._dep_met(dep)
                if not ok:
                    return None, {
                        "FILE": "HOLD_WAITING_FOR_FILE",
                        "PROMPT": "HOLD_WAITING_FOR_PROMPT",
                    }.get(dep.kind, "HOLD_WAITING_FOR_PREDECESSOR")
                if at is not None:
                    times.append(at)
        return max(times), None

    def _dep_met(self, dep: Dependency) -> tuple[bool, datetime | None]:
        if dep.released:
            return True, None
        if dep.pred_job is not None:
            pred = dep.pred_job.last_run
            if pred.status == "SUCC" or pred.canceled:
                return True, pred.end
            return False, None
        if dep.pred_stream is not None:
            end = dep.pred_stream.end
            return end is not None, end
        if dep.kind == "FILE":
            arrived = dep.file_arrives_at is not None and dep.file_arrives_at <= self.now
            return arrived, dep.file_arrives_at
        if dep.kind == "PROMPT":
            return dep.prompt_answered, None
        return True, None  # resources are looked at when the job could start (launch_time)

    def _launch(self, job: Job, run: JobRun, at: datetime) -> None:
        run.start, run.substatus = at, None
        kind = kinds().get(run.outcome)
        if kind is not None and kind.status == "FAIL":
            run.status, run.end = "FAIL", at
            self._after_failure(job, run)
            return
        run.status = "EXEC"
        self._maybe_finish(job, run)

    def _maybe_finish(self, job: Job, run: JobRun) -> None:
        assert run.start is not None
        end = run.start + timedelta(seconds=run.duration_s)
        if end > self.now:
            return
        run.end = end
        if run.outcome == "SUCC":
            run.return_code = 0
            # on past days the operator confirmed; today the run waits for confirmation
            run.status = "PEND" if job.requires_confirmation and job.stream.day == 0 else "SUCC"
            run.confirmed = job.requires_confirmation and run.status == "SUCC"
            run.substatus = "SUCC_COMPLETED" if run.status == "SUCC" else None
            return
        run.status, run.return_code = "ABEND", kinds()[run.outcome].rc
        self._after_failure(job, run)

    def _after_failure(self, job: Job, run: JobRun) -> None:
        """On past days operators reran every failure some minutes later, fixing the cause by
        the second attempt at the latest: earlier days end complete, with the incidents in history."""
        if job.stream.day == 0 or len(job.runs) > 2:
            return
        assert run.end is not None
        rerun = self._new_rerun(job, run.end + timedelta(minutes=self.rng.randint(15, 90)))
        if len(job.runs) > 2:
            rerun.outcome = "SUCC"
        self._step(job, rerun)

    def _new_rerun(self, job: Job, submitted: datetime) -> JobRun:
        previous = job.last_run
        persistent = persistence(previous.outcome)
        outcome = previous.outcome if self.rng.random() < persistent else "SUCC"
        rerun = new_run(self.builder.ids, job, "READY", outcome, rerun_type="RERUN")
        rerun.submitted = submitted
        previous.last_in_chain = False
        job.runs.append(rerun)
        self.runs_by_id[rerun.id] = (job, rerun)
        return rerun

    # ------------------------------------------------------------------ actions
    def act(
        self, job: Job, verb: str, user: str, headers: dict[str, str], dependency_ids: set[str] | None = None
    ) -> str:
        """Apply a job action; returns a message or raises ActionError."""
        handler = getattr(self, "_act_" + verb.replace("-", "_"), None)
        if verb == "release-dependencies":
            handler = lambda j: self._release_dependencies(j, dependency_ids or set())  # noqa: E731
        if handler is None:
            raise ActionError(f"AWSSIM0400E The action {verb!r} is not supported.", "UnsupportedActionException")
        try:
            message: str = handler(job)
        except ActionError as exc:
            self._record(user, verb, job, headers, f"refused: {exc.message}")
            raise
        self._record(user, verb, job, headers, "ok")
        self.advance(self.now)
        return message

    def rerun(self, run_id: str, user: str, headers: dict[str, str]) -> JobRun:
        job, run = self.runs_by_id[run_id]
        status = run.status
        if not run.last_in_chain:
            raise ActionError(f"AWSSIM0410E Run {run_id} is not the last in its rerun chain.")
        if not (status in {"SUCC", "ABEND", "FAIL"} or run.canceled):
            self._record(user, "rerun", job, headers, f"refused: status {status}")
            raise ActionError(
                f"AWSSIM0411E The job {job.name} cannot be rerun: its status is {status}; "
                "rerun is allowed from SUCC, ABEND, FAIL or a cancelled job."
            )
        rerun = self._new_rerun(job, self.now)
        self._record(user, "rerun", job, headers, f"ok: new run {rerun.id}")
        self.advance(self.now)
        return rerun

    def _not_started(self, job: Job, verb: str) -> None:
        if job.status not in NOT_STARTED or job.last_run.canceled:
            raise ActionError(
                f"AWSSIM0420E The job {job.name} cannot be {verb}: its status is {job.status}"
                f"{' (cancelled)' if job.last_run.canceled else ''}."
            )

    def _act_hold(self, job: Job) -> str:
        self._not_started(job, "held")
        if job.held:
            raise ActionError(f"AWSSIM0421E The job {job.name} is already held.")
        job.priority = 0
        return f"Job {job.name} held (priority 0)."

    def _act_release(self, job: Job) -> str:
        if not job.held:
            raise ActionError(f"AWSSIM0422E The job {job.name} is not held.")
        job.priority = job.orig_priority
        job.last_run.submitted = self.now if job.last_run.submitted is None else job.last_run.submitted
        job.last_run.substatus = None
        return f"Job {job.name} released (priority {job.priority})."

    def _act_cancel(self, job: Job) -> str:
        run = job.last_run
        if run.canceled:
            raise ActionError(f"AWSSIM0423E The job {job.name} is already cancelled.")
        if run.status in {"SUCC"}:
            raise ActionError(f"AWSSIM0424E The job {job.name} completed successfully and cannot be cancelled.")
        run.canceled = True
        if run.status in NOT_STARTED:
            run.status, run.end, run.substatus = "CANCL", self.now, None
        return f"Job {job.name} cancelled; its dependents are released."

    def _act_cancel_pending(self, job: Job) -> str:
        self._not_started(job, "cancelled pending")
        job.last_run.cancel_pending = True
        return f"Job {job.name} will be cancelled when its dependencies are resolved."

    def _act_kill(self, job: Job) -> str:
        run = job.last_run
        if run.status != "EXEC":
            raise ActionError(
                f"AWSSIM0430E The job {job.name} is not running (status {run.status}); "
                "only a running job can be killed."
            )
        run.status, run.killed, run.end, run.return_code = "ABEND", True, self.now, 137
        return f"Job {job.name} killed; it ends in ABEND and its dependents are not released."

    def _confirm(self, job: Job, target: str) -> str:
        run = job.last_run
        status = run.status
        if status in {"SUCC", "FAIL"}:
            raise ActionError(f"AWSSIM0440E Confirm is not supported for a job in status {status}.")
        if status == "ABEND" and target == "ABEND":
            return f"Job {job.name} is already ABEND: no effect."
        if status in NOT_STARTED:
            return f"Job {job.name} has not run yet (status {status}): no effect."
        run.status, run.confirmed = target, True
        run.end = run.end or self.now
        run.substatus = "SUCC_COMPLETED" if target == "SUCC" else None
        return f"Job {job.name} confirmed {target}."

    def _act_confirm_succ(self, job: Job) -> str:
        return self._confirm(job, "SUCC")

    def _act_confirm_abend(self, job: Job) -> str:
        return self._confirm(job, "ABEND")

    def _act_release_all_dependencies(self, job: Job) -> str:
        if job.status not in NOT_STARTED:
            raise ActionError(f"AWSSIM0450E The job {job.name} has no pending dependencies (status {job.status}).")
        for dep in job.deps:
            dep.released = True
        job.time_released = True
        job.last_run.submitted = self.now
        return f"All dependencies of job {job.name} released."

    def _release_dependencies(self, job: Job, ids: set[str]) -> str:
        if job.status not in NOT_STARTED:
            raise ActionError(f"AWSSIM0450E The job {job.name} has no pending dependencies (status {job.status}).")
        chosen = [d for d in job.deps if d.id in ids]
        if not chosen:
            raise ActionError(f"AWSSIM0451E None of the given dependency ids belong to job {job.name}.")
        for dep in chosen:
            dep.released = True
        job.last_run.submitted = self.now
        return f"{len(chosen)} dependencies of job {job.name} released."

    def _record(self, user: str, action: str, job: Job, headers: dict[str, str], outcome: str) -> None:
        self.record(user, action, f"{job.workstation.name}#{job.stream.name}.{job.name}", headers, outcome)

    def record(self, user: str, action: str, target: str, headers: dict[str, str], outcome: str) -> None:
        """One entry of the audit (``GET /admin/audit``) for an action on any plan object."""
        self.audit.append(AuditEntry(self.now, user, action, target, headers, outcome))

    # ------------------------------------------------------------------ admin
    def set_linked(self, name: str, linked: bool) -> Workstation:
        ws = next(w for w in self.workstations if w.name == name)
        if linked and not ws.linked:
            ws.down_since = None
            for job in self.jobs:
                if job.workstation is ws and job.status == "READY":
                    job.last_run.submitted = max(self.now, job.last_run.submitted or self.now)
        elif not linked and ws.linked:
            ws.down_since = self.now
        self.advance(self.now)
        return ws

    def answer_prompt(self, job: Job) -> None:
        for dep in job.deps:
            if dep.kind == "PROMPT" and dep.prompt_answer is None:
                self.reply(dep, True)

    def reply(self, prompt: Dependency, answer: bool) -> None:
        """Answer an ASKED prompt: yes releases what waits on it (from now), no keeps it waiting."""
        if prompt.prompt_answer is not None:
            raise ActionError(f"AWSSIM0431E The prompt PR{prompt.sequence} is not ASKED: it was answered.")
        prompt.prompt_answer = answer
        for job in self.jobs:
            if answer and any(dep is prompt for dep in job.deps):
                job.last_run.submitted = max(self.now, job.last_run.submitted or self.now)
        self.advance(self.now)

    def set_quantity(self, resource: Resource, quantity: int) -> None:
        """The resource's new limit; jobs waiting for a unit start from now if one is free."""
        resource.quantity = quantity
        for job in resource.users:
            if job.last_run.substatus == "READY_WAITING_FOR_RESOURCES":
                job.last_run.submitted = max(self.now, job.last_run.submitted or self.now)
        self.advance(self.now)

    def prompts(self) -> dict[str, Dependency]:
        return {d.id: d for j in self.jobs for d in j.deps if d.kind == "PROMPT"}

    def summary(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for job in self.jobs:
            counts[job.status] = counts.get(job.status, 0) + 1
        return {
            "now": self.now.isoformat(),
            "jobs": len(self.jobs),
            "streams": len(self.streams),
            "statuses": counts,
        }


def build_plan(
    seed: int = 42,
    jobs: int = 300,
    anchor: datetime | None = None,
    days: int = 3,
    failure_rate: float = 0.04,
    day_start: time | None = None,
) -> Plan:
    """Generate a plan and run its history up to ``anchor`` (now by default); production days begin
    at ``day_start`` (UTC) when given."""
    anchor = (anchor or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    builder = PlanBuilder(seed, jobs, anchor, days, failure_rate, day_start)
    builder.build()
    plan = Plan(
        builder.workstations,
        builder.streams,
        builder.jobs,
        builder.today_start - timedelta(days=days),
        seed,
        builder,
    )
    plan.advance(anchor)
    set_deadlines(plan.streams, builder.slow_nights, SCRIPTED_STREAMS, seed)
    return plan


def plan_for(config: SimConfig) -> Plan:
    """The plan the simulator's settings describe (seed, size, days, failure rate, start of day)."""
    return build_plan(
        config.seed, config.jobs, days=config.days, failure_rate=config.failure_rate, day_start=config.start_of_day()
    )
