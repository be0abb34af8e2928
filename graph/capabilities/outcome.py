"""What became of this conversation's requests ("did it work?", "foi aprovado?")."""

from __future__ import annotations

from typing import Any

from ..models.answers import outcomes
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return outcomes(data.get("outcomes", []), lang)


CAPABILITY = Capability(
    kind=QueryType.OUTCOME,
    signals=(
        r"\b(did|has) (it|that|this|the \w+( of \w+)?) (work|worked|go through|run|ran|succeed|happen)\b",
        r"\b(was|is|has) (it|that|this|the \w+( of \w+)?) (been )?(done|applied|executed|approved|rejected)\b"
        r"(?! (this|that|it|so) before)",
        r"\bwhat happened (to|with) (my|the|that|this) (request|approval|rerun|hold|cancel|kill|release)\b",
        r"\b(funcionou|deu certo|rolou|foi (feito|feita|executad[oa]|aplicad[oa]|aprovad[oa]|rejeitad[oa]))\b",
        r"\bo que aconteceu com (o|a|meu|minha|esse|essa) (pedido|aprovacao|reexecucao|acao)\b",
    ),
    weight=6.0,
    reads=("outcomes",),
    compose=compose,
    weights={"outcomes": 1.0},
    eval_tag="outcome",
)
