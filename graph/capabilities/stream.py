"""A job stream's state: its newest instance's status, deadline and lateness, its jobs by status,
the failed ones and those not started ("como está o BILLING_DAILY?", "is the payroll stream done?")."""

from __future__ import annotations

import re
from typing import Any

from ..models.answers import critical_list
from ..models.failures import failed_list
from ..models.system import job_line, late_stream_lines
from ..models.waiting import held_text
from ..taxonomy import QueryType
from .base import Branch, Capability, Data, Phrases, say

PHRASES: Phrases = {
    "line": {
        "en": "Job stream {stream} ({ws}, scheduled {at}) is {status}{deadline}.",
        "pt": "O job stream {stream} ({ws}, agendado {at}) está em {status}{deadline}.",
    },
    "deadline": {"en": "; deadline {at}", "pt": "; prazo {at}"},
    "late": {"en": " — LATE: past its deadline and not complete", "pt": " — ATRASADO: passou do prazo sem terminar"},
    "counts": {"en": "Its jobs: {counts}.", "pt": "Seus jobs: {counts}."},
    "failed": {"en": "Failed in it:", "pt": "Com falha nele:"},
    "waiting": {"en": "Not started yet: {names}.", "pt": "Ainda não começaram: {names}."},
    "holding": {"en": "Holding it now: {items}.", "pt": "Segurando o stream agora: {items}."},
    "confirmation": {
        "en": "ran, awaits an operator's confirmation",
        "pt": "rodou, espera a confirmação de um operador",
    },
    "running": {"en": "still running", "pt": "ainda rodando"},
}


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for found in data.get("stream_status", [])[:2]:
        deadline = say(PHRASES, "deadline", lang, at=found["deadline"]) if found.get("deadline") else ""
        deadline += PHRASES["late"][lang] if found.get("late") else ""
        out.append(
            say(
                PHRASES,
                "line",
                lang,
                stream=found["stream"],
                ws=found.get("workstation"),
                at=found.get("scheduled"),
                status=found.get("status"),
                deadline=deadline,
            )
        )
        counts = ", ".join(f"{k} {v}" for k, v in sorted((found.get("jobs_by_status") or {}).items()))
        out.append(say(PHRASES, "counts", lang, counts=counts or "-"))
        if found.get("failed"):
            out.append(
                say(PHRASES, "failed", lang) + "\n" + "\n".join(f"- {job_line(j, lang)}" for j in found["failed"][:8])
            )
        if found.get("holding"):
            items = "; ".join(f"{h['job']} [{h['status']}: {PHRASES[h['why']][lang]}]" for h in found["holding"][:6])
            out.append(say(PHRASES, "holding", lang, items=items))
        if found.get("not_started"):
            out.append(say(PHRASES, "waiting", lang, names=", ".join(found["not_started"][:12])))
        if found.get("held_by"):
            out.append(held_text(found["held_by"], lang))
    if not out:  # no stream named exactly: the late streams, what fails and what is at risk in the plan
        out += late_stream_lines(data.get("late_streams", []), lang)
        out += failed_list(data.get("failed", []), lang) + critical_list(data.get("critical", []), lang)
    return out


PLURAL = re.compile(r"\b(streams|jobstreams|fluxos)\b")
LATENESS = re.compile(r"\b(late|atras\w*|deadline|prazo|on time|in time|no horario|a tempo|estourar)\b")


def boost(entities: dict[str, Any], folded: str) -> float:
    """A stream named (and no job, no action) is the stream's question; more so when it asks whether
    it will be late (its own deadline, not the plan's critical jobs)."""
    if PLURAL.search(folded) and LATENESS.search(folded) and not entities.get("jobs"):
        return 4.0  # "which streams are late?": the plan's late streams
    if not entities.get("job_streams") or entities.get("jobs") or entities.get("action"):
        return 0.0
    return 2.5 + (3.0 if LATENESS.search(folded) else 0.0)


CAPABILITY = Capability(
    kind=QueryType.STREAM,
    signals=(
        r"\b(block\w*|stuck|holding up|bloque\w*|trav\w*|parad[oa])\b.*\b(stream|jobstream|fluxo|cadeia)\b",
        r"\b(stream|jobstream|job stream|fluxo|cadeia)\b.*\b(block\w*|stuck|bloque\w*|trav\w*|parad[oa]|status|done|"
        r"terminou|acabou|finished|complete\w*|late|atrasad\w*|deadline|prazo|how is|como (esta|ta))\b",
        r"\b(streams|jobstreams|fluxos)\b.*\b(late|atrasad\w*|behind|deadline|prazo)\b",  # which streams are late
    ),
    weight=2.7,
    reads=("stream_status", "late_streams", "failed", "critical"),
    compose=compose,
    branches={
        "stream_status": Branch(
            "get_job_stream_status", lambda e, q: [{"stream": s} for s in (e.get("job_streams") or [])[:2]]
        ),
        "late_streams": Branch("get_late_streams", lambda e, q: [] if e.get("job_streams") else [{}]),
    },
    weights={"stream_status": 1.0, "late_streams": 1.0, "failed": 0.8, "critical": 0.6},
    boost=boost,
    eval_tag="stream",
)
