"""The engine's and the agents' health ("is the engine up?", "os agentes estão conectados?")."""

from __future__ import annotations

from typing import Any

from ..models.system import health_lines
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return health_lines(data.get("health", []), data.get("workstations", []), lang)


CAPABILITY = Capability(
    kind=QueryType.HEALTH,
    signals=(
        r"\b(health|saude|system doing|ambiente|engine (is )?up|engine esta no ar|no ar\b|agents? linked|"
        r"agentes? (estao )?conectados|linkad\w*|linked|fora do ar|down|health check|unlinked|offline)\b",
        r"\b(agt\d+|master|fta_\w+|agente|agent)\b.*\b(ta|esta|is) (fora|off|down)\b",
    ),
    weight=2.0,
    reads=("health", "workstations"),
    compose=compose,
    weights={"health": 1.0, "workstations": 0.9},
    eval_tag="health",
)
