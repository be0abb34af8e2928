"""The shift handover: what the next shift must know, from the engine — failures still open and
those a rerun recovered (today's production day), critical jobs at risk, job streams past their
deadline, jobs waiting for a confirmation, long runners, prompts waiting, workstations down. Each
part says where it comes from."""

from __future__ import annotations

import re
from typing import Any

from ..models.answers import critical_list
from ..models.failures import failed_list, failed_reads
from ..models.system import confirmation_lines, health_lines, late_stream_lines
from ..taxonomy import QueryType
from . import long_runners, prompts
from .base import Branch, Capability, Data, Phrases, say

PHRASES: Phrases = {
    "title": {"en": "Shift handover ({now}):", "pt": "Passagem de turno ({now}):"},
    "open": {
        "en": "Still failed now — act on these first: {names}.",
        "pt": "Ainda com falha agora — tratar primeiro: {names}.",
    },
    "none_open": {"en": "Nothing is still failed now.", "pt": "Nada está com falha agora."},
}


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    parts = [say(PHRASES, "title", lang, now=meta.get("now") or "?")]
    failed = failed_reads(data)
    still = sorted({j["job"] for f in failed for j in f.get("jobs", []) if j.get("still_failed")})
    parts.append(say(PHRASES, "open", lang, names=", ".join(still)) if still else say(PHRASES, "none_open", lang))
    parts += failed_list(failed, lang)
    parts += critical_list(data.get("critical", []), lang)
    parts += late_stream_lines(data.get("late_streams", []), lang)
    parts += confirmation_lines(data.get("confirm", []), lang)
    parts += long_runners.compose(data, lang, meta)
    parts += prompts.compose(data, lang, meta)
    parts += health_lines(data.get("health", []), [], lang)
    return parts


HOW_TO = re.compile(r"^\s*(how (do|can|should|to|would)|como (eu )?(faco|fazer|devo|lidar|tratar|proceder))\b")


CAPABILITY = Capability(
    kind=QueryType.HANDOVER,
    signals=(
        r"\b(handover|hand(ing|ed|s)? (it |things |the shift |everything )?over|hand-off|handoff|shift (change|"
        r"summary|report|handover|notes)|next shift|incoming shift|end of (my |the )?shift|taking over|"
        r"next (person|operator|one on|guy)|whoever (comes|is) (next|on next))\b",
        r"\b(passagem de turno|passa\w* o turno|proximo turno|troca de turno|turno seguinte|virada de turno|plantao|"
        r"assumi\w* o turno|fim do (meu )?turno|quem (entra|assume|chega) (agora|depois|no proximo)|rendicao)\b",
        r"\b(resumo|resumao|brief\w*|summary|recap)\b.*\b(turno|shift|plantao)\b",
        r"\b(what should|o que) .{0,30}\b(know|saber)\b.*\b(shift|turno|plantao)\b",
    ),
    weight=6.0,
    reads=("failed", "failed_causes", "critical", "late_streams", "confirm", "long", "prompts", "health"),
    compose=compose,
    branches={
        "failed": Branch("get_failed_jobs", lambda e, q: [{"hours": 24, "day": "today"}]),
        "failed_causes": Branch("get_failed_jobs", lambda e, q: [{"hours": 24, "day": "today", "with_causes": True}]),
        "long": long_runners.CAPABILITY.branches["long"],
        "prompts": prompts.CAPABILITY.branches["prompts"],
        "late_streams": Branch("get_late_streams", lambda e, q: [{}]),
        "confirm": Branch("get_awaiting_confirmation", lambda e, q: [{}]),
    },
    boost=lambda e, folded: -7.0 if HOW_TO.search(folded) else 0.0,  # how to do a handover: the runbooks
    eval_tag="handover",
)
