"""The operators' vocabulary the rules read, in Portuguese and English: query-type signals (weighted
regular expressions on accent-folded text), actions, statuses, message ids, return codes and time
windows. The words that tell the two languages apart are ``markers.py``'s."""

from __future__ import annotations

import re

from ..taxonomy import Action, QueryType

# (query type, weight, patterns on the folded text) — the strongest total wins
SIGNALS: list[tuple[QueryType, float, tuple[str, ...]]] = [
    (  # what-if: a question about an action is not an order (it outweighs the action's verb)
        QueryType.IMPACT,
        7.0,
        (
            r"\bwhat (happens|would happen|will happen|breaks|stops)\b.*\b(if|when)\b",
            r"\bwhat if (i|we)\b",
            r"\b(can|could|should) (i|we) (just )?(cancel|kill|hold|release|rerun|stop)\b.*\?",
            r"\b(o que acontece|o que (para|quebra)|e se (eu|a gente|nos))\b",
            r"\bse (eu|a gente|nos) (cancel|segur|mat|liber|reexecut|parar|suspend)\w*\b.*\?",
            r"\b(posso|podemos) (so )?(cancelar|segurar|matar|liberar|reexecutar)\b.*\?",
            r"\bhypothetic\w*|\bhipotetic\w*|\bin theory\b|\bem tese\b",
            r"\b(will|would|does|could) (a |the )?(plain |simple |new )?(rerun|re-run|restart)\b.*"
            r"\b(fix|help|solve|work|resolve)\w*\b",
            r"\b(resolve|resolveria|adianta|funciona|funcionaria)\b.{0,25}\b(rerun|reexecu\w*|rodar de novo)\b|"
            r"\b(rerun|reexecu\w*)\b.{0,25}\b(resolve|resolveria|adianta)\b",
            r"\bshould (i|we) (just )?(rerun|re-run|restart|hold|release|cancel|kill|confirm)\b",
            r"\bdiferen\w* (de|entre) (dar |fazer )?(um )?(kill|cancel\w*|hold|rerun|reexecu\w*|confirm\w*)\b",
            r"\bif (i|we) (\w+ )?(cancel|kill|hold|release|rerun|re-run|restart|confirm|stop|mark)\w*\b.*\?",
            r"\bse (eu|a gente|nos) (der|fizer|mandar|fosse|for) \w*\s*"
            r"(rerun|cancel\w*|hold|kill|reexecu\w*|confirm\w*)\b",
        ),
    ),
    (  # a past rerun asked about: how the job is now, never a new order
        QueryType.STATUS,
        7.0,
        (
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
    ),
    (  # the night's digest (a plain "what failed tonight?" stays a list of failures)
        QueryType.DIGEST,
        4.0,
        (
            r"\bwhat (happened|went wrong|broke)\b.*\b(overnight|last night|tonight|during the night|while i was)\b",
            r"\b(overnight|night|nightly|morning) (summary|recap|digest|report|briefing)\b",
            r"\b(digest|recap)\b.*\b(night|overnight|failures|incidents)\b",
            r"\bo que (aconteceu|rolou|houve|deu errado)\b.*\b(noite|madrugada)\b",
            r"\b(resumo|relatorio|balanco) da (noite|madrugada)\b",
        ),
    ),
    (
        QueryType.SLA,
        2.6,
        (
            r"\b(critical|critic\w*)\b.*\b(late|atrasad\w*|risk|risco|deadline|prazo|behind)\b",
            r"\b(late|atrasad\w*|deadline|prazo|sla|at risk|em risco)\b.*\b(critical|critic\w*|jobs?)\b",
            r"\b(miss(ing)? (the|its|their) deadline|vai atrasar|estourar o prazo)\b",
        ),
    ),
    (  # a question about a request already made, never a new order
        QueryType.OUTCOME,
        6.0,
        (
            r"\b(did|has) (it|that|this|the \w+( of \w+)?) (work|worked|go through|run|ran|succeed|happen)\b",
            r"\b(was|is|has) (it|that|this|the \w+( of \w+)?) (been )?(done|applied|executed|approved|rejected)\b"
            r"(?! (this|that|it|so) before)",
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
            r"^\s*(please\s+|por favor,?\s+)?(reexecut\w*|reroda\w*|roda de novo|rode de novo|segura|segure|libera|"
            r"libere|cancela|cancele|mata|mate|confirma|confirme|coloca|coloque|reinicia|reinicie|suspend\w*|pare)\b",
            r"\b(rerun|reexecut\w*|reroda\w*)\s+(it|ele|o job|isso)\b",
            r"^\s*(faz|faca|fazer|da|de|dar|manda|mande) (o |um )?(release|rerun|hold|kill|cancel)\b",
        ),
    ),
    (
        QueryType.HOWTO,
        2.5,
        (
            r"^\s*(how (do|can|to|should)|how to|como (eu )?(reexecut|ler|resolver|fazer|confirmar|liberar|tratar)|"
            r"como se\b|como faco)",
            r"^\s*como (eu |que eu |a gente )?(?!(esta|ta|estao|anda|andam|foi|foram|vai|vao|fica|ficou)\b)"
            r"[a-z]+(o|a|mos)\b.*\b(job|prompt|hold|rerun|conman|console|stream|dependencia\w*|agente|estacao)\b",
            r"\b(what (does|is) (the )?(difference|return code|rc)\b|difference between|diferenca entre|"
            r"o que (significa|quer dizer|e)\b|what does .* mean|explain the \w+ status)",
            r"\b(when should i|quando (nao )?devo|should i not)\b",
        ),
    ),
    (
        QueryType.TROUBLESHOOT,
        2.0,
        (
            r"\b(why|por ?que|pq|porque|motivo|reason|root cause|causa|causou|caused|diagnos\w*|investig\w*|"
            r"what went wrong|entender o erro|qual (foi )?o erro|erro do|com qual (return code|rc|codigo)|"
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
            r"\b(what (comes|runs|starts) (after|next)|o que (vem|roda|comeca) depois|blocked by|"
            r"bloquead[oa]s? (por|pelo)|"
            r"depend\w*|predecessor\w*|successor\w*|sucessor\w*|downstream|upstream|waiting for|esperando o que|"
            r"impact\w*|impacto|bloqueia|blocks|chain between|cadeia entre)\b",
        ),
    ),
    (
        QueryType.FAILED_JOBS,
        1.8,
        (
            r"\b(which|what|quais|quantos|how many|list|lista|show|mostra|any|teve|tem|me passa|give me)\b.*"
            r"\b(fail\w*|falh\w*|abend\w*|errors?|erro)\b",
            r"\b(deu pau|deram pau|quebrou|quebraram|cairam)\b",
            r"\b(everything|tudo|all) (in|em) (abend|fail)\b",
            r"^\s*(failed jobs|falhas|jobs (in|em) (abend|fail)|failures|jobs que falharam|what failed|o que falhou)\b",
            r"\b(abended|abendou|falharam|failed)\b.*\b(last|ultim\w*|ontem|yesterday|today|hoje|tonight|\d+ ?h)",
        ),
    ),
    (
        QueryType.HEALTH,
        2.0,
        (
            r"\b(health|saude|system doing|ambiente|engine (is )?up|engine esta no ar|no ar\b|agents? linked|"
            r"agentes? (estao )?conectados|linkad\w*|linked|fora do ar|down|health check|unlinked|offline)\b",
            r"\b(agt\d+|master|fta_\w+|agente|agent)\b.*\b(ta|esta|is) (fora|off|down)\b",
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
        (
            r"^\s*(hello|hi|hey|oi|ola|thanks|thank you|obrigad\w*|valeu|who are you|quem e voce|tell me a joke|"
            r"bom dia|boa tarde|boa noite|good (morning|afternoon|evening))\b",
        ),
    ),
]

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
