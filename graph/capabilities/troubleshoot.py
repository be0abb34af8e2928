"""Why a job failed ("why did PAYROLL_NIGHTLY fail?", "por que o X abendou?"): its state, the decisive
line of its log, its own past incidents, what it holds up, and the next step."""

from __future__ import annotations

from typing import Any

from ..models.answers import decisive_lines, impact, incidents, next_steps, status_lines
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    asked = ((meta.get("entities") or {}).get("jobs") or [None])[0]
    return [
        *status_lines(data, meta, lang, with_cause=False),  # the decisive line below says the cause
        *decisive_lines(data, lang),
        *incidents(data.get("incidents", []), lang, asked),
        *impact(data.get("kg", []), lang),
        *next_steps(data, lang),
    ]


CAPABILITY = Capability(
    kind=QueryType.TROUBLESHOOT,
    signals=(
        r"\b(why|por ?que|pq|porque|motivo|reason|root cause|causa|causou|caused|diagnos\w*|investig\w*|"
        r"what went wrong|entender o erro|qual (foi )?o erro|erro do|com qual (return code|rc|codigo)|"
        r"o que (deu errado|aconteceu)|what happened|broken|quebrou|keeps failing|continua falhando|"
        r"failed like this|falhou assim)\b",
        r"\b(explain|explica)\b.*\baws[a-z]{3}\d{3,4}[ewi]\b",
        r"\baws[a-z]{3}\d{3,4}e\b",
    ),
    weight=2.0,
    reads=("status", "logs", "incidents", "kg", "knowledge"),
    compose=compose,
    weights={"logs": 1.0, "status": 0.9, "incidents": 0.8, "kg": 0.6, "knowledge": 0.5},
    about_a_job=True,
    eval_tag="troubleshoot",
)
