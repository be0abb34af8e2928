"""Critical jobs and deadlines ("which critical jobs are late?", "algum crítico em risco?")."""

from __future__ import annotations

from typing import Any

from ..models.answers import critical_list
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return critical_list(data.get("critical", []), lang)


CAPABILITY = Capability(
    kind=QueryType.SLA,
    signals=(
        r"\b(critical|critic\w*)\b.*\b(late|atrasad\w*|risk|risco|deadline|prazo|behind)\b",
        r"\b(late|atrasad\w*|deadline|prazo|sla|at risk|em risco)\b.*\b(critical|critic\w*|jobs?)\b",
        r"\b(miss(ing)? (the|its|their) deadline|vai atrasar|estourar o prazo)\b",
    ),
    weight=2.6,
    reads=("critical",),
    compose=compose,
    weights={"critical": 1.0},
    settles=False,  # the agent decides (an order, a list to act on, nothing to read)
    eval_tag="sla",
)
