"""An order ("rerun PAYROLL_NIGHTLY", "segura o X"): the job's state before, and the write proposed for
an approval (the agent and its write tools do it; ``tools.actions`` declares each action)."""

from __future__ import annotations

from typing import Any

from ..models.answers import action_parts, status_lines
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    acted = any(r.get("outcome") == "ok" for r in meta.get("tool_results", []))
    before = [] if acted else status_lines(data, meta, lang, with_cause=False)  # once acted, it is stale
    return before + action_parts(meta, lang)


CAPABILITY = Capability(
    kind=QueryType.ACTION,
    signals=(
        r"^\s*(please\s+|por favor,?\s+)?(rerun|re-run|restart|hold|release|cancel|kill|confirm|mark|put)\b",
        r"^\s*(please\s+|por favor,?\s+)?(reexecut\w*|reroda\w*|roda de novo|rode de novo|segura|segure|libera|"
        r"libere|cancela|cancele|mata|mate|confirma|confirme|coloca|coloque|reinicia|reinicie|suspend\w*|pare)\b",
        r"\b(rerun|reexecut\w*|reroda\w*)\s+(it|ele|o job|isso)\b",
        r"^\s*(faz|faca|fazer|da|de|dar|manda|mande) (o |um )?(release|rerun|hold|kill|cancel)\b",
    ),
    weight=3.0,
    reads=("status", "stream_failed", "stream_jobs"),
    compose=compose,
    weights={"status": 1.0, "stream_failed": 1.0, "stream_jobs": 1.0},
    settles=False,  # the agent decides (an order, a list to act on, nothing to read)
    eval_tag="action",
)
