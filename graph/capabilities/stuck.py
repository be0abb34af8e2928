"""What is stuck now, plan-wide, in the order to look at it ("what is stuck?", "o que está travado?",
"what should I look at first?" with no job named): failures not recovered — critical ones first, as
their successors wait — then workstations that are down with jobs waiting on them, jobs running far
beyond their usual duration, and prompts waiting for a reply. Each line is the engine's own fields."""

from __future__ import annotations

from typing import Any

from ..models.failures import cause_text, failed_reads
from ..models.phrases import t
from ..models.system import confirmation_lines
from ..taxonomy import QueryType
from .base import Branch, Capability, Data, Phrases, plan_wide, say
from .long_runners import compose as long_runners
from .prompts import compose as prompts

PHRASES: Phrases = {
    "failed": {
        "en": "Failed and not recovered ({n}); what comes after them waits:",
        "pt": "Com falha e não recuperados ({n}); o que vem depois deles espera:",
    },
    "down": {
        "en": "Workstations down with jobs waiting on them:",
        "pt": "Estações fora do ar com jobs esperando por elas:",
    },
    "down_line": {
        "en": "- {name}: not linked, {n} job(s) ready and waiting{names}",
        "pt": "- {name}: desconectada, {n} job(s) prontos esperando{names}",
    },
    "critical": {"en": " — critical", "pt": " — crítico"},
    "blocks": {
        "en": "; blocks {n} job(s) downstream, {c} critical",
        "pt": "; bloqueia {n} job(s) adiante, {c} críticos",
    },
    "start": {
        "en": "Start with {job}: of the failures not recovered, it holds up the most ({n} job(s) downstream, {c}"
        " critical{own}).",
        "pt": "Comece pelo {job}: das falhas não recuperadas, é a que mais segura ({n} job(s) adiante, {c}"
        " críticos{own}).",
    },
    "own": {"en": "; it is critical itself", "pt": "; ele mesmo é crítico"},
    "calm": {
        "en": "Nothing is stuck: no failure left unrecovered today, no workstation down with jobs waiting, no job"
        " running far beyond its usual duration, no job waiting for a confirmation, no prompt waiting.",
        "pt": "Nada travado: nenhuma falha de hoje sem recuperação, nenhuma estação fora do ar com jobs esperando,"
        " nenhum job rodando muito além do normal, nenhum job esperando confirmação, nenhum prompt esperando.",
    },
}

# the plan-wide reads (a job named makes the question that job's: its status and what it waits for)
TRIAGE: dict[str, Branch] = {
    "failed_today": plan_wide("get_failed_jobs", {"hours": 24, "day": "today", "with_blocking": True}),
    "failed_causes": plan_wide("get_failed_jobs", {"hours": 24, "day": "today", "with_causes": True}),
    "critical": plan_wide("get_critical_jobs", {}),
    "stations": plan_wide("get_workstation_status", {}),
    "long": plan_wide("get_long_runners", {}),
    "prompts": plan_wide("get_prompts", {}),
    "confirm": plan_wide("get_awaiting_confirmation", {}),
}


def unrecovered(data: Data) -> list[dict[str, Any]]:
    """Today's failed jobs still failed now, one line each (its newest failure), critical ones first."""
    critical = {j["job"] for d in data.get("critical", []) for j in d.get("jobs", []) if j.get("critical")}
    newest: dict[str, dict[str, Any]] = {}
    for found in failed_reads(data, "failed_today"):
        for run in found.get("jobs", []):
            if run.get("still_failed"):
                newest.setdefault(run["job"], run | {"critical": run["job"] in critical})
    return sorted(
        newest.values(),
        key=lambda r: (not r["critical"], -r.get("blocks_critical", 0), -r.get("blocks", 0), r["job"]),
    )


def triage(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    out = []
    failed = unrecovered(data)
    if failed:
        lines = [
            f"- {r['job']} ({r.get('workstation')}#{r.get('job_stream')}) {r.get('status')}"
            + (t("rc", lang, rc=r["return_code"]) if r.get("return_code") is not None else "")
            + (say(PHRASES, "critical", lang) if r["critical"] else "")
            + (say(PHRASES, "blocks", lang, n=r["blocks"], c=r.get("blocks_critical", 0)) if "blocks" in r else "")
            + cause_text(r, lang)
            for r in failed[:10]
        ]
        first = failed[0]
        if meta.get("query_type") == "prioritise" and "blocks" in first:  # "what first?": the answer leads with it
            own = say(PHRASES, "own", lang) if first["critical"] else ""
            c = first.get("blocks_critical", 0)
            out.append(say(PHRASES, "start", lang, job=first["job"], n=first["blocks"], c=c, own=own))
        out.append(say(PHRASES, "failed", lang, n=len(failed)) + "\n" + "\n".join(lines))
    down = [w for d in data.get("stations", []) for w in d.get("workstations", []) if not w.get("linked")]
    if down:
        lines = [
            say(
                PHRASES,
                "down_line",
                lang,
                name=w["name"],
                n=w.get("jobs_ready_waiting", 0),
                names=f" ({', '.join(w['ready_jobs'])})" if w.get("ready_jobs") else "",
            )
            for w in down
        ]
        out.append(say(PHRASES, "down", lang) + "\n" + "\n".join(lines))
    if any(d.get("long_runners") for d in data.get("long", [])):
        out.extend(long_runners(data, lang, meta))
    out.extend(confirmation_lines(data.get("confirm", []), lang))
    if any(d.get("prompts") for d in data.get("prompts", [])):
        out.extend(prompts(data, lang, meta))
    if not out and "failed_today" in data:
        out.append(say(PHRASES, "calm", lang))
    return out


CAPABILITY = Capability(
    kind=QueryType.STUCK,
    signals=(
        r"\b(stuck|hung|hanging|frozen|not moving|isn'?t moving|holding (things |everything )?up|bottlenecks?|"
        r"blocked right now|what'?s blocked|what is blocked|anything blocked)\b",
        r"\b(travad\w*|empacad\w*|engasgad\w*|congelad\w*|nao (anda|sai do lugar|andou|esta andando)|"
        r"o que (esta|ta) (parado|preso|bloqueado|segurando)|(algo|alguma coisa) (parad[oa]|pres[oa]|bloquead[oa]))\b",
    ),
    weight=4.0,
    reads=tuple(TRIAGE),
    compose=triage,
    branches=TRIAGE,
    weights={name: 1.0 for name in TRIAGE},
    # "why is X stuck?", "what is stuck in BILLING_DAILY / on AGT1?": that job's, stream's or station's own answer
    boost=lambda e, folded: -4.0 if e.get("jobs") or e.get("job_streams") or e.get("workstations") else 0.0,
    eval_tag="stuck",
)
