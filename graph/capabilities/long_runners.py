"""Long runners: jobs running now far beyond their usual duration (the median of their successful
runs), the worst first ("anything running long?", "o que está demorando mais que o normal?")."""

from __future__ import annotations

from typing import Any

from ..models.system import job_line
from ..taxonomy import QueryType
from .base import Branch, Capability, Data, Phrases, say

PHRASES: Phrases = {
    "none": {
        "en": "No job is running longer than {factor}× its usual duration ({running} running now, {compared} with"
        " history).",
        "pt": "Nenhum job está rodando mais que {factor}× a duração normal ({running} rodando agora, {compared}"
        " com histórico).",
    },
    "head": {
        "en": "{n} job(s) running longer than usual ({running} running now):",
        "pt": "{n} job(s) rodando além do normal ({running} rodando agora):",
    },
    "line": {
        "en": "- {line} Running for {elapsed} min, usually {usual} min ({times}×).",
        "pt": "- {line} Rodando há {elapsed} min, normalmente {usual} min ({times}×).",
    },
}


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    out = []
    for found in data.get("long", [])[:1]:
        jobs = found.get("long_runners") or []
        if not jobs:
            out.append(
                say(
                    PHRASES,
                    "none",
                    lang,
                    factor=found.get("factor"),
                    running=found.get("running"),
                    compared=found.get("compared"),
                )
            )
            continue
        lines = [
            say(
                PHRASES,
                "line",
                lang,
                line=job_line(j, lang),
                elapsed=j["elapsed_min"],
                usual=j["usual_min"],
                times=j["times_usual"],
            )
            for j in jobs[:10]
        ]
        out.append(say(PHRASES, "head", lang, n=len(jobs), running=found.get("running")) + "\n" + "\n".join(lines))
    return out


CAPABILITY = Capability(
    kind=QueryType.LONG_RUNNERS,
    signals=(
        r"\b(long[- ]?runn\w*|running (way |far )?(too |so |very )?long|taking (way |far )?(too |so |very )?long|"
        r"longer than (usual|normal|expected)|"
        r"more than (usual|normal)|slower than (usual|normal)|overrun\w*|still running|running late)\b",
        r"\b(demorando|demorad[oa]s?|demora (demais|muito)|mais (tempo )?(que|do que) o (normal|usual|de costume|"
        r"esperado)|"
        r"acima do (normal|tempo|esperado)|rodando (ha|faz) muito|estourando o tempo|lent[oa]s?|ainda rodando|"
        r"(ha|faz) (tempo demais|muito tempo)|tempo demais)\b",
    ),
    weight=3.5,
    reads=("long",),
    compose=compose,
    branches={"long": Branch("get_long_runners", lambda e, q: [{}])},
    weights={"long": 1.0},
    boost=lambda e, folded: -3.0 if e.get("jobs") else 0.0,  # about one job: its status and history say it
    eval_tag="long-runner",
)
