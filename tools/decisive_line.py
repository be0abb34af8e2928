"""Which line of a job log explains the failure — the reading a senior operator does before naming a
cause: skip what is never the failure (the stdlist's frame, the jobmanrc banner, chatter, stack
frames, quoted logs, configuration echoes, retries in progress, clean-up), read every other line
against the message catalogue (``messages.yaml``), set aside errors a success recovered and what a
script printed after its first failing program, and take the most specific message of the last error
block, as first stated. ``tools.diagnosis`` turns the line into a diagnosis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from .causes import Category

RerunHelps = Literal["yes", "no", "unknown"]
BLOCK_WINDOW = 8  # lines before the last error that still belong to its block


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


# what is never the failure
FRAME = re.compile(
    r"^(=+$|= |\s*(Tivoli|IBM|HCL) Workload (Scheduler|Automation)|\s*TWS for \w+/JOBMANRC|\s*Installed for user"
    r"|\s*Locale LANG set|\s*Now we are running|\s*Licensed Materials|\s*\(C\) Copyright|\s*\*+ Trademark"
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
    r"^\s*(rm|rmdir|unlink|del):|cannot remove|não foi possível remover|\bskipping\b|\bignorando\b|\bcleanup\b",
    re.IGNORECASE,
)
CONFIG_ECHO = re.compile(r"(?<![A-Z0-9_])[a-z][a-z0-9_.]*=\S+")  # key=value settings (lower-case keys)
RECOVERED = re.compile(  # not "sem sucesso", "0 succeeded", "not recovered"
    r"(?<!\bsem )(?<!\bwithout )(?<!\bno )(?<!\bnot )(?<!\b0 )"
    r"\b(succeeded|recovered|retry ok|ok after retry|retry successful|successful after|sucesso)\b",
    re.IGNORECASE,
)


PY_FRAME = re.compile(r'^\s+File ".*", line \d+')
QUOTED = re.compile(r"^\s*[|>] ")  # another log's lines quoted in this one
STACK_FRAME = re.compile(r'^\s+(at [\w.$<>`\[\]]+[.(]|File ".*", line \d+|\.\.\. \d+ (more|common frames omitted))')


def is_noise(line: str) -> bool:
    return _is_other_noise(line) or _is_config_echo(line)


def _is_other_noise(line: str) -> bool:
    """The frame, stack frames, quoted lines, retries in progress, clean-up and chatter."""
    if FRAME.match(line) or STACK_FRAME.match(line) or QUOTED.match(line) or TRANSIENT.search(line):
        return True
    if CLEANUP.search(line):
        return True
    return bool(CHATTER.match(line) and not ERROR_WORD.search(line.split(" - ", 1)[0]))


def _in_a_value(line: str, message: Message) -> bool:
    """The message is written inside a setting's value (``retry_codes=ORA-00060``): an echo of it."""
    found = message.pattern.search(line)
    values = [m.span() for m in CONFIG_ECHO.finditer(line)]
    return found is not None and any(start <= found.start() < end for start, end in values)


def _is_config_echo(line: str) -> bool:
    """``retries=3 timeout=30s``: settings, not an error — unless an error word says otherwise."""
    return len(CONFIG_ECHO.findall(line)) >= 2 and not ERROR_WORD.search(line)


WINDOWS_CALL = re.compile(r"^[A-Za-z]:\\.*>\s*(call\s+)?\S+\.(cmd|bat|exe)\b", re.IGNORECASE)


SHELL_PREFIX = re.compile(r"^\s*\S+: (line|linha) \d+: ")  # bash's "<script>: line N: " before its message
SCRIPT = re.compile(r"Now we are running the script (\S+)|^= JCLFILE\s*:\s*(\S+)|<jsdle:script>\s*(\S+)")


def _script_of(lines: list[str]) -> str | None:
    """The job's own script as the stdlist names it (the jobmanrc line, the header, the JSDL task)."""
    for line in lines:
        found = SCRIPT.search(line)
        if found:
            path = next(group for group in found.groups() if group)
            return path.strip("\"'") if len(path) > 3 else None
    return None


def _in_context(lines: list[str], index: int, message: Message, script: str | None) -> Message:
    """A path not found that is the job's own script (or right after the job's own command was
    called): the job's definition points at nothing — it never ran — not a missing input."""
    previous = next((line for line in reversed(lines[:index]) if line.strip()), "")
    launched = message.id == "os-path-missing" and WINDOWS_CALL.match(previous.strip())
    said = SHELL_PREFIX.sub("", lines[index], count=1)  # "run.sh: line 14: /data/in/x.csv: No such file…"
    if launched or (message.category == "missing_input" and script and script in said):
        return next(m for m in catalogue() if m.id == "tws-script-missing")
    return message


def _best(line: str) -> Message | None:
    found = [m for m in catalogue() if m.pattern.search(line)]
    return max(found, key=lambda m: m.specificity) if found else None


def decisive(lines: list[str]) -> tuple[int, Message] | None:
    """(index, message) of the line that explains the failure, or None when no line does."""
    candidates: list[tuple[int, Message]] = []
    script = _script_of(lines)
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        # key=value pairs also fill real errors (``Permission denied: user=etl, access=WRITE``,
        # ``host='gw', port=443``): only a generic word in them is a configuration echo
        if index and line[:1].isspace() and PY_FRAME.match(lines[index - 1]):
            continue  # the source line a Python traceback quotes is code, not the error
        if _is_other_noise(line):
            continue
        echo = _is_config_echo(line)
        message = _best(line)
        if message is not None and (not echo or (message.specificity >= 2 and not _in_a_value(line, message))):
            candidates.append((index, _in_context(lines, index, message, script)))
    if not candidates:
        return None
    candidates = _unrecovered(lines, candidates)
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


RECOVERY_WINDOW = 6  # lines: "DEADLOCK … RETRYING" then "RETRY SUCCESSFUL"


def _unrecovered(lines: list[str], candidates: list[tuple[int, Message]]) -> list[tuple[int, Message]]:
    """Errors a success recovered are not the cause: one a success follows closely (wherever it is
    printed — a z/OS program's SYSOUT comes after JES's own messages), and any before the last
    success when errors follow it."""
    successes = [i for i, line in enumerate(lines) if RECOVERED.search(line)]
    recovered: set[int] = set()
    for success in successes:  # the error just before it (with its continuation lines)
        before = [c[0] for c in candidates if c[0] < success]
        if before and success - before[-1] <= RECOVERY_WINDOW:
            run = [before[-1]]
            for index in reversed(before[:-1]):
                if run[-1] - index > 2:
                    break
                run.append(index)
            recovered.update(run)
    standing = [c for c in candidates if c[0] not in recovered] or candidates
    last_success = max(successes, default=-1)
    return [c for c in standing if c[0] > last_success] or standing


# a script reporting that its program ended badly: what it prints after that is its tear-down
EXIT_REPORT = re.compile(
    r"\b(exited( with)?|exit (code|status)|rc|return code|returned (exit )?code|retornou|código de retorno)"
    r"\s*[=:]?\s*(code\s*)?-?[1-9]\d*\b(?!\s*(rows|records|registros|linhas|lines))",
    re.IGNORECASE,
)


def _before_exit(lines: list[str], candidates: list[tuple[int, Message]]) -> list[tuple[int, Message]]:
    """The first program that failed decides: what the script printed after reporting that
    program's failing exit (a ``find`` in the clean-up, the next step that missed its output) follows
    from it."""
    specific = [c for c in candidates if c[1].specificity >= 2]  # a generic word alone names no failed program
    if not specific:
        return candidates
    first = specific[0][0]
    report = next(
        (i for i in range(first + 1, len(lines)) if EXIT_REPORT.search(lines[i]) and not is_noise(lines[i])), None
    )
    return candidates if report is None else [c for c in candidates if c[0] <= report]
