"""Anything else (a greeting, thanks, a question out of scope): what Resync can answer."""

from __future__ import annotations

from typing import Any

from ..models.phrases import t
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return [t("other", lang)]


CAPABILITY = Capability(
    kind=QueryType.OTHER,
    signals=(
        r"^\s*(hello|hi|hey|oi|ola|thanks|thank you|obrigad\w*|valeu|who are you|quem e voce|tell me a joke|"
        r"bom dia|boa tarde|boa noite|good (morning|afternoon|evening))\b",
    ),
    weight=0.8,
    reads=(),
    compose=compose,
    settles=False,  # the agent decides (an order, a list to act on, nothing to read)
    eval_tag="other",
)
