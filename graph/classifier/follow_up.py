"""A follow-up takes what it leaves out from the thread: "has it done this before?" is about the job
the conversation is on, "kill it" after a list of long runners is the first job that answer named,
"and GL_TRIAL_BALANCE?" asks the previous question again of another job."""

from __future__ import annotations

import re
from typing import Any

from ..taxonomy import Entities, QueryType
from .rules import KnownNames, classify_text, extract_entities

FOLLOW_UP = re.compile(r"\b(it|its|that job|this job|the same|dele|dela|ele|ela|isso|esse job|este job|mesmo)\b", re.I)
PRONOUN = re.compile(r"\b(it|ele|ela|esse|este|isso)\b", re.I)
AND_ALSO = re.compile(r"^\s*(and|e|what about|how about|e quanto a|e sobre)\b", re.I)
VAGUE = {QueryType.STATUS.value, QueryType.OTHER.value}
# "kill the long runners", "rerun the failed ones", "todos os que…": a target of its own, not the last subject
MANY = re.compile(
    r"\b(ones|all|every\w*|them|those|these|long runners|failures|todos|todas|tudo|os que|as que|esses|essas|"
    r"estes|estas|eles|elas)\b",
    re.I,
)
NO_SIGNAL = 0.4  # the classifier's confidence when only a name was found
NOT_REPEATED = {QueryType.ACTION.value, QueryType.OUTCOME.value, QueryType.DIAGNOSE.value}


def is_follow_up(text: str) -> bool:
    return bool(FOLLOW_UP.search(text)) or len(text.split()) <= 5


def carry(
    text: str,
    entities: Entities,
    query_type: str,
    previous: dict[str, Any],
    known: KnownNames,
    confidence: float = 1.0,
) -> tuple[str, Entities]:
    """(query type, entities) of ``text`` read with what the thread's previous turn (``previous``:
    its ``entities``, ``query_type`` and ``answer``) gives it."""
    if not is_follow_up(text):
        return query_type, entities
    before: dict[str, Any] = previous.get("entities") or {}
    own_subject = bool(entities.workstations or entities.message_ids)
    many = bool(MANY.search(text))  # "everything in it" may be the last stream's jobs, never one job
    if not entities.jobs and not entities.job_streams and not own_subject and (before or previous.get("answer")):
        entities.jobs = [] if many else list(before.get("jobs") or [])
        entities.job_streams = list(before.get("job_streams") or [])
        entities.workstations = list(before.get("workstations") or [])
        entities.message_ids = list(before.get("message_ids") or [])
        if not entities.jobs and not entities.job_streams and not many and PRONOUN.search(text):
            named = extract_entities(previous.get("answer") or "", known).jobs[:1]  # "kill it": the first named
            if named:
                entities.jobs = named
                entities.inferred["it"] = named[0]
        carried = classify_text(text, entities)[0].value  # the question read with its subject
        query_type = carried if carried != QueryType.OTHER.value else query_type
        if query_type == QueryType.OTHER.value and entities.jobs:
            query_type = QueryType.STATUS.value
    elif (
        AND_ALSO.search(text)
        and query_type in VAGUE
        and confidence <= NO_SIGNAL  # "and GL_TRIAL_BALANCE?" says nothing of its own; "e o status do X?" does
        and (previous.get("query_type") or "") not in NOT_REPEATED | VAGUE | {""}
    ):
        query_type = str(previous["query_type"])  # the same question of another subject
    return query_type, entities
