"""How to do something ("how do I confirm a job in PEND?", "o que significa o rc 12?"): the manuals'
and runbooks' passages, with their steps."""

from __future__ import annotations

from typing import Any

from ..models.answers import howto
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return howto(data.get("knowledge", []), lang, brief=False)


CAPABILITY = Capability(
    kind=QueryType.HOWTO,
    signals=(
        r"^\s*(how (do|can|to|should)|how to|como (eu )?(reexecut|ler|resolver|fazer|confirmar|liberar|tratar)|"
        r"como se\b|como faco)",
        r"^\s*como (eu |que eu |a gente )?(?!(esta|ta|estao|anda|andam|foi|foram|vai|vao|fica|ficou)\b)"
        r"[a-z]+(o|a|mos)\b.*\b(job|prompt|hold|rerun|conman|console|stream|dependencia\w*|agente|estacao)\b",
        r"\b(what (does|is) (the )?(difference|return code|rc)\b|difference between|diferenca entre|"
        r"o que (significa|quer dizer|e)\b|what does .* mean|explain the \w+ status)",
        r"\b(when should i|quando (nao )?devo|should i not)\b",
    ),
    weight=2.5,
    reads=("knowledge",),
    compose=compose,
    weights={"knowledge": 1.0},
    eval_tag="howto",
)
