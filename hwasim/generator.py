"""Deterministic plan generator: workstations, job streams, a dependency DAG and run history.

The structure and every outcome come from ``random.Random(seed)``; times are anchored at
``anchor`` (the current time by default) so that the plan always shows today's production day
in progress, with earlier days complete in the history.
"""

from __future__ import annotations

import random
import uuid
import zlib
from datetime import date, datetime, time, timedelta

from .durations import SLOW_CAUSES, SlowNight, has_deadline, night_of, profile, run_seconds
from .model import Dependency, Job, JobRun, JobStream, Resource, Workstation
from .resources import new_resource
from .stdlists import kinds_for, platform_of

DOMAINS: list[tuple[str, str, list[str]]] = [
    # (stream prefix, job prefix, job verbs); "=NAME" is a job defined once and used in several streams
    ("PAYROLL", "PAYROLL", ["NIGHTLY", "EXTRACT", "CALC_TAXES", "POST_GL", "REPORT", "=ARCHIVE_LOGS"]),
    ("BILLING", "BILLING", ["EXTRACT", "RATE_CALLS", "INVOICE_GEN", "SEND_EDI", "RECONCILE", "=ARCHIVE_LOGS"]),
    ("ETL_SALES", "ETL_SALES", ["EXTRACT", "TRANSFORM", "LOAD_DW", "VALIDATE", "AGGREGATE", "PUBLISH"]),
    ("GL_CLOSE", "GL", ["IMPORT_JOURNALS", "POSTING", "TRIAL_BALANCE", "CONSOLIDATE", "REPORT"]),
    ("BACKUP", "BACKUP", ["DB_PROD", "DB_DW", "FILES_NAS", "VERIFY", "PURGE_OLD"]),
    ("CRM_SYNC", "CRM", ["EXPORT_LEADS", "SYNC_ACCOUNTS", "MERGE_DUPES", "NOTIFY"]),
    ("INVENTORY", "INV", ["SNAPSHOT", "RESTOCK_CALC", "SUPPLIER_FEED", "REPORT"]),
    ("HR_FEED", "HR", ["EMPLOYEE_FEED", "BENEFITS_SYNC", "BADGE_EXPORT", "AUDIT"]),
    ("TREASURY", "TRS", ["BANK_STATEMENTS", "CASH_POSITION", "FX_RATES", "PAYMENTS_OUT"]),
    ("RISK", "RISK", ["MARKET_DATA", "VAR_CALC", "LIMITS_CHECK", "REGULATORY_RPT"]),
]

#: incidents every plan has, so that demos and tests can rely on them: (job, day) -> outcome
SCRIPTED_INCIDENTS = {
    ("PAYROLL_NIGHTLY", 0): "missing_file",
    ("PAYROLL_NIGHTLY", 1): "missing_file",
    ("BILLING_INVOICE_GEN", 0): "deadlock",
    ("BILLING_INVOICE_GEN", 2): "deadlock",
    ("BACKUP_DB_PROD", 0): "launch_failure",
}

#: streams that always run on a given workstation (index): payroll on AGT1, the HR feed on AGT4,
#: the agent that goes down today, so its jobs wait in READY for the agent
PINNED_STREAMS = {"PAYROLL_DAILY": 1, "HR_FEED_DAILY": 4}

#: jobs an operator must confirm after they run (they end in PEND until confirmed)
CONFIRMED_BY_OPERATOR = {"GL_TRIAL_BALANCE"}

#: streams whose story is scripted: no random failures or cross-stream dependencies in them
SCRIPTED_STREAMS = {
    "PAYROLL_DAILY",
    "BILLING_DAILY",
    "BACKUP_DAILY",
    "ETL_SALES_DAILY",
    "GL_CLOSE_DAILY",
    "HR_FEED_DAILY",
}
#: stream -> the stream it always follows (CRM waits for billing, which abends today: its jobs WAIT)
SCRIPTED_STREAM_DEPS = {"CRM_SYNC_DAILY": "BILLING_DAILY"}
#: today's long runner: still loading the warehouse hours after it started
LONG_RUNNER = "ETL_SALES_LOAD_DW"

LOGINS = ["twsuser", "batchusr", "etl_svc", "oracle", "db2inst1"]


class _Ids:
    """Seeded identifiers so the same seed yields the same UUIDs and job numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.job_number = 400_000 + rng.randrange(10_000)
        self.stream_seq = 0

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def next_job_number(self) -> int:
        self.job_number += 1 + self.rng.randrange(3)
        return self.job_number

    def stream_internal_id(self) -> str:
        self.stream_seq += 1
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        n, chars = self.stream_seq, []
        for _ in range(3):
            n, rem = divmod(n, len(alphabet))
            chars.append(alphabet[rem])
        return "0AAAAAAAAAA" + "".join(reversed(chars))


def _workstations(ids: _Ids, count: int, down_from: datetime) -> list[Workstation]:
    """Fixed core workstations plus generated agents; AGT4 (and ~8% of the rest) went down today."""
    fixed = [
        Workstation(ids.uuid(), "MASTER", "MANAGER", "LINUX", "mdm01.corp.local", 31111),
        Workstation(ids.uuid(), "AGT1", "AGENT", "LINUX", "batch01.corp.local", 31114),
        Workstation(ids.uuid(), "AGT2", "AGENT", "LINUX", "batch02.corp.local", 31114),
        Workstation(ids.uuid(), "AGT3", "AGENT", "AIX", "aix-prod01.corp.local", 31114),
        Workstation(ids.uuid(), "AGT4", "AGENT", "LINUX", "batch04.corp.local", 31114, down_from),
        Workstation(ids.uuid(), "FTA_WIN01", "FTA", "WINDOWS", "winbatch01.corp.local", 31111),
    ]
    for i in range(len(fixed), count):
        down = down_from + timedelta(minutes=ids.rng.randrange(300)) if ids.rng.random() < 0.08 else None
        fixed.append(Workstation(ids.uuid(), f"AGT{i}", "AGENT", "LINUX", f"batch{i:02d}.corp.local", 31114, down))
    for ws in fixed:
        ws.description = f"{ws.type.lower()} on {ws.node_name}"
    return fixed


def _roll_outcome(rng: random.Random, failure_rate: float, platform: str) -> str:
    """SUCC, or a failure kind the job's program family can print (one draw either way)."""
    if rng.random() >= failure_rate:
        return "SUCC"
    return rng.choice(kinds_for(platform))


def new_run(ids: _Ids, job: Job, status: str, outcome: str, rerun_type: str = "REGULAR") -> JobRun:
    run = JobRun(
        id=ids.uuid(),
        job_number=ids.next_job_number(),
        status=status,
        outcome=outcome,
        duration_s=run_seconds(job.expected_s or job.estimated_s, job.noise, ids.rng),
        rerun_type=rerun_type,
        workstation=job.workstation.name,
    )
    return run


class PlanBuilder:
    """Builds job streams and jobs for ``days`` production days ending with today's."""

    def __init__(
        self, seed: int, jobs: int, anchor: datetime, days: int, failure_rate: float, day_start: time | None = None
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.ids = _Ids(self.rng)
        self.total_jobs = max(jobs, 1)
        self.anchor = anchor
        self.days = max(1, min(days, self.total_jobs))
        self.failure_rate = failure_rate
        self.today_start = production_day_start(anchor, day_start)
        self.slow_nights: list[SlowNight] = []
        self.resources: dict[str, Resource] = {}
        per_day = self.total_jobs // self.days
        down_from = self.today_start + timedelta(hours=9)
        self.workstations = _workstations(self.ids, min(max(6, per_day // 40), 80), down_from)
        self.streams: list[JobStream] = []
        self.jobs: list[Job] = []
        self.dependencies = 0

    def _names(self, per_day: int) -> list[tuple[str, list[str], int]]:
        """Stream layout for one day: (stream name, job names, workstation index)."""
        rng = random.Random(self.rng.random())
        layout: list[tuple[str, list[str], int]] = []
        used: set[str] = set()
        remaining, n = per_day, 0
        while remaining > 0:
            prefix, job_prefix, verbs = DOMAINS[n % len(DOMAINS)]
            round_ = n // len(DOMAINS)
            stream_name = f"{prefix}_DAILY" if round_ == 0 else f"{prefix}_{round_:03d}"
            size = min(remaining, rng.randint(3, 10))
            names: list[str] = []
            for i in range(size):
                verb = verbs[i % len(verbs)]
                if verb.startswith("=") and round_ == 0:  # one job definition shared by several streams
                    names.append(verb[1:])
                    continue
                base = f"{job_prefix}_{verb.lstrip('=')}"
                name = base if round_ == 0 and base not in used else f"{base}_{round_:03d}_{i:02d}"
                used.add(name)
                names.append(name)
            pinned = PINNED_STREAMS.get(stream_name)
            # only the HR feed runs on AGT4 (index 4), the agent that goes down today
            ws_index = (
                pinned if pinned is not None else rng.choice([i for i in range(len(self.workstations)) if i != 4])
            )
            layout.append((stream_name, names, ws_index))
            remaining -= size
            n += 1
        return layout

    def build(self) -> None:
        """Every production day runs the same streams (as a real plan repeats its schedule)."""
        layout = self._names(self.total_jobs // self.days)
        self._plan_slow_nights(layout)
        for day in range(self.days - 1, -1, -1):
            self._build_day(day, layout)

    def production_date(self, day: int) -> date:
        return (self.today_start - timedelta(days=day)).date()

    def _plan_slow_nights(self, layout: list[tuple[str, list[str], int]]) -> None:
        """Today and one earlier day are slow nights on a workstation that runs streams with deadlines."""
        rng = random.Random(self.seed * 104_729 + 3)
        hosts = sorted({ws for name, _, ws in layout if has_deadline(name) and name not in SCRIPTED_STREAMS} - {0, 4})
        if not hosts:
            return
        days = [0] + ([1 + rng.randrange(self.days - 1)] if self.days > 1 else [])
        for day in days:
            ws = self.workstations[rng.choice(hosts)].name
            streams = [
                name
                for name, _, index in layout
                if self.workstations[index].name == ws and name not in SCRIPTED_STREAMS
            ]
            cause = rng.choice(SLOW_CAUSES).format(ws=ws)
            self.slow_nights.append(
                SlowNight(day, self.production_date(day), ws, rng.uniform(2.0, 3.0), cause, streams)
            )

    def _slow_factor(self, stream: JobStream) -> float:
        night = night_of(self.slow_nights, stream.day, stream.name)
        return night.factor if night is not None else 1.0

    def _build_day(self, day: int, layout: list[tuple[str, list[str], int]]) -> None:
        rng = self.rng
        start = self.today_start - timedelta(days=day)
        day_streams: list[JobStream] = []
        day_jobs: list[Job] = []
        for index, (stream_name, job_names, ws_index) in enumerate(layout):
            ws = self.workstations[ws_index]
            offset = timedelta(minutes=30 + int(index / max(len(layout), 1) * 22 * 60))
            if stream_name == "PAYROLL_DAILY":
                offset = timedelta(minutes=60)
            stream = JobStream(
                id=self.ids.uuid(),
                name=stream_name,
                internal_id=self.ids.stream_internal_id(),
                workstation=ws,
                sched_time=start + offset,
                day=day,
            )
            free = [s for s in day_streams[-20:] if s.name not in SCRIPTED_STREAMS]
            if free and rng.random() < 0.15 and stream_name not in SCRIPTED_STREAMS:
                self._follow(stream, rng.choice(free))
            leader = next((s for s in day_streams if s.name == SCRIPTED_STREAM_DEPS.get(stream_name)), None)
            if leader is not None and all(d.pred_stream is not leader for d in stream.deps):
                self._follow(stream, leader)
            for position, name in enumerate(job_names, start=1):
                job_ws = ws if stream_name in PINNED_STREAMS else self._job_workstation(name, ws)
                job = self._job(name, stream, job_ws, position)
                self._add_job_deps(job, stream, day_jobs)
                stream.jobs.append(job)
                day_jobs.append(job)
            day_streams.append(stream)
        self.streams.extend(day_streams)
        self.jobs.extend(day_jobs)

    def _follow(self, stream: JobStream, pred: JobStream) -> None:
        stream.deps.append(self._dep("EXTERNAL_JOBSTREAM", pred_stream=pred))
        pred.successors.append(stream)

    def _job_workstation(self, name: str, stream_ws: Workstation) -> Workstation:
        """A job runs where its definition says, every day: mostly its stream's workstation."""
        digest = zlib.crc32(name.encode())
        if digest % 10 < 8:
            return stream_ws
        return self.workstations[1 + digest % (len(self.workstations) - 1)]

    def _dep(self, kind: str, **kwargs: object) -> Dependency:
        self.dependencies += 1
        return Dependency(id=self.ids.uuid(), kind=kind, sequence=1000 + self.dependencies, **kwargs)  # type: ignore[arg-type]

    def _job(self, name: str, stream: JobStream, ws: Workstation, position: int) -> Job:
        rng = self.rng
        character = profile(name, self.seed)
        expected = character.expected_s(self.production_date(stream.day), stream.day) * self._slow_factor(stream)
        if stream.day == 0 and position == 1 and timedelta(0) < self.anchor - stream.sched_time < timedelta(hours=3):
            expected = 4 * 3600  # long batch windows: something is always running now
        if stream.day == 0 and name == LONG_RUNNER:
            expected = (self.anchor - stream.sched_time).total_seconds() + 3 * 3600  # hours from its end
        domain = name.split("_")[0].lower()
        job = Job(
            id=self.ids.uuid(),
            name=name,
            stream=stream,
            workstation=ws,
            position=position,
            sched_time=stream.sched_time,
            script=(
                f"D:\\batch\\{domain}\\{name.lower()}.cmd"
                if ws.os == "WINDOWS"
                else f"/opt/batch/{domain}/{name.lower()}.sh"
            ),
            user_login=rng.choice(LOGINS),
            estimated_s=character.base_s,
            expected_s=int(expected),
            noise=0.0 if stream.day == 0 and name == LONG_RUNNER else character.noise,
            critical=rng.random() < 0.05,
            requires_confirmation=rng.random() < 0.01 or name in CONFIRMED_BY_OPERATOR,
            recovery_option=rng.choice(["STOP", "STOP", "STOP", "CONTINUE", "RERUN"]),
            description=f"{name.replace('_', ' ').title()} ({stream.name})",
        )
        if stream.day == 0 and rng.random() < 0.01 and stream.name not in SCRIPTED_STREAMS:
            job.priority = 0  # held by an operator earlier today (never in a scripted story)
        if job.critical:
            job.deadline = stream.sched_time + timedelta(seconds=character.base_s * 3 + 3600)
        outcome = _roll_outcome(rng, self.failure_rate, platform_of(name, ws.type, ws.os))
        if stream.name in SCRIPTED_STREAMS:  # the scripted incidents happen, nothing else in their streams does
            outcome = SCRIPTED_INCIDENTS.get((name, stream.day), "SUCC")
        job.runs.append(new_run(self.ids, job, "HOLD", outcome))
        return job

    def _add_job_deps(self, job: Job, stream: JobStream, day_jobs: list[Job]) -> None:
        rng = self.rng
        if len(stream.jobs) > 0:
            pred = stream.jobs[-1] if rng.random() < 0.85 else rng.choice(stream.jobs)
            self._link(job, pred, "INTERNAL")
        scripted = stream.name in SCRIPTED_STREAMS
        earlier = [j for j in day_jobs[-200:] if j.stream is not stream and j.stream.name not in SCRIPTED_STREAMS]
        if earlier and rng.random() < 0.12 and not scripted:
            self._link(job, rng.choice(earlier), "EXTERNAL_JOB")
        roll = 1.0 if scripted else rng.random()
        if roll < 0.04:
            self.need(job, f"DB_CONN_{job.workstation.name}", 1)
        elif roll < 0.07:
            path = f"/data/in/{job.name.lower()}.trg"
            usual = 5 + zlib.crc32(path.encode()) % 235  # the feed lands at about the same time every day
            arrives = job.sched_time + timedelta(minutes=usual + rng.randint(-5, 10))
            job.deps.append(self._dep("FILE", file_path=path, file_arrives_at=arrives))
        elif roll < 0.075 and stream.day == 0:
            job.deps.append(self._dep("PROMPT", prompt_text=f"Start {job.name}? Check upstream feed first (y/n)"))

    def need(self, job: Job, name: str, quantity: int) -> Resource:
        """A dependency of ``job`` on one unit of the resource ``name`` (created with ``quantity``)."""
        pool = self.resources.get(name)
        if pool is None:
            pool = self.resources[name] = new_resource(self.ids.uuid(), name, job.workstation, quantity)
        job.deps.append(self._dep("RESOURCE", pool=pool))
        pool.users.append(job)
        return pool

    def _link(self, job: Job, pred: Job, kind: str) -> None:
        if any(d.pred_job is pred for d in job.deps):
            return
        job.deps.append(self._dep(kind, pred_job=pred))
        pred.successors.append(job)


def production_day_start(anchor: datetime, day_start: time | None) -> datetime:
    """When the production day holding ``anchor`` began: at ``day_start`` (the engine's start of day)
    on the latest day that is not after the anchor; without one, 18 hours before the anchor (so the
    default plan is always well into its day)."""
    if day_start is None:
        return (anchor - timedelta(hours=18)).replace(minute=0, second=0, microsecond=0)
    start = datetime.combine(anchor.date(), day_start, tzinfo=anchor.tzinfo)
    return start if start <= anchor else start - timedelta(days=1)
