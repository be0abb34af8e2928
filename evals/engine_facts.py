"""What the engine says, for ``evals.facts``: each fact kind a function from a spec to an
:class:`Expectation`, computed through the scheduler client alone (never the product's tools).

Production days follow the engine's ``startOfDay`` global option (``GET /engine/configuration``;
midnight UTC when the engine has none): ``today`` is the day holding now, ``yesterday`` the one before,
``day_before`` the one before that. A job instance belongs to the day of its ``schedTime``."""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from tools.hwa import HWAClient, JobInPlan
from tools.hwa.models import JobRun

from .facts import Expectation

FAILED = {"ABEND", "FAIL"}
NOT_STARTED = {"HOLD", "READY", "WAIT", "INTRO", "PEND", "ADD"}
DAYS = {"today": 0, "yesterday": 1, "day_before": 2}
LONG = 1.5  # running longer than this many times the usual (median) duration


def short(name: str | None) -> str:
    """A workstation key without its folder (``/AGT1`` → ``AGT1``)."""
    return (name or "").rsplit("/", 1)[-1]


def duration(run: JobRun) -> timedelta | None:
    info = run.time_info
    if info and info.actual_start_time and info.actual_end_time:
        return info.actual_end_time - info.actual_start_time
    return None


def minute_forms(minutes: float) -> tuple[str, ...]:
    """How an answer may write a duration of about ``minutes`` (±1 minute)."""
    forms: list[str] = []
    for m in {max(0, round(minutes) + d) for d in (-1, 0, 1)}:
        forms += [f"{m} min", f"{m}min", f"{m} minutes", f"{m} minutos", f"{m} minute", f"{m} minuto", f"{m}m"]
        hours, rest = divmod(m, 60)
        if hours:
            forms += [f"{hours}h{rest:02d}", f"{hours}h {rest:02d}", f"{hours}h {rest} min", f"{hours} h {rest} min"]
            forms += [f"{hours}:{rest:02d}", f"{hours:02d}:{rest:02d}", f"{hours}h{rest:02d}min"]
            if not rest:
                forms += [f"{hours}h", f"{hours} h", f"{hours} hour", f"{hours} hora", f"{hours} horas"]
    return tuple(forms)


class World:
    """The engine's state for one case, read lazily and once."""

    def __init__(self, client: HWAClient) -> None:
        self.client = client
        self.now = datetime.now(UTC)
        self._jobs: list[JobInPlan] | None = None
        self._today: datetime | None = None
        self._details: dict[str, JobInPlan] = {}

    async def today_start(self) -> datetime:
        if self._today is None:
            option = await self.client.engine_option("startOfDay") or "0000"
            clock = time(int(option[:2]), int(option[2:4]))
            start = datetime.combine(self.now.date(), clock, tzinfo=UTC)
            self._today = start if start <= self.now else start - timedelta(days=1)
        return self._today

    async def day(self, name: str) -> tuple[datetime, datetime]:
        start = await self.today_start() - timedelta(days=DAYS[name])
        return start, start + timedelta(days=1)

    async def jobs(self) -> list[JobInPlan]:
        if self._jobs is None:
            self._jobs = [job async for job in self.client.iter_jobs()]
        return self._jobs

    async def detail(self, job: JobInPlan) -> JobInPlan:
        if job.id not in self._details:
            self._details[job.id] = await self.client.get_job(job.id)
        return self._details[job.id]

    async def on_day(self, day: str) -> list[JobInPlan]:
        start, end = await self.day(day)
        return [j for j in await self.jobs() if j.sched_time and start <= j.sched_time < end]

    async def instances(self, name: str) -> list[JobInPlan]:
        """The job's instances, newest schedule first."""
        found = sorted((j for j in await self.jobs() if j.name == name), key=lambda j: j.sched_time or self.now)
        if not found:
            raise LookupError(f"the plan has no job {name}")
        return found[::-1]

    async def instance(self, name: str, day: str | None) -> JobInPlan:
        if day is None:
            return (await self.instances(name))[0]
        start, end = await self.day(day)
        for job in await self.instances(name):
            if job.sched_time and start <= job.sched_time < end:
                return job
        raise LookupError(f"{name} has no instance on {day}")

    async def completed_durations(self, name: str) -> list[float]:
        """Minutes of the job's runs that ended SUCC, on every day of the plan."""
        minutes = []
        for job in await self.instances(name):
            for run in job.jobruns:
                took = duration(run)
                if run.status == "SUCC" and took is not None:
                    minutes.append(took.total_seconds() / 60)
        return minutes


async def status(world: World, spec: dict[str, Any]) -> Expectation:
    job = await world.instance(spec["job"], None)
    return Expectation(f"status of {job.name} ({job.status})", (str(job.status),), claim=True)


async def run_status(world: World, spec: dict[str, Any]) -> Expectation:
    job = await world.instance(spec["job"], spec["day"])
    return Expectation(f"status of {job.name} on {spec['day']} ({job.status})", (str(job.status),), claim=True)


async def return_code(world: World, spec: dict[str, Any]) -> Expectation:
    job = await world.detail(await world.instance(spec["job"], spec.get("day")))
    runs = [r for r in job.jobruns if r.return_code is not None and r.status in FAILED] or [
        r for r in job.jobruns if r.return_code is not None
    ]
    if not runs:
        raise LookupError(f"{job.name} has no run with a return code")
    where = f" on {spec['day']}" if spec.get("day") else ""
    return Expectation(f"return code of {job.name}{where}", (str(runs[-1].return_code),))


async def own_failures(world: World, spec: dict[str, Any]) -> Expectation:
    """The job's failed runs before today: their return codes (nothing to state when it never failed)."""
    today = await world.today_start()
    codes: list[str] = []
    for job in await world.instances(spec["job"]):
        if job.sched_time and job.sched_time < today:
            codes += [str(r.return_code) for r in (await world.detail(job)).jobruns if r.status in FAILED]
    if not codes:
        return Expectation(f"{spec['job']} never failed before today (nothing to state)", (), need=0)
    return Expectation(f"{spec['job']}'s own earlier failures (rc {', '.join(codes)})", tuple(dict.fromkeys(codes)))


async def wait_reason(world: World, spec: dict[str, Any]) -> Expectation:
    """Why a job that has not started waits, from its substatus and unresolved dependencies."""
    job = await world.detail(await world.instance(spec["job"], None))
    composite = job.last_run_composite_status
    if job.status not in NOT_STARTED or (composite and composite.started):
        return Expectation(f"{job.name} is not waiting ({job.status})", (str(job.status),), claim=True)
    substatus = (composite.substatus if composite else None) or ""
    if substatus == "HOLD_PRIORITY_ZERO":
        return Expectation(f"{job.name} held by an operator", ("held", "hold", "retido", "segurado", "priority 0"))
    open_deps = [d for d in job.dependencies or [] if d.dependency_status != "SATISFIED"]
    words: list[str] = []
    for dep in open_deps:
        if dep.job_name:
            words.append(dep.job_name)
        elif dep.job_stream_name:
            words.append(dep.job_stream_name)
        elif dep.dependency_type == "RESOURCE" and dep.name:
            words.append(dep.name)
        elif dep.dependency_type == "PROMPT":
            words += [w for w in (dep.prompt_name, "prompt") if w]
        elif dep.dependency_type == "FILE":
            words += [w for w in (str((dep.file or {}).get("name") or ""), "file", "arquivo") if w]
    if "TIME" in substatus or (not words and job.time_restrictions and job.time_restrictions.start_time):
        start = job.time_restrictions.start_time if job.time_restrictions else None
        words += [start.strftime("%H:%M")] if start else []
        words += ["time", "horário", "hora", "start time"]
    if "RESOURCE" in substatus and not words:
        words += ["resource", "recurso"]
    if not words:
        raise LookupError(f"{job.name} waits ({substatus or job.status}) for nothing the engine names")
    return Expectation(f"why {job.name} waits ({substatus or job.status})", tuple(dict.fromkeys(words)))


async def neighbours(world: World, spec: dict[str, Any]) -> Expectation:
    kind = spec["fact"]
    job = await world.instance(spec["job"], None)
    nodes = await (world.client.job_successors if kind == "successor" else world.client.job_predecessors)(job.id)
    names = tuple(sorted({n.name for n in nodes if n.name}))
    if not names:
        raise LookupError(f"{job.name} has no {kind}s")
    return Expectation(f"a {kind} of {job.name}", names)


async def failed_jobs(world: World, spec: dict[str, Any]) -> Expectation:
    """Jobs with a run that ended ABEND/FAIL on the production day (reruns included), on one
    workstation, or (``exclude_workstation``) on the others only."""
    day = spec.get("day", "today")
    if spec["fact"] == "failed_job" and "day" not in spec:  # the older kind: a window of hours (24 by default)
        spec = {**spec, "hours": spec.get("hours", 24)}
    since = world.now - timedelta(hours=int(spec["hours"])) if "hours" in spec else None
    failed: dict[str, set[str]] = {}
    for job in await world.jobs() if since else await world.on_day(day):
        for run in job.jobruns:
            ended = run.time_info.actual_end_time if run.time_info else None
            if run.status in FAILED and (since is None or (ended is not None and ended >= since)):
                failed.setdefault(job.name, set()).add(short(run.actual_workstation or job.workstation))
    if station := spec.get("workstation"):
        names = {n for n, where in failed.items() if station in where}
    elif other := spec.get("exclude_workstation"):
        names = {n for n, where in failed.items() if other not in where}
    else:
        names = set(failed)
    label = f"jobs failed in {spec['hours']} h" if since else f"jobs failed {day}"
    label += f" on {station}" if station else ""
    if not names:
        if spec.get("exclude_workstation"):
            return Expectation("no job failed elsewhere (nothing to state)", (), need=1)
        return Expectation(f"says no job failed ({label})", ("No job failed", "Nenhum job falhou", "nenhum", "none"))
    return Expectation(label, tuple(sorted(names)), need=min(int(spec.get("need", 2)), len(names)))


async def waiting_jobs(world: World, spec: dict[str, Any]) -> Expectation:
    station = spec["workstation"]
    today = [j for j in await world.on_day("today") if short(j.workstation) == station]
    names = sorted({j.name for j in today if j.status in NOT_STARTED})
    if not names:
        return Expectation(f"nothing waits on {station}", ("nothing", "nada", "no job", "nenhum"), claim=True)
    return Expectation(f"jobs waiting on {station}", tuple(names), need=min(int(spec.get("need", 2)), len(names)))


async def workstation_down(world: World, spec: dict[str, Any]) -> Expectation:
    page = await world.client.query_workstations(limit=500)
    names = tuple(sorted(w.name for w in page.results if not w.linked))
    return Expectation("workstations down", names)


async def running_long(world: World, spec: dict[str, Any]) -> Expectation:
    names = []
    for job in await world.jobs():
        run = job.last_run
        started = run.time_info.actual_start_time if run and run.time_info else None
        if job.status != "EXEC" or started is None:
            continue
        usual = await world.completed_durations(job.name)
        if usual and (world.now - started).total_seconds() / 60 > LONG * statistics.median(usual):
            names.append(job.name)
    if not names:
        return Expectation("says nothing runs long", ("no job", "nenhum", "nothing", "nada"), claim=True)
    return Expectation("jobs running long", tuple(sorted(set(names))), need=min(int(spec.get("need", 1)), len(names)))


async def usual_duration(world: World, spec: dict[str, Any]) -> Expectation:
    minutes = await world.completed_durations(spec["job"])
    if not minutes:
        raise LookupError(f"{spec['job']} has no completed run")
    median = statistics.median(minutes)
    return Expectation(f"usual duration of {spec['job']} (~{median:.0f} min)", minute_forms(median))


async def message_jobs(world: World, spec: dict[str, Any]) -> Expectation:
    wanted = spec["message_id"]
    names = []
    for job in await world.jobs():
        failed = [r for r in job.jobruns if r.status in FAILED] if job.jobruns else []
        if not failed:
            continue
        log = await world.client.job_log(failed[-1].id)
        if wanted.lower() in log.lower():
            names.append(job.name)
    if not names:
        raise LookupError(f"no failed run's log holds {wanted}")
    names = sorted(set(names))
    return Expectation(f"jobs that got {wanted}", tuple(names), need=min(int(spec.get("need", 1)), len(names)))


async def prompts_waiting(world: World, spec: dict[str, Any]) -> Expectation:
    names: list[str] = []
    for job in await world.jobs():
        if job.status not in NOT_STARTED:
            continue
        for dep in (await world.detail(job)).dependencies or []:
            if dep.dependency_type == "PROMPT" and dep.dependency_status != "SATISFIED" and dep.prompt_name:
                names.append(dep.prompt_name)
    if not names:
        return Expectation("says no prompt waits", ("no prompt", "nenhum prompt", "nenhuma", "none"), claim=True)
    return Expectation("prompts waiting", tuple(sorted(set(names))))


async def stream_status(world: World, spec: dict[str, Any]) -> Expectation:
    streams = [s async for s in world.client.iter_job_streams()]
    found = sorted((s for s in streams if s.name == spec["stream"]), key=lambda s: s.sched_time or world.now)
    if not found:
        raise LookupError(f"the plan has no job stream {spec['stream']}")
    return Expectation(f"status of {spec['stream']} ({found[-1].status})", (str(found[-1].status),), claim=True)


async def late_streams(world: World, spec: dict[str, Any]) -> Expectation:
    names = sorted(
        {
            s.name
            async for s in world.client.iter_job_streams()
            if s.time_restrictions
            and s.time_restrictions.deadline_time
            and s.time_restrictions.deadline_time < world.now
            and s.status not in {"SUCC", "CANCL"}
        }
    )
    if not names:
        return Expectation("says no stream is late", ("no stream", "nenhum", "none", "nothing", "nada"), claim=True)
    return Expectation("late job streams", tuple(names))


Resolver = Callable[[World, dict[str, Any]], Awaitable[Expectation]]
RESOLVERS: dict[str, Resolver] = {
    "status": status,
    "run_status": run_status,
    "return_code": return_code,
    "own_failures": own_failures,
    "wait_reason": wait_reason,
    "successor": neighbours,
    "predecessor": neighbours,
    "failed_jobs": failed_jobs,
    "failed_job": failed_jobs,  # the older name
    "waiting_jobs": waiting_jobs,
    "workstation_down": workstation_down,
    "running_long": running_long,
    "usual_duration": usual_duration,
    "message_jobs": message_jobs,
    "prompts_waiting": prompts_waiting,
    "stream_status": stream_status,
    "late_streams": late_streams,
}
