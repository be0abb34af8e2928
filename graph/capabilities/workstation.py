"""What is on a workstation: its link state, today's failures on it and the jobs waiting there with
the engine's reason ("what is stuck on AGT1?", "o que tá parado no AGT2?")."""

from __future__ import annotations

from typing import Any

from ..models.failures import failed_list
from ..models.system import health_lines, job_line
from ..models.waiting import wait_text
from ..taxonomy import QueryType
from .base import Branch, Capability, Data, Phrases, say

STATION = r"(agt\d+|master|fta_\w+)"
PHRASES: Phrases = {
    "waiting_head": {
        "en": "{n} job(s) on {ws} have not started today ({reasons}):",
        "pt": "{n} job(s) em {ws} ainda não começaram hoje ({reasons}):",
    },
    "none_waiting": {"en": "No job waits on {ws} today.", "pt": "Nenhum job espera em {ws} hoje."},
    "more": {"en": "… and {n} more.", "pt": "… e mais {n}."},
}
REASONS = {
    "predecessor": {"en": "predecessor", "pt": "predecessor"},
    "predecessor_stream": {"en": "job stream", "pt": "job stream"},
    "time": {"en": "start time", "pt": "horário"},
    "file": {"en": "file", "pt": "arquivo"},
    "prompt": {"en": "prompt", "pt": "prompt"},
    "resource": {"en": "resource", "pt": "recurso"},
    "operator_hold": {"en": "held by an operator", "pt": "retido por operador"},
}


def _stations(entities: dict[str, Any]) -> list[str]:
    return list(entities.get("workstations") or [])[:2]


def waiting_lines(items: list[dict[str, Any]], lang: str) -> list[str]:
    out = []
    for found in items:
        jobs = found.get("jobs") or []
        if not jobs:
            out.append(say(PHRASES, "none_waiting", lang, ws=found.get("workstation")))
            continue
        counts = found.get("by_reason") or {}
        reasons = ", ".join(f"{REASONS.get(r, {}).get(lang, r)}: {n}" for r, n in counts.items()) or "?"
        lines = [f"- {job_line(j, lang)} {wait_text(j, lang)}".rstrip() for j in jobs[:10]]
        total = int(found.get("waiting") or len(jobs))
        if total > 10:
            lines.append(say(PHRASES, "more", lang, n=total - 10))
        head = say(
            PHRASES,
            "waiting_head",
            lang,
            n=found.get("waiting", len(jobs)),
            ws=found.get("workstation"),
            reasons=reasons,
        )
        out.append(head + "\n" + "\n".join(lines))
    return out


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    parts = health_lines([], data.get("workstations", []), lang) or health_lines(data.get("health", []), [], lang)
    parts += failed_list(data.get("ws_failed", []), lang)
    parts += waiting_lines(data.get("ws_waiting", []), lang)
    return parts


CAPABILITY = Capability(
    kind=QueryType.WORKSTATION,
    signals=(
        rf"\b(running|runs|queued|waiting|stuck|hanging|blocked|pending) (on|in|at) {STATION}\b",
        rf"\b(rodando|roda|na fila|esperando|parad\w*|travad\w*|pres[oa]s?|pendurad\w*|pendente\w*) (n[oa]|"
        rf"em) {STATION}\b",
        rf"\b{STATION}\b.*\b(stuck|waiting|failed|failures|falh\w*|parad\w*|travad\w*|esperando|pendente\w*|"
        rf"problem\w*|broken|slow|lent[oa]|quebr\w*|errors?|erros?)\b",
        rf"\b(broken|wrong|quebr\w*|errad\w*|problem\w*)\b.*\b(on|no|na|em) {STATION}\b",
        rf"\b(what|o que|oq|quais?|anything|something|algo|alguma coisa)\b.*\b(on|no|na|em) {STATION}\b",
    ),
    weight=2.6,
    reads=("workstations", "ws_failed", "ws_waiting"),
    compose=compose,
    branches={
        "ws_failed": Branch(
            "get_failed_jobs", lambda e, q: [{"hours": 24, "day": "today", "workstation": w} for w in _stations(e)]
        ),
        "ws_waiting": Branch("get_waiting_jobs", lambda e, q: [{"name": w} for w in _stations(e)]),
    },
    weights={"workstations": 1.0, "ws_failed": 1.0, "ws_waiting": 0.9, "health": 0.5},
    boost=lambda e, folded: 2.0 if e.get("workstations") and not e.get("jobs") else 0.0,
    eval_tag="workstation",
)
