"""What an action would do, never doing it ("what happens if I cancel X?", "um rerun resolve?"): the
job's state, its successors, and whether the cause of its failure lets a rerun help."""

from __future__ import annotations

from typing import Any

from ..models.answers import statuses, what_if
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return what_if(meta.get("entities") or {}, statuses(data), data, lang)


CAPABILITY = Capability(
    kind=QueryType.IMPACT,
    signals=(
        r"\bwhat (happens|would happen|will happen|breaks|stops)\b.*\b(if|when)\b",
        r"\bwhat if (i|we)\b",
        r"\b(can|could|should) (i|we) (just )?(cancel|kill|hold|release|rerun|stop)\b.*\?",
        r"\b(o que acontece|o que (para|quebra)|e se (eu|a gente|nos))\b",
        r"\bse (eu|a gente|nos) (cancel|segur|mat|liber|reexecut|parar|suspend)\w*\b.*\?",
        r"\b(posso|podemos) (so )?(cancelar|segurar|matar|liberar|reexecutar)\b.*\?",
        r"\bhypothetic\w*|\bhipotetic\w*|\bin theory\b|\bem tese\b",
        r"\b(will|would|does|could) (a |the )?(plain |simple |new )?(rerun|re-run|restart)\b.*"
        r"\b(fix|help|solve|work|resolve)\w*\b",
        r"\b(resolve|resolveria|adianta|funciona|funcionaria)\b.{0,25}\b(rerun|reexecu\w*|rodar de novo)\b|"
        r"\b(rerun|reexecu\w*)\b.{0,25}\b(resolve|resolveria|adianta)\b",
        r"\bshould (i|we) (just )?(rerun|re-run|restart|hold|release|cancel|kill|confirm)\b",
        r"\bdiferen\w* (de|entre) (dar |fazer )?(um )?(kill|cancel\w*|hold|rerun|reexecu\w*|confirm\w*)\b",
        r"\bif (i|we) (\w+ )?(cancel|kill|hold|release|rerun|re-run|restart|confirm|stop|mark)\w*\b.*\?",
        r"\bse (eu|a gente|nos) (der|fizer|mandar|fosse|for) \w*\s*"
        r"(rerun|cancel\w*|hold|kill|reexecu\w*|confirm\w*)\b",
    ),
    weight=7.0,
    reads=("status", "dependencies", "kg", "rerun_logs"),
    compose=compose,
    weights={"dependencies": 1.0, "kg": 1.0, "status": 0.9, "rerun_logs": 1.0},
    about_a_job=True,
    eval_tag="impact",
)
