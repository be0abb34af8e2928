"""What changed since the previous production day. For a job, its newest instance against yesterday's,
on the engine's own fields — status, return code, workstation, start, duration, runs (reruns
included) — ("o que mudou no X desde ontem?"); with no job named, the plan's failures: new today,
failed yesterday and not today, failed on both days ("what changed since yesterday?")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..models.answers import minutes_text
from ..models.phrases import t
from ..models.system import job_line
from ..taxonomy import QueryType
from .base import Branch, Capability, Data, Phrases, plan_wide, say
from .stuck import TRIAGE

PHRASES: Phrases = {
    "head": {"en": "{job}: today compared with yesterday —", "pt": "{job}: hoje comparado com ontem —"},
    "same": {"en": "- {field}: {value} (unchanged)", "pt": "- {field}: {value} (sem mudança)"},
    "changed": {"en": "- {field}: {before} → {after}", "pt": "- {field}: {before} → {after}"},
    "new": {"en": "Failed today, not yesterday ({n}):", "pt": "Falharam hoje e não ontem ({n}):"},
    "gone": {"en": "Failed yesterday, not today ({n}):", "pt": "Falharam ontem e não hoje ({n}):"},
    "both": {"en": "Failed on both days ({n}):", "pt": "Falharam nos dois dias ({n}):"},
    "calm": {
        "en": "No job failed today or yesterday: nothing changed in failures.",
        "pt": "Nenhum job falhou hoje nem ontem: nada mudou nas falhas.",
    },
    "missing": {
        "en": "{job} has no instance yesterday to compare with.",
        "pt": "{job} não tem instância ontem para comparar.",
    },
}
FIELDS = {
    "status": {"en": "status", "pt": "status"},
    "return_code": {"en": "return code", "pt": "código de retorno"},
    "workstation": {"en": "workstation", "pt": "estação"},
    "duration": {"en": "duration", "pt": "duração"},
    "start": {"en": "start", "pt": "início"},
    "runs": {"en": "runs (reruns included)", "pt": "execuções (com reexecuções)"},
}


def _facts(job: dict[str, Any]) -> dict[str, Any]:
    took = None
    if job.get("started") and job.get("ended"):
        took = minutes_text(
            (datetime.fromisoformat(job["ended"]) - datetime.fromisoformat(job["started"])).total_seconds()
        )
    return {
        "status": job.get("status"),
        "return_code": job.get("return_code"),
        "workstation": job.get("workstation"),
        "duration": took,
        "start": (job.get("started") or "")[11:16] or None,
        "runs": job.get("runs"),
    }


def failures(data: Data, branch: str) -> dict[str, dict[str, Any]]:
    """The day's failed jobs by name (the newest failed run of each)."""
    return {r["job"]: r for d in data.get(branch, []) for r in reversed(d.get("jobs", []))}


def failures_compared(data: Data, lang: str) -> list[str]:
    today, yesterday = failures(data, "failed_today"), failures(data, "failed_yesterday")
    if not today and not yesterday:
        return [say(PHRASES, "calm", lang)] if "failed_today" in data else []
    out = []
    for key, names in (
        ("new", [n for n in today if n not in yesterday]),
        ("gone", [n for n in yesterday if n not in today]),
        ("both", [n for n in today if n in yesterday]),
    ):
        if names:
            runs = today if key != "gone" else yesterday
            lines = [
                f"- {n} ({runs[n].get('workstation')}) {runs[n].get('status')}"
                + (t("rc", lang, rc=runs[n]["return_code"]) if runs[n].get("return_code") is not None else "")
                for n in names[:15]
            ]
            out.append(say(PHRASES, key, lang, n=len(names)) + "\n" + "\n".join(lines))
    return out


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    if not (meta.get("entities") or {}).get("jobs"):
        return failures_compared(data, lang)
    today = {j["job"]: j for d in data.get("status", []) for j in d.get("jobs", [])[:1]}
    before = {j["job"]: j for d in data.get("status_yesterday", []) for j in d.get("jobs", [])[:1]}
    out = []
    for name, now in today.items():
        out.append(job_line(now, lang))
        if name not in before:
            out.append(say(PHRASES, "missing", lang, job=name))
            continue
        a, b = _facts(before[name]), _facts(now)
        lines = [
            say(PHRASES, "same", lang, field=FIELDS[k][lang], value=b[k])
            if a[k] == b[k]
            else say(PHRASES, "changed", lang, field=FIELDS[k][lang], before=a[k], after=b[k])
            for k in FIELDS
        ]
        out.append(say(PHRASES, "head", lang, job=name) + "\n" + "\n".join(lines))
    return out


CAPABILITY = Capability(
    kind=QueryType.CHANGES,
    signals=(
        r"\b(what('?s| has| is)? (changed|different)|any (change|difference)s?|changes? since|compared? (to|"
        r"with) (yesterday|the day before)|"
        r"differen\w* (from|than|to)|vs\.? yesterday|versus yesterday|between yesterday and today|"
        r"(was|were) (fine|ok|okay|good|working|green) yesterday|new (failures|errors))\b",
        r"\b(o que mudou|mudou (algo|alguma coisa|desde|de ontem)|mudanca\w*|entre ontem e hoje|falhas? nova\w*|"
        r"ontem (estava|tava|rodou|passou) (ok|bem|normal)|diferen\w* (de|do|em relacao|pra|"
        r"para)|"
        r"comparad\w* (a|com) ontem|comparando com ontem|versus ontem|vs\.? ontem)\b",
    ),
    weight=5.0,
    reads=("status", "status_yesterday", "failed_today", "failed_yesterday"),
    compose=compose,
    branches={
        "status": Branch("get_job_status", lambda e, q: [{"job_name": j} for j in (e.get("jobs") or [])[:2]]),
        "status_yesterday": Branch(
            "get_job_status", lambda e, q: [{"job_name": j, "day": "yesterday"} for j in (e.get("jobs") or [])[:2]]
        ),
        # no job named: the plan's failures of both days
        "failed_today": TRIAGE["failed_today"],
        "failed_yesterday": plan_wide("get_failed_jobs", {"hours": 24, "day": "yesterday"}),
    },
    eval_tag="what-changed",
)
