"""Job logs (stdlist) in the format of notes section 8: header block, program output, trailer.

The body is derived deterministically from the run id, so the same run always shows the same
log; failures carry the real-looking cause that matches their return code.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta

from .model import Job, JobRun

BANNER = "=" * 63

FAILURE_LINES: dict[str, list[str]] = {
    "missing_file": [
        "Checking input files in {indir}",
        "ERROR: file not found: {indir}/{stem}.csv",
        "Aborting: required input is missing",
    ],
    "deadlock": [
        "Updating {table} in batches of 5000 rows",
        "ERROR: database deadlock detected (SQLSTATE 40P01) while updating {table}",
        "Transaction rolled back after 3 retries",
    ],
    "disk_full": [
        "Writing output to /var/batch/tmp/{stem}.dat",
        "ERROR: write failed: No space left on device (/var/batch/tmp)",
        "Filesystem /var/batch is 100% full",
    ],
    "timeout": [
        "Waiting for response from {service}",
        "ERROR: operation timed out after 3600 seconds waiting for {service}",
    ],
    "permission_denied": [
        "Opening {indir}/{stem}.lock",
        "ERROR: Permission denied: {indir}/{stem}.lock (user {user})",
    ],
    "launch_failure": [
        "AWSSIM0120E The job could not be launched on {ws}: the user {user} is not valid on the agent.",
    ],
}


def _stdlist_time(moment: datetime) -> str:
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")


def _elapsed(run: JobRun) -> str:
    if run.start is None:
        return "00:00:00"
    seconds = int(((run.end or run.start) - run.start).total_seconds())
    return str(timedelta(seconds=seconds)).rjust(8, "0")


def _body(job: Job, run: JobRun, progress: float) -> list[str]:
    """Program output; ``progress`` (0..1) is the share of the run's steps already done."""
    rng = random.Random(int(hashlib.sha256(run.id.encode()).hexdigest()[:12], 16))
    domain = job.name.split("_")[0].lower()
    context = {
        "indir": f"/data/in/{domain}",
        "stem": job.name.lower(),
        "table": f"{domain.upper()}.{rng.choice(['INVOICES', 'LEDGER', 'ORDERS', 'EMPLOYEES', 'ACCOUNTS'])}",
        "service": f"{domain}-api.corp.local:8443",
        "user": job.user_login,
        "ws": job.workstation.name,
    }
    if run.outcome == "launch_failure" and run.status == "FAIL":
        return [line.format(**context) for line in FAILURE_LINES["launch_failure"]]
    assert run.start is not None
    lines = [
        f"Starting {job.script} at {run.start.strftime('%H:%M:%S')}",
        f"Environment: PROD, user {job.user_login}",
    ]
    steps = rng.randint(3, 9)
    records = 0
    if run.status == "ABEND" and not run.killed:
        progress = min(progress, rng.uniform(0.1, 0.6))  # failures happen part-way through
    for step in range(1, int(steps * min(progress, 1.0)) + 1):
        records += rng.randint(500, 50_000)
        lines.append(f"Step {step}/{steps}: processed {records} records")
    if run.killed:
        lines.append("Job terminated by signal 9 (kill requested by operator)")
    elif run.status == "ABEND" and run.outcome in FAILURE_LINES:
        lines.extend(line.format(**context) for line in FAILURE_LINES[run.outcome])
    elif progress >= 1.0:
        lines.append(f"Completed successfully: {records} records")
    return lines


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
    header = [
        BANNER,
        f"= JOB       : {stream.workstation.name}#{stream.name}[({stream.sched_time.strftime('%H%M %m/%d/%y')}),"
        f"({stream.internal_id})].{job.name}",
        f"= USER      : {job.user_login}",
        f"= JCLFILE   : {job.script}",
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
