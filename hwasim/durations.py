"""Steady durations and slow nights: how long a job runs, for a reason.

Each job name has a characteristic duration (seeded by the plan's seed and the name, so it is the
same on every production day), changed by the day it runs on: some jobs are heavier on Mondays,
the finance domains peak at month end, a few drift slower day after day. A run's duration is that
day's expectation with a little noise. On a *slow night* the jobs of one workstation run two to
three times longer (the cause is recorded, for ``GET /admin/nights``), and job streams with a
deadline end late — so an estimator can be right or wrong for a reason.
"""

from __future__ import annotations

import calendar
import random
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .model import JobStream

#: domains that close the books: their jobs run longer on the last two and first two days of a month
MONTH_END_DOMAINS = {"PAYROLL", "BILLING", "GL", "TRS", "RISK"}
#: domains that catch up the weekend's data on Mondays
MONDAY_DOMAINS = {"ETL", "CRM", "INV", "BILLING"}
DRIFT_SHARE = 0.06  # share of jobs that get slower every day (a growing table, a missing index)


@dataclass(frozen=True)
class Profile:
    """What decides a job's run time: its base seconds and the day's effects."""

    base_s: int
    monday: float
    month_end: float
    drift_per_day: float
    noise: float

    def expected_s(self, day: date, days_ago: int) -> float:
        """The run time this job is expected to take on production day ``day``."""
        factor = self.monday if day.weekday() == 0 else 1.0
        if is_month_end(day):
            factor *= self.month_end
        factor /= (1.0 + self.drift_per_day) ** days_ago  # drifting jobs were faster before
        return self.base_s * factor


def is_month_end(day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day >= last - 1 or day.day <= 2


def profile(name: str, seed: int) -> Profile:
    """The job's characteristics: the same for a name and seed on every day and in every process."""
    rng = random.Random(zlib.crc32(f"{seed}:{name}".encode()))
    base = int(min(max(rng.lognormvariate(5.5, 1.0), 20), 3 * 3600))
    domain = name.split("_")[0]
    monday = rng.uniform(1.2, 1.5) if domain in MONDAY_DOMAINS else 1.0
    month_end = rng.uniform(1.6, 2.5) if domain in MONTH_END_DOMAINS else 1.0
    drift = rng.uniform(0.03, 0.06) if rng.random() < DRIFT_SHARE else 0.0
    return Profile(base, monday, month_end, drift, rng.uniform(0.03, 0.08))


def run_seconds(expected_s: float, noise: float, rng: random.Random) -> int:
    """One run's duration: the day's expectation with a little noise (lognormal, so never negative)."""
    return max(5, int(expected_s * rng.lognormvariate(0.0, noise)))


@dataclass
class SlowNight:
    """A production day on which one workstation's jobs ran slow, and why."""

    day: int
    production_date: date
    workstation: str
    factor: float
    cause: str
    streams: list[str]

    def as_json(self) -> dict[str, object]:
        return {
            "day": self.day,
            "production_date": self.production_date.isoformat(),
            "workstation": self.workstation,
            "factor": round(self.factor, 2),
            "cause": self.cause,
            "streams": self.streams,
        }


def night_of(nights: list[SlowNight], day: int, stream_name: str) -> SlowNight | None:
    """The slow night a stream's instance of production day ``day`` ran in, if any."""
    return next((n for n in nights if n.day == day and stream_name in n.streams), None)


SLOW_CAUSES = [
    "storage latency on the SAN behind {ws}",
    "a backup running over the batch window on {ws}",
    "the database server used by {ws} swapping after a memory change",
    "antivirus full scan on {ws} during the batch window",
]


def has_deadline(stream_name: str) -> bool:
    """A quarter of the job streams are defined with a deadline (the same ones every day)."""
    return zlib.crc32(stream_name.encode()) % 4 == 0


def set_deadlines(streams: list[JobStream], slow: list[SlowNight], excluded: set[str], seed: int) -> None:
    """Give a quarter of the job streams a deadline as a planner would: the upper quartile of the
    runs seen on ordinary earlier days (not slow, not month end) plus 30 % and a quarter of an hour,
    the same offset every day; without such a day, from the jobs' typical durations. Slow nights,
    month-end peaks and failures that stop a stream then end past it."""
    seen: dict[str, list[timedelta]] = defaultdict(list)
    for stream in streams:
        ordinary = night_of(slow, stream.day, stream.name) is None and not is_month_end(stream.sched_time.date())
        if stream.day > 0 and ordinary and stream.end is not None:
            seen[stream.name].append(stream.end - stream.sched_time)
    for stream in streams:
        if not has_deadline(stream.name) or stream.name in excluded:
            continue
        offsets = seen.get(stream.name)
        if offsets:
            offset = sorted(offsets)[len(offsets) * 3 // 4] * 1.3 + timedelta(minutes=15)
        else:
            offset = timedelta(seconds=1.6 * sum(profile(j.name, seed).base_s for j in stream.jobs) + 1800)
        stream.deadline = stream.sched_time + offset


def late(stream: JobStream, now: datetime) -> bool:
    """Ended after its deadline, or not ended and the deadline has passed."""
    if stream.deadline is None:
        return False
    end = stream.end
    return end > stream.deadline if end is not None else now > stream.deadline
