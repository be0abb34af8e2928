"""What happened overnight (or on a named production day): the watcher's investigations, root
failures first with what follows from them — the plain failure list when it found nothing — and what
an operator arriving needs next to it: workstations down and jobs running far beyond their usual
duration. Its signals stay in the classifier's vocabulary (a day named with no subject is a digest)."""

from __future__ import annotations

from typing import Any

from ..models.digest import digest
from ..models.failures import failed_list, failed_reads
from ..models.phrases import CATEGORY_WORDS
from ..models.system import health_lines
from ..taxonomy import QueryType
from . import long_runners
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    recap = digest(data.get("investigations", []), lang, CATEGORY_WORDS)
    investigated = any(d.get("investigations") for d in data.get("investigations", []))
    parts = recap if investigated else recap + failed_list(failed_reads(data), lang)
    parts += long_runners.compose(data, lang, meta) if any(d.get("long_runners") for d in data.get("long", [])) else []
    return parts + health_lines(data.get("health", []), [], lang)


CAPABILITY = Capability(
    kind=QueryType.DIGEST,
    signals=(
        r"\bwhat (happened|went wrong|broke)\b.*\b(overnight|last night|tonight|during the night|while i was)\b",
        r"\b(overnight|night|nightly|morning) (summary|recap|digest|report|briefing)\b",
        r"\b(digest|recap)\b.*\b(night|overnight|failures|incidents)\b",
        r"\bo que (aconteceu|rolou|houve|deu errado)\b.*\b(noite|madrugada)\b",
        r"\b(resumo|relatorio|balanco) da (noite|madrugada)\b",
    ),
    weight=4.0,
    reads=("investigations", "failed", "failed_causes", "long", "health"),
    compose=compose,
    branches={"long": long_runners.CAPABILITY.branches["long"]},
    weights={"investigations": 1.0, "failed": 0.8, "failed_causes": 0.8, "long": 0.7, "health": 0.7},
    eval_tag="overnight",
)
