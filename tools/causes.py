"""The cause categories of failed runs and the next step for each — consistent with the runbooks'
return-code table (``knowledge/return-codes-abend-fail.md``). Which category a run falls in is the
diagnosis's to say (``tools.diagnosis``: the one reading of a job log, used everywhere)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Category = Literal["missing_input", "database", "resource", "permission", "timeout", "dependency", "agent", "unknown"]


@dataclass(frozen=True)
class Cause:
    category: Category
    evidence: str  # what gave it away
    next_en: str
    next_pt: str
    keywords: tuple[str, ...]  # words of the runbook passages about this cause

    def next_step(self, language: str) -> str:
        return self.next_pt if language == "pt" else self.next_en


NEXT: dict[Category, tuple[str, str, tuple[str, ...]]] = {
    "missing_input": (
        "the input is missing: check whether the upstream feed delivered the file (or restore it), then rerun; "
        "a rerun before that fails the same way.",
        "falta a entrada: verifique se o fornecedor entregou o arquivo (ou restaure-o) e depois reexecute; "
        "reexecutar antes disso falha do mesmo jeito.",
        ("file not found", "input", "arquivo"),
    ),
    "database": (
        "a database problem: check the database's state (locks, connections, the objects the job uses) before "
        "rerunning; a lock conflict clears once the competing job has finished.",
        "um problema de banco de dados: verifique o estado do banco (locks, conexões, os objetos que o job usa) "
        "antes de reexecutar; um conflito de lock passa quando o job concorrente termina.",
        ("deadlock", "database", "banco"),
    ),
    "resource": (
        "the job ran out of a resource (disk space, memory or a limit): free what ran out on the agent (space on "
        "its file systems, memory other work took) or raise the limit, then rerun.",
        "o job ficou sem um recurso (disco, memória ou um limite): libere o que faltou no agente (espaço nos file "
        "systems, memória usada por outros processos) ou aumente o limite, e reexecute.",
        ("space", "disk", "espaço", "memory"),
    ),
    "permission": (
        "permission denied: check the file permissions and the job's user (the script may not be executable), "
        "then rerun.",
        "permissão negada: verifique as permissões dos arquivos e o usuário do job (o script pode não ser "
        "executável) e depois reexecute.",
        ("permission", "permissão", "user"),
    ),
    "timeout": (
        "it timed out waiting for another service: check that service or database before rerunning.",
        "estourou o tempo esperando outro serviço: verifique esse serviço ou banco antes de reexecutar.",
        ("timeout", "tempo"),
    ),
    "dependency": (
        "it is waiting for, or was broken by, a predecessor: fix the predecessor first.",
        "está esperando, ou foi quebrado por, um predecessor: resolva o predecessor primeiro.",
        ("dependenc", "predecessor"),
    ),
    "agent": (
        "it never ran (FAIL): the agent or the job definition could not launch it — check that the workstation "
        "is linked and the script path exists, then rerun.",
        "nunca rodou (FAIL): o agente ou a definição do job não conseguiu iniciá-lo — verifique se a estação "
        "está conectada e se o caminho do script existe, e reexecute.",
        ("FAIL", "launch", "unlinked", "desconectad"),
    ),
    "unknown": (
        "read the error lines at the end of the log before deciding; rerun only once the cause is fixed.",
        "leia as linhas de erro no fim do log antes de decidir; reexecute só depois de corrigir a causa.",
        ("log",),
    ),
}


def cause_for(category: Category, evidence: str = "") -> Cause:
    """The cause of a category, with what gave it away and its next steps."""
    en, pt, keywords = NEXT[category]
    return Cause(category, evidence, en, pt, keywords)


ERROR_LINE = re.compile(
    r"error|fail|abend|exception|denied|refused|timeout|timed out|not found|no such|missing|abort|killed|"
    r"deadlock|ora-\d|sqlstate|sqlcode|exit status|return code|\brc\b|not valid|invalid|cannot|unable|"
    r"no space|segmentation fault|core dumped|\b[A-Z]{3,}\d{3,4}[EW]\b|erro|falh|negad",
    re.IGNORECASE,
)


def error_lines(text: str, limit: int = 8) -> list[dict[str, Any]]:
    """The log's last lines that look like errors, numbered as in the log (the evidence of a failure:
    the end of a log explains it, not an early "0 errors")."""
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        if ERROR_LINE.search(line) and not line.startswith("= "):
            found.append({"line": number, "text": line[:300]})
    return found[-limit:]
