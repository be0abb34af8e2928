"""The last resort before ``unknown``: when no catalogued message explains a failure, the words of
its error lines. Each category has a small vocabulary of the things such failures talk about (in
English and Portuguese); the error lines of the last error block vote, and a category wins only
with a clear lead. The answer says it was read from words, with a low confidence.
"""

from __future__ import annotations

import re

from .causes import Category

#: (category, vocabulary): words and short stems, matched case-insensitively at word starts
VOCABULARY: dict[Category, tuple[str, ...]] = {
    "database": (
        "sql",
        "database",
        "banco de dados",
        "table",
        "tabela",
        "constraint",
        "transaction",
        "transação",
        "rollback",
        "tablespace",
        "schema",
        "esquema",
        "query",
        "consulta",
        "jdbc",
        "odbc",
        "listener",
        "deadlock",
        "bloqueio",
        "duplicate key",
        "chave duplicada",
        "cursor",
        "stored procedure",
    ),
    "resource": (
        "memory",
        "memória",
        "heap",
        "disk",
        "disco",
        "space",
        "espaço",
        "quota",
        "cota",
        "ulimit",
        "open files",
        "arquivos abertos",
        "swap",
        "exhausted",
        "esgotad",
        "allocate",
        "alocar",
        "oom",
        "capacity",
        "capacidade",
        "full",
        "cheio",
        "cheia",
    ),
    "permission": (
        "permission",
        "permiss",
        "denied",
        "negad",
        "forbidden",
        "proibid",
        "unauthori",
        "não autoriz",
        "credential",
        "credencia",
        "password",
        "senha",
        "privilege",
        "privilég",
        "access",
        "acesso",
        "grant",
        "owner",
        "ownership",
        "token expired",
        "token expirado",
    ),
    "timeout": (
        "timeout",
        "timed out",
        "time-out",
        "tempo esgotado",
        "tempo limite",
        "exceeded",
        "excedid",
        "too long",
        "elapsed",
        "deadline",
        "prazo",
        "no response",
        "sem resposta",
        "did not respond",
        "não respondeu",
        "connection refused",
        "conexão recusada",
        "refused",
        "recusad",
        "unreachable",
        "inacessível",
        "não alcançável",
        "no route",
        "connection reset",
        "reset by peer",
        "gateway",
        "503",
        "504",
        "esgotou",
        "expirou o tempo",
        "aguardou",
        "waited",
        "wait time",
        "tempo de espera",
        "max wait",
        "read timeout",
    ),
    "dependency": (
        "upstream",
        "predecessor",
        "previous run",
        "execução anterior",
        "prerequisite",
        "pré-requisito",
        "waiting for",
        "aguardando",
        "not complete",
        "incomplete",
        "incompleto",
        "still running",
        "em andamento",
        "dependency",
        "dependência",
        "parent job",
        "not ready",
        "não está pronto",
        "lock file",
        "arquivo de lock",
        "another instance",
        "outra instância",
        "not finished",
        "não finalizad",
        "não concluíd",
        "não terminou",
        "pending",
        "pendente",
        "still open",
        "predecessora",
        "anterior",
        "upstream job",
        "job anterior",
        "carga anterior",
        "not yet",
        "yet to",
        "cycle",
        "ciclo",
        "fechamento",
    ),
    "missing_input": (
        "not found",
        "não encontrad",
        "missing",
        "ausente",
        "faltando",
        "empty",
        "vazio",
        "vazia",
        "no such file",
        "does not exist",
        "não existe",
        "inexistente",
        "arrive",
        "chegou",
        "record count",
        "contagem de registros",
        "header",
        "cabeçalho",
        "malformed",
        "invalid format",
        "formato inválido",
        "checksum",
        "truncated",
        "truncad",
        "not received",
        "não recebid",
        "not delivered",
        "não entregue",
        "não foi entregue",
        "expected file",
        "arquivo esperado",
        "zero records",
        "0 records",
        "nenhum registro",
        "sem dados",
        "no data",
        "no rows",
        "no records",
        "input file",
        "arquivo de entrada",
        "feed",
        "landing",
        "trigger",
        "not present",
        "sem arquivo",
        "no file",
        "nenhum arquivo",
    ),
    "agent": (
        "agent",
        "agente",
        "jobmanrc",
        "jobman",
        "launch",
        "workstation",
        "executable",
        "executável",
        "not recognized",
        "não reconhecido",
        "unknown user",
        "usuário desconhecido",
        "user not found",
    ),
}
FAILURE_LINE = re.compile(
    r"\b(error|erro|fatal|severe|critical|failed|failure|falh[aou]|exception|abort|aborted|abortad[oa]"
    r"|cannot|can't|could not|couldn't|unable|não foi possível|impossível|refused|recusad[oa]|invalid|inválid[oa])\b",
    re.IGNORECASE,
)
LEAD = 2  # a category must be ahead of the next one by this many votes (or be the only one voted for)


def _word(word: str) -> str:
    """Longer entries are stems (``permiss``: permission, permissão); a short word is whole
    (``full`` is not ``FullyQualifiedErrorId``)."""
    return re.escape(word) + (r"\b" if len(word) <= 4 and word.isalpha() else "")


def _patterns() -> dict[Category, re.Pattern[str]]:
    return {
        category: re.compile(r"\b(" + "|".join(_word(w) for w in words) + r")", re.IGNORECASE)
        for category, words in VOCABULARY.items()
    }


PATTERNS = _patterns()


def vote(lines: list[str]) -> tuple[Category, int] | None:
    """(category, line index) the words of the last error block point to with a clear lead, or None:
    the block is the eight lines up to the last that says it failed; a line that says so counts
    twice (the cause is often printed without an error word, just before)."""
    errors = [i for i, line in enumerate(lines) if FAILURE_LINE.search(line)]
    if not errors:
        return None
    last = errors[-1]
    votes: dict[Category, int] = {}
    where: dict[Category, int] = {}
    for index in range(max(0, last - 8), last + 1):
        weight = 2 if FAILURE_LINE.search(lines[index]) else 1
        for category, pattern in PATTERNS.items():
            hits = len(pattern.findall(lines[index]))
            if hits:
                votes[category] = votes.get(category, 0) + hits * weight
                where[category] = index
    if not votes:
        return None
    ranked = sorted(votes.items(), key=lambda item: item[1], reverse=True)
    if len(ranked) > 1 and ranked[0][1] - ranked[1][1] < LEAD:
        return None
    return ranked[0][0], where[ranked[0][0]]
