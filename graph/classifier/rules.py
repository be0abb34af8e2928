"""Rule-based classification and entity extraction (the offline default, and always the first pass).

Vocabulary is operators' own, in Portuguese and English; names are checked against the names the
knowledge graph knows (exact, then case-insensitive, then fuzzy) so "payroll nightly" finds
``PAYROLL_NIGHTLY``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from tools.days import Day
from tools.language import detect_language, fold

from ..taxonomy import Classification, Entities, Language, QueryType
from .markers import EN_MARKERS, PT_MARKERS
from .vocabulary import (
    ACTIONS,
    HOURS,
    MESSAGE_ID,
    NAME_TOKEN,
    RETURN_CODE,
    SHORT_HOURS,
    STATUS_WORDS,
)


@dataclass
class KnownNames:
    jobs: list[str] = field(default_factory=list)
    job_streams: list[str] = field(default_factory=list)
    workstations: list[str] = field(default_factory=list)


def language_of(text: str, tie: Language = "en") -> Language:
    """pt or en from the words (job, stream and workstation names left out: their parts are not words);
    words that say neither give ``tie`` (a follow-up keeps the conversation's language)."""
    return detect_language(NAME_TOKEN.sub(" ", text), PT_MARKERS, EN_MARKERS, tie)


FAILURE_TALK = re.compile(  # talk of a failure (a named job's, when one is named)
    r"\b(abend\w*|fail(ed|ing|s)?|falh\w*|caiu|cairam|quebr\w*|deu (pau|erro|problema)|crash\w*|broke\w*|"
    r"blew up|blown up|bombed|died|explodiu|morreu|capotou|"
    r"erro|error|o que (houve|rolou)|what happened|what'?s wrong|qual (e |foi )?o problema)\b"
)
VAGUE = {QueryType.OTHER, QueryType.STATUS, QueryType.HEALTH}  # kinds that say nothing about a day


def classify_text(text: str, entities: Entities) -> tuple[QueryType, float]:
    folded = fold(text)
    scores: dict[QueryType, float] = {}
    from ..capabilities import REGISTRY  # its modules compose answers, which read this module's language_of

    found = entities.model_dump()
    for capability in REGISTRY.values():  # every kind is a capability module with its signals
        if (score := capability.score(folded, found)) > 0:
            scores[capability.kind] = score
    if entities.action and (entities.jobs or re.search(r"\b(it|ele|isso)\b", folded)) and QueryType.HOWTO not in scores:
        scores[QueryType.ACTION] = scores.get(QueryType.ACTION, 0.0) + 2.0
    if entities.return_codes and not entities.jobs and QueryType.HOWTO in scores:
        scores[QueryType.HOWTO] += 1.0
    if entities.message_ids and entities.jobs:  # an error on a named job is troubleshooting
        scores[QueryType.TROUBLESHOOT] = scores.get(QueryType.TROUBLESHOOT, 0.0) + 1.0
    if entities.jobs and FAILURE_TALK.search(folded):  # "X abended again, what happened?": that job's failure
        scores[QueryType.TROUBLESHOOT] = scores.get(QueryType.TROUBLESHOOT, 0.0) + 2.5
    if entities.jobs and entities.day and QueryType.OUTCOME in scores:  # a day's run of a job is the engine's fact
        scores[QueryType.STATUS] = scores.get(QueryType.STATUS, 0.0) + scores.pop(QueryType.OUTCOME)
    if not scores:
        if entities.jobs or entities.job_streams:
            return QueryType.STATUS, 0.4
        if entities.day:  # "e essa noite?", "how did yesterday go": that production day's digest
            return QueryType.DIGEST, 0.5
        return QueryType.OTHER, 0.3
    best = max(scores, key=lambda q: scores[q])
    if entities.day and best in VAGUE and not (entities.jobs or entities.job_streams or entities.workstations):
        return QueryType.DIGEST, 0.5
    total = sum(scores.values())
    return best, round(scores[best] / total, 2)


def _match(candidate: str, known: Iterable[str], cutoff: float = 0.84) -> str | None:
    names = list(known)
    if candidate in names:
        return candidate
    upper = {n.upper(): n for n in names}
    if candidate.upper() in upper:
        return upper[candidate.upper()]
    close = difflib.get_close_matches(candidate.upper(), list(upper), n=1, cutoff=cutoff)
    return upper[close[0]] if close else None


def _phrases(text: str) -> list[str]:
    """Candidate names written with spaces ("payroll nightly" → PAYROLL_NIGHTLY), 2 and 3 words."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", text)
    return ["_".join(words[i : i + n]) for n in (3, 2) for i in range(len(words) - n + 1)]


RUN_ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
STREAM_WORD = re.compile(
    r"\b(?:the\s+)?([a-z]{3,})\s+(?:job\s*)?stream\b|\b(?:stream|fluxo|cadeia)\s+(?:d[aoe]\s+)?([a-z]{3,})\b"
)
STREAM_ALIASES = {"folha": "payroll", "faturamento": "billing", "backups": "backup"}


def extract_entities(text: str, known: KnownNames) -> Entities:
    folded = fold(text)
    entities = Entities()
    jobs, streams = _names(text, folded, known, entities)
    entities.jobs = list(dict.fromkeys(jobs))
    entities.job_streams = list(dict.fromkeys(streams))
    workstations = [w.upper() for w in re.findall(r"\b(agt\d+|master|fta_\w+)\b", folded)]
    known_ws = {w.upper() for w in known.workstations}
    entities.workstations = list(
        dict.fromkeys(w for w in workstations if not known_ws or w in known_ws or w.startswith("AGT"))
    )
    entities.statuses = list(
        dict.fromkeys([*entities.statuses, *(s for s, pattern in STATUS_WORDS.items() if re.search(pattern, folded))])
    )
    entities.return_codes = [int(code) for code in RETURN_CODE.findall(folded)]
    entities.message_ids = list(
        dict.fromkeys(next(g for g in m.groups() if g).upper() for m in MESSAGE_ID.finditer(text))
    )
    entities.time_window_hours = time_window(folded)
    entities.run_ids = RUN_ID.findall(text.lower())
    entities.day = production_day(folded)
    entities.days_ago = {"yesterday": 1, "day_before": 2}.get(entities.day or "")
    _action(folded, entities)
    return entities


def _names(text: str, folded: str, known: KnownNames, entities: Entities) -> tuple[list[str], list[str]]:
    """The jobs and streams the text names: as written (a fuzzy match is recorded as inferred), else
    as words ("payroll nightly"), else a stream by its word ("the billing stream"). A substatus
    written like a name (READY_WAITING_FOR_AGENT) is a status."""
    jobs: list[str] = []
    streams: list[str] = []
    for token in NAME_TOKEN.findall(text):
        status_word = token.split("_")[0].upper()
        if status_word in STATUS_WORDS:  # a substatus such as READY_WAITING_FOR_AGENT
            entities.statuses.append(status_word)
            continue
        stream = _match(token, known.job_streams, cutoff=0.95)
        job = _match(token, known.jobs)
        if stream and (not job or stream.upper() == token.upper()):
            streams.append(stream)
        elif job:
            jobs.append(job)
            if job.upper() != token.upper():  # a fuzzy match: said, never used silently
                entities.inferred[token] = job
        elif token.isupper() and token.upper() not in {w.upper() for w in known.workstations}:
            jobs.append(token.upper())  # an unknown but job-looking name: keep it, the tools will say
    if not jobs and not streams:
        for phrase in _phrases(text):
            stream = _match(phrase, known.job_streams, cutoff=0.9)
            job = _match(phrase, known.jobs, cutoff=0.86)
            if stream and stream.upper() == phrase.upper():
                streams.append(stream)
                break
            if job:
                jobs.append(job)
                break
    if not streams and (word := STREAM_WORD.search(folded)):  # "the billing stream", "o fluxo da folha"
        name = next((w for w in word.groups() if w), "")
        found = [s for s in known.job_streams if s.upper().startswith(STREAM_ALIASES.get(name, name).upper() + "_")]
        if len(found) == 1:
            streams.append(found[0])
            entities.inferred[word.group(0)] = found[0]
    return jobs, streams


def _action(folded: str, entities: Entities) -> None:
    """The action the text asks for; "jobs in HOLD" names a state, "hold X" the action."""
    for action, pattern in ACTIONS:
        if re.search(pattern, folded):
            entities.action = action
            break
    as_state = re.search(r"\b(in|em|no|status|state|estado)\s+(hold)\b|\bhold status\b", folded)
    if entities.action == "hold" and as_state and not re.search(r"\b(put|coloca|coloque)\b", folded):
        entities.action = None  # "jobs in HOLD" asks about a state, not for the action
    elif entities.action == "hold" and "HOLD" in entities.statuses and not as_state:
        entities.statuses.remove("HOLD")  # "hold X" is the action, not a state


DAY_WORDS: list[tuple[Day, str]] = [  # the first that matches names the production day
    (
        "day_before",
        r"\b(anteontem|antes de ontem|day before yesterday|the day before|dia anterior|two days ago|2 days ago|"
        r"dois dias atras|2 dias atras|ha dois dias|ha 2 dias)\b",
    ),
    ("yesterday", r"\b(yesterday'?s?|ontem|yday|ystd)\b"),
    (
        "last_night",
        r"\b(tonight|last night|overnight|over night|(?:ess|est|nest|dest)a (?:noite|madrugada)|madrugada|"
        r"noite passada|during the night|de noite|a noite|night shift|batch noturno|noturno)\b",
    ),
    ("today", r"\b(today'?s?|hoje|so far|ate agora|this morning|de manha|nesta manha)\b"),
]


SINCE_A_DAY = re.compile(r"\b(desde|since|from) (ontem|anteontem|yesterday|the day before)\b")


def production_day(folded: str) -> Day | None:
    """The production day a question names ("ontem", "tonight", "hoje"), or None. "Stuck since
    yesterday" names how long, not which day's instance."""
    folded = SINCE_A_DAY.sub(" ", folded)
    return next((day for day, pattern in DAY_WORDS if re.search(pattern, folded)), None)


def time_window(folded: str) -> int | None:
    match = HOURS.search(folded)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return amount * 24 if unit.startswith("d") else amount
    if re.search(r"\b(yesterday|ontem|last night|today|hoje|tonight|24h|last day)\b", folded):
        return 24  # the classify contract's window; the production day itself is ``Entities.day``
    match = SHORT_HOURS.search(folded)
    return int(match.group(1)) if match else None


def classify(text: str, known: KnownNames) -> Classification:
    entities = extract_entities(text, known)
    query_type, confidence = classify_text(text, entities)
    return Classification(query_type=query_type, language=language_of(text), confidence=confidence, entities=entities)
