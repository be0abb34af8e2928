"""What a job waits for and what waits for it ("what runs after X?", "o X depende de quê?"): its state,
its predecessors and successors from the engine, and what it holds up."""

from __future__ import annotations

from typing import Any

from ..models.answers import dependencies, impact, status_lines
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return [
        *status_lines(data, meta, lang, with_cause=True),
        *dependencies(data.get("dependencies", []), lang),
        *impact(data.get("kg", []), lang),
    ]


CAPABILITY = Capability(
    kind=QueryType.DEPENDENCIES,
    signals=(
        r"\b(what (comes|runs|starts) (after|next)|o que (vem|roda|comeca) depois|blocked by|"
        r"bloquead[oa]s? (por|pelo)|"
        r"depend\w*|predecessor\w*|successor\w*|sucessor\w*|downstream|upstream|waiting for|esperando o que|"
        r"impact\w*|impacto|bloqueia|blocks|chain between|cadeia entre)\b",
    ),
    weight=2.2,
    reads=("status", "dependencies", "kg", "cause"),
    compose=compose,
    weights={"dependencies": 1.0, "kg": 0.9, "status": 0.6, "cause": 0.6},
    about_a_job=True,
    eval_tag="dependencies",
)
