"""Reads a job log like a senior operator: the decisive line, the real cause, the right next step.

One function (``diagnose``) used everywhere — the watcher, chat answers, ``/investigate``, the
diagnose route and CLI, the evaluation — so they agree on the same text. The line that explains the
failure is ``decisive_line``'s to find; its message gives the category, meaning, rerun-helps and next
step, read with the engine's status (FAIL: it never started, whatever the message). With no message
it reads the return code of the program family that printed the log (robocopy's 8 is not curl's 28,
which is not a shell's 126/127/137/139) — never a code alone — and then the words of the error lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .causes import NEXT, Category
from .decisive_line import Message, RerunHelps, decisive, is_noise
from .diagnosis_words import vote

CONFIDENCE = {3: 0.9, 2: 0.75, 1: 0.55}


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
    worded = vote([line if line.strip() and not is_noise(line) else "" for line in lines])
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
