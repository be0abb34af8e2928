"""A job's log ("show me the log of X", "mostra a saída do X"): its state and the end of its log."""

from __future__ import annotations

from typing import Any

from ..models.answers import log_tails, status_lines
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return status_lines(data, meta, lang, with_cause=False) + log_tails(data, lang)


CAPABILITY = Capability(
    kind=QueryType.LOGS,
    signals=(r"\b(log|logs|joblog|stdlist|output|saida|tail)\b",),
    weight=2.2,
    reads=("status", "logs"),
    compose=compose,
    weights={"logs": 1.0, "status": 0.6},
    about_a_job=True,
    eval_tag="logs",
)
