"""A job's state now ("is PAYROLL_NIGHTLY done?", "o X já rodou?"): its line from the engine, what
the state means, whether it runs long, the cause of a failed run; the plan's health when no job or
workstation is named."""

from __future__ import annotations

from typing import Any

from ..models.answers import status_lines, statuses
from ..models.system import health_lines
from ..taxonomy import QueryType
from .base import Branch, Capability, Data


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    parts = status_lines(data, meta, lang, with_cause=True)
    if not statuses(data):
        parts.extend(health_lines(data.get("health", []), data.get("workstations", []), lang))
    return parts


CAPABILITY = Capability(
    kind=QueryType.STATUS,
    signals=(
        r"\b(did|has|have) (the|that|my|our) (rerun|re-run|restart) (fix|fixed|work|worked|help|helped|solve|"
        r"resolve|go)\w*\b",
        r"\b(after|since) the (rerun|re-run|restart)\b.*\?",
        r"\b(voltou|funcionou|resolveu|deu certo|passou|rodou)\b.*"
        r"\b(depois|apos) (d[oa] )?(rerun|reexecu\w*|restart)\b",
        r"\b(o|a) (rerun|reexecucao) (resolveu|funcionou|deu certo)\b",
        r"\b(resolveu|voltou|funcionou) com (o |um )?(rerun|reexecu\w*)\b",
        r"\b(did|has) (somebody|someone|anyone|an operator) (hold|held|cancel\w*|kill\w*|releas\w*)\b",
        r"\balguem (segurou|cancelou|matou|liberou)\b",
    ),
    weight=7.0,
    also=(
        (
            1.0,
            (
                r"\b(status|stauts|statsu|state|estado|situacao|done|finish\w*|complet\w*|terminou|concluiu|rodou|"
                r"running|rodando|em execucao|started|start|comecou|stuck|travado|parado|waiting|hold|ready|ok)\b",
                r"\b(is|esta|ja)\b.*\?",
            ),
        ),
    ),
    reads=("status", "workstations", "history", "cause", "health"),
    compose=compose,
    # the plan's health when the question names no job and no workstation ("is everything ok?")
    branches={
        "health": Branch("get_system_health", lambda e, q: [] if e.get("jobs") or e.get("workstations") else [{}])
    },
    weights={"status": 1.0, "workstations": 0.8, "health": 0.7, "history": 0.6, "cause": 0.8},
    about_a_job=True,
    eval_tag="status",
)
