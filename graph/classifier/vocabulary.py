"""The operators' vocabulary the rules read, in Portuguese and English: language markers, query-type
signals (weighted regular expressions on accent-folded text), actions, statuses, message ids, return
codes and time windows."""

from __future__ import annotations

import re

from ..taxonomy import Action, QueryType

PT_MARKERS = {
    "o",
    "a",
    "os",
    "as",
    "do",
    "da",
    "dos",
    "das",
    "de",
    "que",
    "qual",
    "quais",
    "porque",
    "por",
    "pq",
    "nao",
    "esta",
    "estao",
    "tem",
    "com",
    "para",
    "pra",
    "em",
    "no",
    "na",
    "nos",
    "nas",
    "um",
    "uma",
    "me",
    "ele",
    "isso",
    "quando",
    "como",
    "ontem",
    "hoje",
    "ultimas",
    "horas",
    "dias",
    "falhou",
    "falharam",
    "rodou",
    "obrigado",
    "oi",
    "tudo",
    "bem",
    "quem",
    "voce",
    "mostra",
    "lista",
    "reexecuta",
    "reexecute",
    "roda",
    "segura",
    "libera",
    "cancela",
    "mata",
    "confirma",
    "coloca",
    "linhas",
    "saida",
    "ajuda",
    "significa",
    "quer",
    "dizer",
    "diferenca",
    "entre",
    "ainda",
    "agora",
    "algum",
    "alguma",
    "todos",
    "ambiente",
    "saude",
    "previsao",
    "tempo",
    "amanha",
    "deu",
    "erro",
    "dependencias",
    "depende",
    "sucessores",
    "predecessores",
    "situacao",
    "estado",
    "travado",
    "parado",
    "quero",
    "ver",
    "manda",
    "passa",
    "favor",
    "teve",
    "job",
    "jobs",
}
EN_MARKERS = {
    "the",
    "is",
    "are",
    "what",
    "why",
    "did",
    "does",
    "do",
    "of",
    "on",
    "in",
    "for",
    "to",
    "and",
    "or",
    "with",
    "how",
    "which",
    "when",
    "show",
    "me",
    "list",
    "any",
    "all",
    "last",
    "hours",
    "days",
    "yesterday",
    "today",
    "failed",
    "please",
    "it",
    "that",
    "this",
    "has",
    "have",
    "still",
    "running",
    "done",
    "yet",
    "whats",
    "where",
    "who",
    "you",
    "hello",
    "thanks",
    "tell",
    "joke",
    "give",
    "get",
    "can",
    "i",
    "see",
    "explain",
    "mean",
    "should",
    "not",
    "up",
}

# (query type, weight, patterns on the folded text) — the strongest total wins
SIGNALS: list[tuple[QueryType, float, tuple[str, ...]]] = [
    (  # a question about a request already made, never a new order
        QueryType.OUTCOME,
        6.0,
        (
            r"\b(did|has) (it|that|this|the \w+( of \w+)?) (work|worked|go through|run|ran|succeed|happen)\b",
            r"\b(was|is|has) (it|that|this|the \w+( of \w+)?) (been )?(done|applied|executed|approved|rejected)\b",
            r"\bwhat happened (to|with) (my|the|that|this) (request|approval|rerun|hold|cancel|kill|release)\b",
            r"\b(funcionou|deu certo|rolou|foi (feito|feita|executad[oa]|aplicad[oa]|aprovad[oa]|rejeitad[oa]))\b",
            r"\bo que aconteceu com (o|a|meu|minha|esse|essa) (pedido|aprovacao|reexecucao|acao)\b",
        ),
    ),
    (
        QueryType.ACTION,
        3.0,
        (
            r"^\s*(please\s+|por favor,?\s+)?(rerun|re-run|restart|hold|release|cancel|kill|confirm|mark|put)\b",
            r"^\s*(please\s+|por favor,?\s+)?(reexecut\w*|reroda\w*|roda de novo|rode de novo|segura|libera|"
            r"cancela|mata|confirma|coloca|reinicia)\b",
            r"\b(rerun|reexecut\w*|reroda\w*)\s+(it|ele|o job|isso)\b",
        ),
    ),
    (
        QueryType.HOWTO,
        2.5,
        (
            r"^\s*(how (do|can|to|should)|how to|como (eu )?(reexecut|ler|resolver|fazer|confirmar|liberar)|como se\b)",
            r"\b(what (does|is) (the )?(difference|return code|rc)\b|difference between|diferenca entre|"
            r"o que (significa|quer dizer|e)\b|what does .* mean|explain the \w+ status)",
            r"\b(when should i|quando (nao )?devo|should i not)\b",
        ),
    ),
    (
        QueryType.TROUBLESHOOT,
        2.0,
        (
            r"\b(why|por ?que|pq|porque|motivo|reason|root cause|causa|caused|diagnos\w*|investig\w*|what went wrong|"
            r"o que (deu errado|aconteceu)|what happened|broken|quebrou|keeps failing|continua falhando|"
            r"failed like this|falhou assim)\b",
            r"\b(explain|explica)\b.*\baws[a-z]{3}\d{3,4}[ewi]\b",
            r"\baws[a-z]{3}\d{3,4}e\b",
        ),
    ),
    (QueryType.LOGS, 2.2, (r"\b(log|logs|joblog|stdlist|output|saida|tail)\b",)),
    (
        QueryType.DEPENDENCIES,
        2.2,
        (
            r"\b(depend\w*|predecessor\w*|successor\w*|sucessor\w*|downstream|upstream|waiting for|esperando o que|"
            r"impact\w*|impacto|bloqueia|blocks|chain between|cadeia entre)\b",
        ),
    ),
    (
        QueryType.FAILED_JOBS,
        1.8,
        (
            r"\b(which|what|quais|quantos|how many|list|lista|show|mostra|any|teve|me passa|give me)\b.*"
            r"\b(fail\w*|falh\w*|abend\w*|errors?|erro)\b",
            r"^\s*(failed jobs|falhas|jobs (in|em) (abend|fail)|failures|jobs que falharam|what failed|o que falhou)\b",
            r"\b(abended|abendou|falharam|failed)\b.*\b(last|ultim\w*|ontem|yesterday|today|hoje|tonight|\d+ ?h)",
        ),
    ),
    (
        QueryType.HEALTH,
        2.0,
        (
            r"\b(health|saude|system doing|ambiente|engine (is )?up|engine esta no ar|no ar\b|agents? linked|"
            r"agentes? (estao )?conectados|linkad\w*|linked|fora do ar|down|health check)\b",
        ),
    ),
    (
        QueryType.STATUS,
        1.0,
        (
            r"\b(status|stauts|statsu|state|estado|situacao|done|finish\w*|complet\w*|terminou|concluiu|rodou|"
            r"running|rodando|em execucao|started|start|comecou|stuck|travado|parado|waiting|hold|ready|ok)\b",
            r"\b(is|esta|ja)\b.*\?",
        ),
    ),
    (
        QueryType.OTHER,
        0.8,
        (r"^\s*(hello|hi|hey|oi|ola|thanks|thank you|obrigad\w*|valeu|who are you|quem e voce|tell me a joke)\b",),
    ),
]

ACTIONS: list[tuple[Action, str]] = [
    ("rerun", r"\b(rerun|re-run|restart|reexecut\w*|reroda\w*|roda de novo|rode de novo|reinicia\w*)\b"),
    ("kill", r"\b(kill|mata|matar)\b"),
    ("cancel", r"\b(cancel|cancela|cancelar)\b"),
    ("confirm", r"\b(confirm\w*|mark .* (successful|succ|as))\b"),
    ("hold", r"\b(hold|segura|segurar)\b"),
    ("release", r"\b(release|libera\w*)\b"),
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
MESSAGE_ID = re.compile(r"\b(AWS[A-Z]{3}\d{3,4}[EWI])\b", re.IGNORECASE)
RETURN_CODE = re.compile(
    r"\b(?:rc|return code|exit code|exit status|codigo de retorno|cod\. retorno|retorno)\s*[=:]?\s*(\d{1,3})\b"
)
HOURS = re.compile(r"\b(?:last|ultim[oa]s?|past|nas? ultim[oa]s?)\s+(\d{1,3})\s*(h|hours?|horas?|d|days?|dias?)\b")
SHORT_HOURS = re.compile(r"\b(\d{1,3})\s*h\b")
WORKSTATION = re.compile(r"\b(AGT\d+|MASTER|FTA_[A-Z0-9_]+|[A-Z]{2,}\d+_?[A-Z0-9]*)\b")
NAME_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
