"""Which failed job first: the named jobs ranked by what waits on them — critical jobs blocked, jobs
blocked downstream, their own criticality — each with its state ("qual eu ataco primeiro, X ou Y?");
with no job named, the plan's triage in the order to look at it (``stuck.triage``: "what should I look
at first?")."""

from __future__ import annotations

import re
from typing import Any

from ..models.system import job_line
from ..taxonomy import QueryType
from .base import Capability, Data, Phrases, per_job, say
from .stuck import PHRASES as STUCK_PHRASES
from .stuck import TRIAGE, triage

PHRASES: Phrases = {
    "first": {
        "en": "Start with {job}: it blocks {blocked} job(s) downstream, {critical} of them critical{own}.",
        "pt": "Comece pelo {job}: ele bloqueia {blocked} job(s) adiante, {critical} deles críticos{own}.",
    },
    "then": {
        "en": "Then {job}: {blocked} job(s) downstream, {critical} critical{own}.",
        "pt": "Depois o {job}: {blocked} job(s) adiante, {critical} críticos{own}.",
    },
}


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    if not (meta.get("entities") or {}).get("jobs"):
        return triage(data, lang, meta)
    status = {j["job"]: j for d in data.get("status", []) for j in d.get("jobs", [])[:1]}
    impact = {i.get("job"): i for i in data.get("kg", [])}
    ranked = sorted(
        status,
        key=lambda name: (
            -len((impact.get(name) or {}).get("critical") or []),
            -int((impact.get(name) or {}).get("blocked_jobs") or 0),
            not status[name].get("critical"),
        ),
    )
    out = [job_line(status[name], lang) for name in ranked]
    for index, name in enumerate(ranked):
        found = impact.get(name) or {}
        own = say(STUCK_PHRASES, "own", lang) if status[name].get("critical") else ""
        out.append(
            say(
                PHRASES,
                "first" if index == 0 else "then",
                lang,
                job=name,
                blocked=found.get("blocked_jobs", 0),
                critical=len(found.get("critical") or []),
                own=own,
            )
        )
    return out


# "of today's failures, which would a plain rerun fix?": the failures side by side, not one what-if
WHICH_RERUN = re.compile(r"\b(qual|quais|which|what)\b.*\b(rerun|re-run|reexecu\w*)\b")


def boost(entities: dict[str, Any], folded: str) -> float:
    if not entities.get("jobs") and not entities.get("message_ids") and WHICH_RERUN.search(folded):
        return 8.0
    return 1.0 if len(entities.get("jobs") or []) >= 2 else 0.0


CAPABILITY = Capability(
    kind=QueryType.PRIORITISE,
    signals=(
        r"\b(which (one )?(first|before)|what first|prioriti[sz]\w*|priority order|more (urgent|important|critical)|"
        r"most (urgent|important|critical)|tackle first|start with)\b",
        r"\b(qual (deles |dos dois )?(primeiro|antes)|por (qual|onde) (eu )?comec\w*|qual (e |eh )?mais (urgente|"
        r"importante|critico)|"
        r"prioriz\w*|prioridade|ataco primeiro|resolvo primeiro|olho primeiro)\b",
        r"\b(fix first|do first|handle first|resolve com (um )?(rerun|reexecu\w*)|which .{0,20}rerun (would )?fix|"
        r"qual (deles )?resolve com)\b",
        r"\b(look at first|check first|where (do|should) (i|we) (start|begin)|what (do|should) (i|we) (do|fix|"
        r"handle) first|o que (eu )?(vejo|faco|resolvo|ataco|olho) primeiro|por onde (eu )?(comeco|começo))\b",
    ),
    weight=5.0,
    reads=("status", "kg", *TRIAGE),
    compose=compose,
    branches={"kg": per_job("get_impact", limit=4), "status": per_job("get_job_status", limit=4), **TRIAGE},
    boost=boost,
    eval_tag="prioritise",
)
