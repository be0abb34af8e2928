"""Reads a job log like a senior operator: the decisive line, the real cause, the right next step.

One function (``diagnose``) used everywhere — the watcher, chat answers, ``/investigate``, the
diagnose route and CLI, the evaluation — so they agree on the same text. It skips what is not the
failure (the stdlist's header and trailer, the jobmanrc banner, INFO/WARN chatter, configuration
echoes, errors a retry recovered, cleanup after the real error), reads every remaining line against
the message catalogue (``messages.yaml``: vendors' codes first, then distinctive phrases, then generic
words; English and Portuguese), and takes the decisive line from the end of the output: the last
error, or the most specific one in the last error block. With no message it reads the engine's own
status (FAIL: it never started) and the return code of the program family that printed the log
(robocopy's 8 is not curl's 28, which is not a shell's 126/127/137/139) — never a code alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from .causes import NEXT, Category
from .diagnosis_words import vote

RerunHelps = Literal["yes", "no", "unknown"]
BLOCK_WINDOW = 8  # lines before the last error that still belong to its block
CONFIDENCE = {3: 0.9, 2: 0.75, 1: 0.55}


@dataclass(frozen=True)
class Message:
    id: str
    pattern: re.Pattern[str]
    category: Category
    specificity: int
    rerun: RerunHelps
    meaning_en: str
    meaning_pt: str
    next_en: str | None
    next_pt: str | None


@cache
def catalogue() -> list[Message]:
    """The message catalogue, read once."""
    raw: list[dict[str, Any]] = yaml.safe_load(resources.files("tools").joinpath("messages.yaml").read_text())
    return [
        Message(
            id=e["id"],
            pattern=re.compile(e["pattern"], re.IGNORECASE | re.MULTILINE),
            category=e["category"],
            specificity=int(e["specificity"]),
            rerun={True: "yes", False: "no"}.get(e["rerun"], str(e["rerun"])),  # type: ignore[arg-type]
            meaning_en=e["en"],
            meaning_pt=e["pt"],
            next_en=e.get("next_en"),
            next_pt=e.get("next_pt"),
        )
        for e in raw
    ]


@dataclass(frozen=True)
class Diagnosis:
    category: Category
    line: str | None  # the decisive line as the log prints it
    line_number: int | None  # its number in the log (1-based, header included)
    meaning_en: str
    meaning_pt: str
    rerun_helps: RerunHelps
    next_en: str
    next_pt: str
    confidence: float
    message_id: str | None = None

    @classmethod
    def at(
        cls,
        lines: list[str],
        index: int,
        category: Category,
        meaning: tuple[str, str],
        rerun_helps: RerunHelps,
        confidence: float,
        message_id: str,
        next_step: tuple[str | None, str | None] = (None, None),
    ) -> Diagnosis:
        """A reading decided by ``lines[index]``: the line as printed, its 1-based number, and the
        category's next step unless the reading has its own (en, pt)."""
        en, pt, _ = NEXT[category]
        return cls(
            category=category,
            line=lines[index].strip()[:500],
            line_number=index + 1,
            meaning_en=meaning[0],
            meaning_pt=meaning[1],
            rerun_helps=rerun_helps,
            next_en=next_step[0] or en,
            next_pt=next_step[1] or pt,
            confidence=confidence,
            message_id=message_id,
        )

    def meaning(self, language: str) -> str:
        return self.meaning_pt if language == "pt" else self.meaning_en

    def next_step(self, language: str) -> str:
        return self.next_pt if language == "pt" else self.next_en

    def as_json(self, language: str = "en") -> dict[str, Any]:
        """The public shape (``resync diagnose``, ``POST /api/v2/diagnose``)."""
        return {
            "category": self.category,
            "line": self.line,
            "line_number": self.line_number,
            "meaning": self.meaning(language),
            "rerun_helps": self.rerun_helps,
            "next_step": self.next_step(language),
            "confidence": self.confidence,
        }


# what is never the failure
FRAME = re.compile(
    r"^(=+$|= |\s*Tivoli Workload Scheduler|\s*Installed for user|\s*Locale LANG set|\s*Now we are running"
    r"|\$HASP\d+|IEF403I|\+\+\+ R3BATCH: (connecting|job \S+ (submitted|running)))"
)
CHATTER = re.compile(r"^.{0,45}\b(INFO|DEBUG|TRACE|NOTICE|WARN|WARNING|AVISO)\b", re.IGNORECASE)
ERROR_WORD = re.compile(r"\b(ERROR|ERRO|FATAL|SEVERE|CRITICAL|FAILED|FALHA)\b")
TRANSIENT = re.compile(
    r"\bretry(ing)?\b|\battempt \d+\s*/\s*\d+|\btentativa \d+|\bwill retry\b|tentando novamente|retrying in"
    r"|\breconnecting\b|\breconectando\b",
    re.IGNORECASE,
)
CLEANUP = re.compile(
    r"^\s*(rm|rmdir|unlink|del|mv):|cannot remove|não foi possível remover|\bskipping\b|\bignorando\b|\bcleanup\b",
    re.IGNORECASE,
)
CONFIG_ECHO = re.compile(r"(?<![A-Z0-9_])[a-z][a-z0-9_.]*=\S+")  # key=value settings (lower-case keys)
RECOVERED = re.compile(r"\b(succeeded|recovered|retry ok|ok after retry|sucesso)\b", re.IGNORECASE)


PY_FRAME = re.compile(r'^\s+File ".*", line \d+')
STACK_FRAME = re.compile(r'^\s+(at [\w.$<>`\[\]]+[.(]|File ".*", line \d+|\.\.\. \d+ (more|common frames omitted))')


def _is_noise(line: str) -> bool:
    if FRAME.match(line) or STACK_FRAME.match(line) or TRANSIENT.search(line) or CLEANUP.search(line):
        return True
    if CHATTER.match(line) and not ERROR_WORD.search(line.split(" - ", 1)[0]):
        return True
    return _is_config_echo(line)


def _is_config_echo(line: str) -> bool:
    """``retries=3 timeout=30s``: settings, not an error — unless an error word says otherwise."""
    return len(CONFIG_ECHO.findall(line)) >= 2 and not ERROR_WORD.search(line)


WINDOWS_CALL = re.compile(r"^[A-Za-z]:\\.*>\s*(call\s+)?\S+\.(cmd|bat|exe)\b", re.IGNORECASE)


def _in_context(lines: list[str], index: int, message: Message) -> Message:
    """A path not found right after the job's own command was called: the job's definition points
    at a script that is not there (it never ran), not a missing input."""
    previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
    if message.id == "os-path-missing" and WINDOWS_CALL.match(previous.strip()):
        return next(m for m in catalogue() if m.id == "tws-script-missing")
    return message


def _best(line: str) -> Message | None:
    found = [m for m in catalogue() if m.pattern.search(line)]
    return max(found, key=lambda m: m.specificity) if found else None


def decisive(lines: list[str]) -> tuple[int, Message] | None:
    """(index, message) of the line that explains the failure, or None when no line does."""
    candidates: list[tuple[int, Message]] = []
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        # key=value pairs also fill real errors (``Permission denied: user=etl, access=WRITE``,
        # ``host='gw', port=443``): only a generic word in them is a configuration echo
        if index and line[:1].isspace() and PY_FRAME.match(lines[index - 1]):
            continue  # the source line a Python traceback quotes is code, not the error
        echo = _is_config_echo(line)
        if _is_noise(line) and not echo:
            continue
        message = _best(line)
        if message is not None and (not echo or message.specificity >= 2):
            candidates.append((index, _in_context(lines, index, message)))
    if not candidates:
        return None
    last_success = max((i for i, line in enumerate(lines) if RECOVERED.search(line)), default=-1)
    after = [c for c in candidates if c[0] > last_success]
    candidates = after or candidates  # errors a later success recovered are not the cause
    candidates = _before_exit(lines, candidates)
    last = candidates[-1][0]
    block = [c for c in candidates if c[0] >= last - BLOCK_WINDOW]
    # the most specific message of the last error block; between equals, the one that says it is an
    # error (``ERROR: file not found: …`` over a closing ``Aborting…``), then the later one
    chosen = max(block, key=lambda c: (c[1].specificity, bool(ERROR_WORD.search(lines[c[0]])), c[0]))
    index, message = _first_statement(lines, candidates, chosen)
    if MESSAGE_HEADER.match(lines[index]) and index + 1 < len(lines) and lines[index + 1].strip():
        index += 1  # SQL Server's "Msg 2627, Level 14, …" is the header; its text is the next line
    return index, message


MESSAGE_HEADER = re.compile(r"^\s*Msg \d+, (Level|Nível) \d+")


RESTATED_WITHIN = 40  # lines: a "Caused by:" after a stack trace, a JES summary after the step's messages


def _first_statement(
    lines: list[str], candidates: list[tuple[int, Message]], chosen: tuple[int, Message]
) -> tuple[int, Message]:
    """The first line that says it: the same message printed again just before (IEC030I before
    JES's ``ABEND=SB37``, the text before ``Msg 9002``), with nothing else between — except a
    Java ``Caused by:``, which is the deeper cause of what came before."""
    position = candidates.index(chosen)
    while position > 0 and not lines[candidates[position][0]].lstrip().startswith("Caused by:"):
        earlier = candidates[position - 1]
        if earlier[1].id != chosen[1].id or candidates[position][0] - earlier[0] > RESTATED_WITHIN:
            break
        position -= 1
    return candidates[position]


# a script reporting that its program ended badly: what it prints after that is its tear-down
EXIT_REPORT = re.compile(
    r"\b(exited( with)?|exit (code|status)|rc|return(ed)?( code)?|retornou|código de retorno)"
    r"\s*[=:]?\s*(code\s*)?-?[1-9]\d*\b",
    re.IGNORECASE,
)


def _before_exit(lines: list[str], candidates: list[tuple[int, Message]]) -> list[tuple[int, Message]]:
    """Errors printed after the script reported its program's failing exit (a ``find`` or ``rm`` in
    the clean-up) are not the cause when an error came before that report."""
    first = candidates[0][0]
    reports = [i for i in range(first + 1, len(lines)) if EXIT_REPORT.search(lines[i]) and not _is_noise(lines[i])]
    if not reports:
        return candidates
    return [c for c in candidates if c[0] <= reports[-1]]


def _family(text: str) -> str:
    lowered = text.lower()
    for family, sign in (("robocopy", "robocopy"), ("curl", "curl"), ("rsync", "rsync"), ("sqlplus", "sql*plus")):
        if sign in lowered:
            return family
    return "shell"


RETURN_CODES: dict[str, dict[int, tuple[Category, str, str]]] = {
    "shell": {
        126: ("permission", "exit 126: the command was found but could not be executed", "saída 126: sem permissão"),
        127: ("agent", "exit 127: a command was not found on the agent", "saída 127: comando não encontrado"),
        137: ("resource", "exit 137: killed (SIGKILL), usually for memory", "saída 137: morto (SIGKILL)"),
        139: ("unknown", "exit 139: the program crashed (SIGSEGV)", "saída 139: o programa caiu (SIGSEGV)"),
        124: ("timeout", "exit 124: stopped by a time limit", "saída 124: parado por limite de tempo"),
    },
    "curl": {
        28: ("timeout", "curl exit 28: the transfer timed out", "curl saída 28: a transferência esgotou o tempo"),
        7: ("timeout", "curl exit 7: could not connect", "curl saída 7: não conectou"),
        6: ("timeout", "curl exit 6: could not resolve the host", "curl saída 6: host não resolvido"),
    },
}


def diagnose(log: str | None, status: str | None = None, return_code: int | None = None) -> Diagnosis:
    """The cause of a failed run from its job log, status and return code (``unknown`` when nothing
    points anywhere, with low confidence)."""
    text = log or ""
    lines = text.split("\n")
    found = decisive(lines)
    if found is not None:
        index, message = found
        if status == "FAIL" and message.category not in LAUNCH_CATEGORIES:
            return _launch_failure(lines, index, message)
        return Diagnosis.at(
            lines,
            index,
            message.category,
            (message.meaning_en, message.meaning_pt),
            message.rerun,
            CONFIDENCE[message.specificity],
            message.id,
            (message.next_en, message.next_pt),
        )
    if status == "FAIL":
        return _fallback("agent", "status FAIL: the job never started", "status FAIL: o job nunca iniciou", 0.6)
    known = RETURN_CODES.get(_family(text), {}).get(return_code) if return_code is not None else None
    if known is not None:
        category, en, pt = known
        return _fallback(category, en, pt, 0.4)
    worded = vote([line if line.strip() and not _is_noise(line) else "" for line in lines])
    if worded is not None:
        category, index = worded
        meaning = (
            "no known message; the words of the error lines point here",
            "nenhuma mensagem conhecida; as palavras das linhas de erro apontam para cá",
        )
        return Diagnosis.at(lines, index, category, meaning, "unknown", 0.3, "words")
    return _fallback(
        "unknown", "nothing in the log or the status points to a cause", "nada no log ou no status indica a causa", 0.1
    )


# what can stop a launch as itself; anything else the engine's FAIL says happened while launching
LAUNCH_CATEGORIES = ("agent", "resource")
LAUNCH_PERMISSION_NEXT = (
    "the agent could not start the job as its user: check that the user exists, is not expired or locked, may "
    "log on to the agent and can execute the script, then rerun.",
    "o agente não conseguiu iniciar o job com o usuário dele: verifique se o usuário existe, não está expirado "
    "nem bloqueado, pode logar no agente e executar o script, e depois reexecute.",
)


def _launch_failure(lines: list[str], index: int, message: Message) -> Diagnosis:
    """The engine says FAIL: the job never started, so a file not found is its script, a refused
    connection is the agent's and a denied access is its user's — a launch failure (agent), read
    with the message's own meaning."""
    meaning = (
        f"the job never started (FAIL): {message.meaning_en}",
        f"o job nunca iniciou (FAIL): {message.meaning_pt}",
    )
    next_step = LAUNCH_PERMISSION_NEXT if message.category == "permission" else (None, None)
    confidence = CONFIDENCE[message.specificity]
    return Diagnosis.at(lines, index, "agent", meaning, message.rerun, confidence, message.id, next_step)


def _fallback(category: Category, meaning_en: str, meaning_pt: str, confidence: float) -> Diagnosis:
    en, pt, _ = NEXT[category]
    return Diagnosis(category, None, None, meaning_en, meaning_pt, "unknown", en, pt, confidence)
