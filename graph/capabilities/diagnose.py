"""A job log pasted into the chat ("o que é isso?" + a stdlist): what broke and what to do, read by the
one diagnosis (``tools.diagnosis``). Recognised from the text's shape, not from words."""

from __future__ import annotations

from typing import Any

from ..models.pasted import pasted
from ..models.phrases import CATEGORY_WORDS
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return pasted(data.get("pasted", []), lang, CATEGORY_WORDS)


CAPABILITY = Capability(
    kind=QueryType.DIAGNOSE,
    signals=(),
    weight=0.0,
    reads=("pasted",),
    compose=compose,
    weights={"pasted": 1.0},
    eval_tag="diagnose",
)
