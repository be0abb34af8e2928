"""A message id or code (AWSBHT023E, ORA-01017, SQLSTATE 40P01…): what it means, from the message
catalogue, and which jobs' failed runs printed it in the last production days, with the line."""

from __future__ import annotations

import re
from typing import Any

from ..taxonomy import QueryType
from .base import Branch, Capability, Data, Phrases, say

PHRASES: Phrases = {
    "meaning": {"en": "{id}: {meaning}.", "pt": "{id}: {meaning}."},
    "unknown": {
        "en": "{id}: not in the message catalogue I read logs with.",
        "pt": "{id}: não está no catálogo de mensagens com que leio os logs.",
    },
    "rerun": {
        "en": "A plain rerun {helps}.",
        "pt": "Reexecutar sem mudar nada {helps}.",
    },
    "jobs": {
        "en": "Failed runs that printed it ({n} of {searched} failed runs of the last 3 production days):",
        "pt": "Execuções com falha que a imprimiram ({n} de {searched} falhas dos últimos 3 dias de produção):",
    },
    "again": {
        "en": "{job} printed it in {n} failed runs of those days (return codes {codes}): it is not the first time.",
        "pt": "{job} a imprimiu em {n} execuções com falha desses dias (códigos de retorno {codes}): não é a "
        "primeira vez.",
    },
    "no_jobs": {
        "en": "No failed run of the last 3 production days printed it ({searched} checked).",
        "pt": "Nenhuma execução com falha dos últimos 3 dias de produção a imprimiu ({searched} verificadas).",
    },
}
HELPS = {
    "yes": {"en": "usually helps", "pt": "costuma resolver"},
    "no": {"en": "fails the same way", "pt": "falha do mesmo jeito"},
    "unknown": {"en": "may or may not help", "pt": "pode ou não resolver"},
}


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    out = []
    for found in data.get("message", []):
        meaning = found.get("meaning_pt" if lang == "pt" else "meaning")
        out.append(
            say(PHRASES, "meaning", lang, id=found["message_id"], meaning=meaning)
            if meaning
            else say(PHRASES, "unknown", lang, id=found["message_id"])
        )
        if meaning:
            out.append(
                say(PHRASES, "rerun", lang, helps=HELPS.get(str(found.get("rerun_helps")), HELPS["unknown"])[lang])
            )
        jobs = found.get("jobs") or []
        if jobs:
            lines = [f"- {_run(j, lang)}: `{j['line']}`" for j in jobs[:10]]
            out.append(
                say(PHRASES, "jobs", lang, n=len(jobs), searched=found.get("searched_runs")) + "\n" + "\n".join(lines)
            )
            out += _repeated(jobs, lang)
        else:
            out.append(say(PHRASES, "no_jobs", lang, searched=found.get("searched_runs")))
    return out


def _run(hit: dict[str, Any], lang: str) -> str:
    code = hit.get("return_code")
    rc = "" if code is None else (f", código de retorno {code}" if lang == "pt" else f", return code {code}")
    when = f" {hit['ended'][:16]}Z" if hit.get("ended") else ""
    return f"{hit['job']} [{hit['status']}{rc}]{when} run {hit['run_id']}"


def _repeated(hits: list[dict[str, Any]], lang: str) -> list[str]:
    """The jobs that got it more than once: a job's own history comes first."""
    by_job: dict[str, list[str]] = {}
    for hit in hits:
        by_job.setdefault(hit["job"], []).append("?" if hit.get("return_code") is None else str(hit["return_code"]))
    return [
        say(PHRASES, "again", lang, job=job, n=len(codes), codes=", ".join(dict.fromkeys(codes)))
        for job, codes in by_job.items()
        if len(codes) > 1
    ]


ASKS = re.compile(
    r"\b(what does .{1,30} mean|meaning of|means|o que (significa|quer dizer|e)|significado|"
    r"(which|what|quais|que|quem)\b.{0,20}\bjobs?\b.{0,30}\b(got|had|hit|printed|show\w*|deram|tiveram|pegaram|"
    r"mostr\w*|receberam|com))\b"
)


def boost(entities: dict[str, Any], folded: str) -> float:
    """Only a question with a message id is about one: strongly when it asks what it means or who got
    it, a little when it names no job (a job named makes it that job's troubleshooting)."""
    if not entities.get("message_ids"):
        return 0.0
    return (4.0 if ASKS.search(folded) else 0.0) + (3.0 if not entities.get("jobs") else 0.0)


CAPABILITY = Capability(
    kind=QueryType.MESSAGE,
    signals=(),
    weight=0.0,
    reads=("message",),
    compose=compose,
    branches={
        "message": Branch("find_message", lambda e, q: [{"message_id": m} for m in (e.get("message_ids") or [])[:2]])
    },
    boost=boost,
    eval_tag="message-id",
)
