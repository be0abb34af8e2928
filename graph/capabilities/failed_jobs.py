"""What failed ("what failed tonight?", "quais jobs abendaram ontem?"): the failed runs of the window or
production day, each with its cause when the reads with causes come back in time."""

from __future__ import annotations

from typing import Any

from ..models.failures import failed_list, failed_reads
from ..taxonomy import QueryType
from .base import Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return failed_list(failed_reads(data), lang)


CAPABILITY = Capability(
    kind=QueryType.FAILED_JOBS,
    signals=(
        r"\b(which|what|quais|quantos|how many|list|lista|show|mostra|any|teve|tem|me passa|give me)\b.*"
        r"\b(fail\w*|falh\w*|abend\w*|errors?|erro)\b",
        r"\b(deu pau|deram pau|quebrou|quebraram|cairam)\b",
        r"\b(everything|tudo|all) (in|em) (abend|fail)\b",
        r"^\s*(failed jobs|falhas|jobs (in|em) (abend|fail)|failures|jobs que falharam|what failed|o que falhou)\b",
        r"\b(abended|abendou|falharam|failed)\b.*\b(last|ultim\w*|ontem|yesterday|today|hoje|tonight|\d+ ?h)",
    ),
    weight=1.8,
    reads=("failed", "failed_causes"),
    compose=compose,
    weights={"failed": 1.0, "failed_causes": 1.0},
    eval_tag="failed_jobs",
)
