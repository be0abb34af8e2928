"""The operators' vocabulary the rules read, in Portuguese and English: actions, statuses, message ids,
return codes and time windows. Each question kind's own signals are in its capability module
(``graph.capabilities``); the words that tell the two languages apart are ``markers.py``'s."""

from __future__ import annotations

import re

from ..taxonomy import Action

ACTIONS: list[tuple[Action, str]] = [
    ("rerun", r"\b(rerun|re-run|restart|reexecut\w*|reroda\w*|roda de novo|rode de novo|reinicia\w*)\b"),
    ("kill", r"\b(kill|killed|mata|mate|matar)\b"),
    ("cancel", r"\b(cancel|cancela|cancele|cancelar)\b"),
    ("confirm", r"\b(confirm\w*|mark .* (successful|succ|as))\b"),
    ("hold", r"\b(hold|segura|segure|segurar|suspend\w*|coloque em espera|coloca em espera|em espera)\b"),
    ("release", r"\b(release|libera\w*|libere)\b"),
]
STATUS_WORDS = {
    "ABEND": r"\b(abend\w*)\b",
    "FAIL": r"\b(fail)\b(?!ed|ures?|ing)",
    "SUCC": r"\b(succ|successful)\b",
    "EXEC": r"\b(running|rodando|em execucao|exec)\b",
    "HOLD": r"\bhold\b",
    "READY": r"\bready\b",
    "WAIT": r"\bwait\b",
    "CANCL": r"\bcancl\b",
    "PEND": r"\bpend\b",
}
# message ids and codes as they appear in job logs: TWS/HWA (AWSBHT023E, AWKxxx), z/OS TWS (EQQ…),
# Oracle (ORA-00060), DB2 (SQL0911N), z/OS system messages (IEC141I) and SQLSTATE codes (40P01)
MESSAGE_ID = re.compile(
    r"\b(AW[SK][A-Z]{3}\d{3,4}[EWI]|EQQ[A-Z0-9]{3,6}[EWI]|ORA-\d{5}|SQL\d{4,5}[NWC]|IE[A-Z]\d{3,4}[AEIW])\b"
    r"|\bSQLSTATE[\s:=]*([0-9A-Z]{5})\b"
    r"|\b(?-i:(\d{2}[A-Z]\d{2}))\b",  # a class-and-letter SQLSTATE said alone (40P01), upper case only
    re.IGNORECASE,
)
RETURN_CODE = re.compile(
    r"\b(?:rc|return code|exit code|exit status|codigo de retorno|cod\. retorno|retorno)\s*[=:]?\s*(\d{1,3})\b"
)
HOURS = re.compile(r"\b(?:last|ultim[oa]s?|past|nas? ultim[oa]s?)\s+(\d{1,3})\s*(h|hours?|horas?|d|days?|dias?)\b")
SHORT_HOURS = re.compile(r"\b(\d{1,3})\s*h\b")
WORKSTATION = re.compile(r"\b(AGT\d+|MASTER|FTA_[A-Z0-9_]+|[A-Z]{2,}\d+_?[A-Z0-9]*)\b")
NAME_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
