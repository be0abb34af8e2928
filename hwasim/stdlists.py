"""Stdlists as engines write them: the failure kinds (``failure_kinds.yaml``), the program family of a
job (UNIX FTA with the jobmanrc lines, Windows FTA, dynamic agent, SAP r3batch, z/OS JES), a share of
workstations running in pt_BR, and noise on purpose — INFO and WARN lines that are not the cause, a
configuration echo, an error a retry recovered, cleanup errors after the real one. Everything is
derived from the run id (the same run always prints the same log)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

CATEGORIES = ("missing_input", "database", "resource", "permission", "timeout", "dependency", "agent", "unknown")
PLATFORMS = ("unix", "windows", "dynamic", "sap", "zos")


@dataclass(frozen=True)
class FailureKind:
    key: str
    category: str  # the true cause: what a diagnosis must find
    status: str  # ABEND (ran and ended badly) | FAIL (never started)
    rc: int | None
    platforms: tuple[str, ...]
    rerun_helps: str  # yes | no | unknown
    lines: tuple[str, ...]
    pt: tuple[str, ...] | None = None


@cache
def kinds() -> dict[str, FailureKind]:
    """Every failure kind by key (read once from the package's data file)."""
    raw: list[dict[str, Any]] = yaml.safe_load(resources.files("hwasim").joinpath("failure_kinds.yaml").read_text())
    out: dict[str, FailureKind] = {}
    for entry in raw:
        helps = entry["rerun_helps"]
        kind = FailureKind(
            key=entry["key"],
            category=entry["category"],
            status=entry["status"],
            rc=entry["rc"],
            platforms=tuple(entry["platforms"]),
            rerun_helps="yes" if helps is True else "no" if helps is False else "unknown",
            lines=tuple(entry["lines"]),
            pt=tuple(entry["pt"]) if entry.get("pt") else None,
        )
        assert kind.category in CATEGORIES and set(kind.platforms) <= set(PLATFORMS), kind.key
        out[kind.key] = kind
    return out


def _hash(*parts: str) -> int:
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16)


def platform_of(job_name: str, ws_type: str, ws_os: str) -> str:
    """The program family a job runs as: Windows FTAs run cmd jobs; on Linux/AIX agents a job is a
    plain script, or (by its name, one in twelve each) a SAP r3batch or a z/OS job run through the agent."""
    if ws_os == "WINDOWS":
        return "windows"
    flavour = _hash("platform", job_name) % 12
    if flavour == 0:
        return "sap"
    if flavour == 1:
        return "zos"
    return "unix" if ws_type == "FTA" or ws_os == "AIX" else "dynamic"


def locale_of(ws_name: str) -> str:
    """A share of workstations run in pt_BR (their glibc and shell messages are Portuguese)."""
    if ws_name in {"AGT2", "AGT3"}:
        return "pt_BR"
    return "pt_BR" if ws_name.startswith("AGT") and ws_name != "AGT1" and _hash("lang", ws_name) % 3 == 0 else "en"


def kinds_for(platform: str) -> list[str]:
    return [k.key for k in kinds().values() if platform in k.platforms]


@dataclass(frozen=True)
class RunFacts:
    """What a stdlist is made of, from the simulator's plan."""

    run_id: str
    job_name: str
    script: str
    user: str
    workstation: str
    platform: str
    locale: str
    outcome: str  # SUCC | a failure kind's key
    failed: bool  # the run ended ABEND (or FAIL) with its kind's lines
    killed: bool
    steps_done: float  # 0..1, the share of the program's work done so far
    date: str


def context(facts: RunFacts, rng: random.Random) -> dict[str, str]:
    domain = facts.job_name.split("_")[0].lower()
    stem = facts.job_name.lower()
    return {
        "indir": f"/data/in/{domain}",
        "outdir": f"/data/out/{domain}",
        "stem": stem,
        "table": f"{domain.upper()}.{rng.choice(['INVOICES', 'LEDGER', 'ORDERS', 'EMPLOYEES', 'ACCOUNTS'])}",
        "schema": f"{domain.upper()}DB",
        "service": f"{domain}-api.corp.local:8443",
        "host": f"{domain}-db01.corp.local",
        "user": facts.user,
        "ws": facts.workstation,
        "script": facts.script,
        "date": facts.date,
        "pid": str(1000 + rng.randrange(60000)),
        "upstream": f"{domain.upper()}_EXTRACT",
        "jobname": facts.job_name[:8],
        "program": f"{domain.upper()[:4]}{rng.randrange(100, 999)}",
    }


def preamble(facts: RunFacts) -> list[str]:
    """What the agent prints before the program: jobmanrc on UNIX, the command echo on Windows, JES on z/OS."""
    if facts.platform == "unix":
        lang = "pt_BR.UTF-8" if facts.locale == "pt_BR" else "en_US.UTF-8"
        return [
            "Tivoli Workload Scheduler (UNIX)/JOBMANRC 10.1",
            f'Installed for user "{facts.user}".',
            f'Locale LANG set to the following: "{lang}"',
            f"Now we are running the script {facts.script}",
        ]
    if facts.platform == "windows":
        return [f"C:\\TWS\\jobs>call {facts.script}"]
    if facts.platform == "zos":
        name = facts.job_name[:8]
        return [f"$HASP373 {name} STARTED - INIT 4    - CLASS B        - SYS PRD1", f"IEF403I {name} - STARTED"]
    if facts.platform == "sap":
        return [f"+++ R3BATCH: connecting to SAP system PRD client 100 as {facts.user.upper()}"]
    return []


def _noise_before(rng: random.Random, ctx: dict[str, str], facts: RunFacts) -> list[str]:
    """Lines that look alarming or mention causes but are not the failure."""
    out = [f"INFO  {ctx['stem']}: environment PROD, user {facts.user}"]
    if rng.random() < 0.5:
        out.append(f"INFO  config: retries=3 timeout=30s batch_size=5000 input={ctx['indir']}")
    if rng.random() < 0.4:
        out.append("WARN  deprecated option --legacy-dates is ignored")
    if rng.random() < 0.35:  # an error a retry recovered
        out += [
            f"ERROR connection reset by {ctx['host']} (attempt 1/3): deadlock victim, retrying in 5s",
            "INFO  attempt 2/3 succeeded",
        ]
    if rng.random() < 0.25:
        out.append(f"WARN  {ctx['indir']}/{ctx['stem']}.bak not found, skipping optional backup copy")
    return out


def _cleanup_after(rng: random.Random, ctx: dict[str, str], facts: RunFacts) -> list[str]:
    if facts.platform not in {"unix", "dynamic"} or rng.random() >= 0.5:
        return []
    if facts.locale == "pt_BR":
        return [f"rm: não foi possível remover '/tmp/{ctx['stem']}.lck': Arquivo ou diretório inexistente"]
    return [f"rm: cannot remove '/tmp/{ctx['stem']}.lck': No such file or directory"]


def body(facts: RunFacts) -> list[str]:
    """The program's output for the run so far (a FAIL prints only the agent's message)."""
    rng = random.Random(_hash("log", facts.run_id))
    ctx = context(facts, rng)
    kind = kinds().get(facts.outcome)
    if kind is not None and kind.status == "FAIL" and facts.failed:
        return [line.format(**ctx) for line in kind.lines]
    lines = [*preamble(facts), f"Starting {facts.script} for business date {facts.date}"]
    noisy = rng.random() < 0.8  # most programs chatter; some print only what matters
    if noisy:
        lines += _noise_before(rng, ctx, facts)
    steps = rng.randint(3, 9)
    done = int(steps * min(facts.steps_done, 1.0))
    records = 0
    for step in range(1, done + 1):
        records += rng.randint(500, 50_000)
        lines.append(f"Step {step}/{steps}: processed {records} records")
    if facts.killed:
        lines.append("Job terminated by signal 9 (kill requested by operator)")
    elif facts.failed and kind is not None:
        chosen = kind.pt if facts.locale == "pt_BR" and kind.pt else kind.lines
        lines += [line.format(**ctx) for line in chosen]
        if noisy:
            lines += _cleanup_after(rng, ctx, facts)
    elif facts.steps_done >= 1.0:
        lines.append(f"Completed successfully: {records} records")
    return lines
