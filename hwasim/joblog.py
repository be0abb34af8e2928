"""Job logs (stdlist) in the format of notes section 8: header block, program output, trailer.

The body (``stdlists``) is derived deterministically from the run id, so the same run always shows
the same log; a failed run prints its failure kind's lines among the program's own noise.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from .model import Job, JobRun
from .stdlists import RunFacts, body, locale_of, platform_of

BANNER = "=" * 63


def _stdlist_time(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")


def _elapsed(run: JobRun) -> str:
    if run.start is None:
        return "00:00:00"
    seconds = int(((run.end or run.start) - run.start).total_seconds())
    return str(timedelta(seconds=seconds)).rjust(8, "0")


def _body(job: Job, run: JobRun, progress: float) -> list[str]:
    """Program output; ``progress`` (0..1) is the share of the run's steps already done."""
    if run.log_text is not None:  # a staged run prints exactly what it was given
        return run.log_text.splitlines()
    failed = run.status == "FAIL" or (run.status == "ABEND" and not run.killed)
    if failed and not run.killed:
        rng = random.Random(int(hashlib.sha256(run.id.encode()).hexdigest()[:12], 16))
        progress = min(progress, rng.uniform(0.1, 0.6))  # failures happen part-way through
    facts = RunFacts(
        run_id=run.id,
        job_name=job.name,
        script=job.script,
        user=job.user_login,
        workstation=run.workstation or job.workstation.name,
        platform=platform_of(job.name, job.workstation.type, job.workstation.os),
        locale=locale_of(run.workstation or job.workstation.name),
        outcome=run.outcome,
        failed=failed,
        killed=run.killed,
        steps_done=progress,
        date=job.sched_time.strftime("%Y-%m-%d"),
    )
    return body(facts)


def _progress(run: JobRun, now: datetime) -> float:
    if run.start is None:
        return 0.0
    if run.end is not None and not run.killed:
        return 1.0
    upto = run.end or now
    return (upto - run.start).total_seconds() / max(run.duration_s, 1)


def render(job: Job, run: JobRun, now: datetime) -> list[str] | None:
    """All lines of the run's stdlist, or None when the run has not started (no log yet)."""
    if run.start is None:
        return None
    stream = job.stream
    platform = platform_of(job.name, job.workstation.type, job.workstation.os)
    task = (  # a dynamic agent's stdlist shows the job's JSDL definition instead of the script
        f'= TASK      : <?xml version="1.0" encoding="UTF-8"?><jsdl:jobDefinition name="{job.name}">'
        f'<jsdl:application name="executable"><jsdle:executable path="{job.script}"/></jsdl:application>'
        "</jsdl:jobDefinition>"
        if platform == "dynamic"
        else f"= JCLFILE   : {job.script}"
    )
    header = [
        BANNER,
        f"= JOB       : {stream.workstation.name}#{stream.name}[({stream.sched_time.strftime('%H%M %m/%d/%y')}),"
        f"({stream.internal_id})].{job.name}",
        f"= USER      : {job.user_login}",
        task,
        "= TWSRCMAP  :",
        f"= AGENT     : {run.workstation or job.workstation.name}",
        f"= Job Number: {run.job_number}",
        f"= {_stdlist_time(run.start)}",
        BANNER,
    ]
    body = _body(job, run, _progress(run, now))
    if run.end is None:
        return header + body
    exit_status = "" if run.return_code is None else str(run.return_code)
    trailer = [
        BANNER,
        f"= Exit Status : {exit_status}",
        f"= System Time (Seconds) : 0     Elapsed Time (hh:mm:ss) : {_elapsed(run)}",
        "= User Time (Seconds) : 0",
        f"= Job CPU usage (ms) : {max(10, run.duration_s * 7)}",
        f"= Job Memory usage (kb) : {2048 + run.job_number % 4096}",
        f"= {_stdlist_time(run.end or run.start)}",
        BANNER,
    ]
    return header + body + trailer


def slice_lines(lines: list[str], content_only: bool, from_line: int | None, to_line: int | None) -> str:
    """Apply ``contentOnly`` (drop header and trailer) and 1-based inclusive line slicing."""
    if content_only:
        banners = [i for i, line in enumerate(lines) if line == BANNER]
        start = banners[1] + 1 if len(banners) >= 2 else 0
        end = banners[2] if len(banners) >= 3 else len(lines)
        lines = lines[start:end]
    first = max(1, from_line or 1)
    last = len(lines) if to_line is None else min(to_line, len(lines))
    return "".join(line + "\n" for line in lines[first - 1 : last])
