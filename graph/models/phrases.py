"""The offline model's phrasebook: every sentence its answers are made of, in English and
Portuguese, and the words for cause categories and actions. Templates only; ``answers`` fills them."""

from __future__ import annotations

import re
from typing import Any

from tools.actions import REQUEST_WORDS

T: dict[str, dict[str, str]] = {
    "inferred": {"en": "(I read {written} as {read_as}.)", "pt": "(Li {written} como {read_as}.)"},
    "inferred_action": {
        "en": "Nothing was requested: {written} is not in the plan; the closest is {read_as}. If you mean it, "
        "repeat the request with the exact name.",
        "pt": "Nada foi pedido: {written} não existe no plano; o mais próximo é {read_as}. Se é esse, repita o "
        "pedido com o nome exato.",
    },
    "inferred_pronoun": {
        "en": 'Nothing was requested yet: by "{written}" I understood {read_as}, the first job of my last answer. '
        "If you mean it, repeat the request with its name.",
        "pt": 'Nada foi pedido ainda: entendi "{written}" como {read_as}, o primeiro job da minha última resposta. '
        "Se é esse, repita o pedido com o nome dele.",
    },
    "what_if": {
        "en": 'Nothing was changed: this only explains the effect. To do it, ask for it (e.g. "{verb} {job}"); '
        "it will wait for an operator's approval.",
        "pt": 'Nada foi alterado: isto só explica o efeito. Para fazer, peça (ex.: "{verb} {job}"); '
        "o pedido aguardará a aprovação de um operador.",
    },
    "critical_head": {
        "en": "{at_risk} of {total} critical job(s) are failed, late or still waiting:",
        "pt": "{at_risk} de {total} job(s) crítico(s) estão com falha, atrasados ou esperando:",
    },
    "critical_none": {
        "en": "No critical job is failed or waiting ({total} critical in the plan).",
        "pt": "Nenhum job crítico com falha ou esperando ({total} críticos no plano).",
    },
    "job_line": {
        "en": "{job} ({ws}#{stream}) is {status}{rc}{times}.",
        "pt": "{job} ({ws}#{stream}) está em {status}{rc}{times}.",
    },
    "rc": {"en": ", return code {rc}", "pt": ", código de retorno {rc}"},
    "times": {"en": "; it ran from {start} to {end}", "pt": "; rodou de {start} até {end}"},
    "started": {"en": "; running since {start}", "pt": "; rodando desde {start}"},
    "no_job": {"en": "I could not find that job in the plan.", "pt": "Não encontrei esse job no plano."},
    "no_answer": {
        "en": 'I found nothing to answer that with. Name a job, job stream or workstation (e.g. "why did'
        ' PAYROLL_NIGHTLY fail?"), or ask what failed today or what is waiting.',
        "pt": 'Não encontrei nada com que responder. Diga o nome de um job, job stream ou estação (ex.: "por que o'
        ' PAYROLL_NIGHTLY falhou?"), ou pergunte o que falhou hoje ou o que está esperando.',
    },
    "model_down": {
        "en": "(The language model did not answer: {why}. This answer is composed from the facts Resync gathered.)",
        "pt": "(O modelo de linguagem não respondeu: {why}. Esta resposta foi composta com os fatos que o Resync"
        " reuniu.)",
    },
    "engine_down": {
        "en": "The scheduler did not answer ({why}) — I could not check {job}.",
        "pt": "O scheduler não respondeu ({why}) — não consegui verificar {job}.",
    },
    "long_runner": {
        "en": "A long runner: running for {elapsed}, while it usually takes {usual} — check it is not stuck "
        "(its log, the database or service it waits for).",
        "pt": "Execução longa: rodando há {elapsed}, quando costuma levar {usual} — verifique se não travou "
        "(o log, o banco ou o serviço que ele espera).",
    },
    "log_of": {
        "en": "Log of {job}, run {run} (scheduled {when}):",
        "pt": "Log do {job}, execução {run} (agendada {when}):",
    },
    "error_lines": {"en": "The job log says:", "pt": "O log do job diz:"},
    "similar": {
        "en": "{job} itself failed like this before {n} time(s) (same error: `{sig}`).",
        "pt": "O próprio {job} já falhou assim {n} vez(es) antes (mesmo erro: `{sig}`).",
    },
    "similar_other": {
        "en": "The same error also hit other jobs: {jobs}.",
        "pt": "O mesmo erro também atingiu outros jobs: {jobs}.",
    },
    "resolution": {
        "en": "Last time it was fixed by: {text} ({who}).",
        "pt": "Da última vez foi resolvido assim: {text} ({who}).",
    },
    "impact": {
        "en": "It blocks {n} job(s) downstream{critical}{first}.",
        "pt": "Ele bloqueia {n} job(s) adiante{critical}{first}.",
    },
    "critical": {"en": ", {n} of them critical ({names})", "pt": ", {n} deles críticos ({names})"},
    "rerun_verdict": {
        "en": "Would a plain rerun fix it? {helps}: its last failure was {cause} (`{line}`). {step}",
        "pt": "Reexecutar resolve? {helps}: a última falha foi {cause} (`{line}`). {step}",
    },
    "late_streams": {
        "en": "Job streams past their deadline and not complete ({n}):",
        "pt": "Job streams que passaram do prazo sem terminar ({n}):",
    },
    "late_stream": {
        "en": "- {stream} ({ws}) {status}, deadline {deadline}{holding}",
        "pt": "- {stream} ({ws}) {status}, prazo {deadline}{holding}",
    },
    "late_holding": {"en": "; held by {names}", "pt": "; segurado por {names}"},
    "none_late": {
        "en": "No job stream is past its deadline.",
        "pt": "Nenhum job stream passou do prazo.",
    },
    "confirm": {
        "en": "Waiting for an operator's confirmation (PEND; their successors wait) ({n}):",
        "pt": "Esperando a confirmação de um operador (PEND; os sucessores esperam) ({n}):",
    },
    "first_blocked": {"en": "; next in line: {names}", "pt": "; os próximos da fila: {names}"},
    "next_cause": {
        "en": "Likely cause: {category}. Next step: {step}",
        "pt": "Causa provável: {category}. Próximo passo: {step}",
    },
    "never_started": {
        "en": "; it never started (launch failed at {at})",
        "pt": "; nunca começou (falha ao iniciar às {at})",
    },
    "failed_count": {
        "en": "{n} job run(s) failed in the last {h} hours ({still} still failed now):",
        "pt": "{n} execução(ões) de job falharam nas últimas {h} horas ({still} ainda com falha agora):",
    },
    "recovered": {"en": " → recovered by a rerun at {at}", "pt": " → recuperado por uma reexecução às {at}"},
    "rerun_then": {"en": " → rerun at {at}: {status}", "pt": " → reexecutado às {at}: {status}"},
    "still_failed": {"en": " → still failed", "pt": " → ainda com falha"},
    "none_failed": {"en": "No job failed in the last {h} hours.", "pt": "Nenhum job falhou nas últimas {h} horas."},
    "failed_day": {
        "en": "{n} job run(s) failed {day} (production day {start} – {end}; {still} still failed now){where}:",
        "pt": "{n} execução(ões) de job falharam {day} (dia de produção {start} – {end}; {still} ainda com falha "
        "agora){where}:",
    },
    "none_failed_day": {
        "en": "No job failed {day} (production day {start} – {end}){where}.",
        "pt": "Nenhum job falhou {day} (dia de produção {start} – {end}){where}.",
    },
    "on_workstation": {"en": " on {ws}", "pt": " em {ws}"},
    "stream_nothing": {
        "en": "Nothing was requested: {stream} has no job to {verb} now (hold acts on the jobs not started yet, "
        "release on those an operator held).",
        "pt": "Nada foi pedido: {stream} não tem job para {verb} agora (segurar vale para os jobs que não "
        "começaram, liberar para os que um operador segurou).",
    },
    "failed_before": {
        "en": "Before that, this instance failed {n} time(s) ({runs}); a rerun followed each failure.",
        "pt": "Antes disso, esta instância falhou {n} vez(es) ({runs}); cada falha teve uma reexecução.",
    },
    "waits_for": {"en": "It waits for: {items}.", "pt": "Ele espera por: {items}."},
    "needed_by": {"en": "Waiting for it: {items}.", "pt": "Esperando por ele: {items}."},
    "nothing": {"en": "nothing", "pt": "nada"},
    "health": {
        "en": "The scheduler is {status}: engine {version}, {total} jobs ({failed} failed), {unlinked}.",
        "pt": "O scheduler está {status}: engine {version}, {total} jobs ({failed} com falha), {unlinked}.",
    },
    "unlinked": {"en": "unlinked workstations: {names}", "pt": "estações desconectadas: {names}"},
    "all_linked": {"en": "all workstations linked", "pt": "todas as estações conectadas"},
    "ws_line": {
        "en": "{name}: {state}, {ready} job(s) waiting in READY{names}.",
        "pt": "{name}: {state}, {ready} job(s) esperando em READY{names}.",
    },
    "means_PEND": {
        "en": "PEND: it ran and now waits for an operator to confirm it (confirm it as SUCC or ABEND).",
        "pt": "PEND: rodou e agora espera a confirmação de um operador (confirmar como SUCC ou ABEND).",
    },
    "means_READY": {
        "en": "READY: its dependencies are met but it has not started (its agent, a limit or a resource).",
        "pt": "READY: as dependências foram atendidas mas ele não começou (o agente, um limite ou um recurso).",
    },
    "means_WAIT": {
        "en": "WAIT: it waits for its dependencies (predecessors, time, resources).",
        "pt": "WAIT: espera suas dependências (predecessores, horário, recursos).",
    },
    "means_HOLD": {
        "en": "HOLD: its dependencies are not resolved yet (a predecessor, a time, a file, a resource or a prompt).",
        "pt": "HOLD: suas dependências ainda não foram resolvidas (predecessor, horário, arquivo, recurso ou prompt).",
    },
    "means_EXEC": {"en": "EXEC: it is running now.", "pt": "EXEC: está rodando agora."},
    "linked": {"en": "linked", "pt": "conectada"},
    "not_linked": {"en": "NOT linked (agent down)", "pt": "DESCONECTADA (agente fora do ar)"},
    "howto": {"en": "From the runbooks:", "pt": "Segundo os runbooks:"},
    "no_docs": {
        "en": "I found nothing about that in the runbooks.",
        "pt": "Não encontrei nada sobre isso nos runbooks.",
    },
    "action_done": {
        "en": "Done: {done}. The job is now {status}.",
        "pt": "Feito: {done}. O job agora está em {status}.",
    },
    "action_pending": {
        "en": "The request is waiting for an operator's approval (approval {id}).",
        "pt": "O pedido está aguardando a aprovação de um operador (aprovação {id}).",
    },
    "action_rejected": {"en": "Nothing was changed: {why}.", "pt": "Nada foi alterado: {why}."},
    "action_stale": {
        "en": "Not done — the job changed since the request: {why}.",
        "pt": "Não executado — o job mudou desde o pedido: {why}.",
    },
    "action_failed": {
        "en": "The scheduler did not carry it out: {why}.",
        "pt": "O scheduler não executou a ação: {why}.",
    },
    "action_unknown": {
        "en": "I cannot confirm the result: {why}.",
        "pt": "Não consigo confirmar o resultado: {why}.",
    },
    "action_denied": {
        "en": "Your role ({role}) cannot change the scheduler; ask an operator to {action} {job}.",
        "pt": "Seu perfil ({role}) não pode alterar o scheduler; peça a um operador para {action} {job}.",
    },
    "which_job": {"en": "Which job should I {action}?", "pt": "Qual job devo {action}?"},
    "other": {
        "en": (
            "I am Resync, the operations assistant for IBM Workload Scheduler. Ask me about job status, failures, "
            "logs, dependencies, health, or how to do something; I can also rerun, hold, release, cancel, kill or "
            "confirm jobs with an operator's approval."
        ),
        "pt": (
            "Sou o Resync, o assistente de operações do IBM Workload Scheduler. Pergunte sobre status de jobs, "
            "falhas, logs, dependências, saúde do ambiente ou como fazer algo; também posso reexecutar, segurar, "
            "liberar, cancelar, matar ou confirmar jobs com aprovação de um operador."
        ),
    },
    "partial": {
        "en": "(Partial answer: could not get {what}.)",
        "pt": "(Resposta parcial: não consegui obter {what}.)",
    },
    "sources": {"en": "Sources", "pt": "Fontes"},
    "outcomes": {
        "en": "What happened to the requests of this conversation:",
        "pt": "O que aconteceu com os pedidos desta conversa:",
    },
    "no_requests": {
        "en": "There is no request in this conversation yet.",
        "pt": "Ainda não há nenhum pedido nesta conversa.",
    },
}
BRANCH_WORDS = {  # a read that failed, as a partial answer names it (others by their branch's name)
    "cause": {"en": "the cause from its log", "pt": "a causa no log"},
    "failed_causes": {"en": "the causes from the logs", "pt": "as causas nos logs"},
    "rerun_logs": {"en": "its last failure's log", "pt": "o log da última falha"},
}
RERUN_HELPS = {  # whether a plain rerun helps, as a failure list says it beside the cause
    "yes": {"en": "a rerun usually helps", "pt": "reexecutar costuma resolver"},
    "no": {"en": "a rerun fails the same way until it is fixed", "pt": "reexecutar falha igual até corrigir"},
    "unknown": {"en": "read the log before rerunning", "pt": "leia o log antes de reexecutar"},
}
CATEGORY_WORDS = {
    "missing_input": {"en": "missing input", "pt": "entrada ausente"},
    "database": {"en": "database / lock", "pt": "banco de dados / lock"},
    "resource": {"en": "disk or memory", "pt": "disco ou memória"},
    "permission": {"en": "permission / user", "pt": "permissão / usuário"},
    "timeout": {"en": "timeout", "pt": "tempo esgotado"},
    "dependency": {"en": "dependency", "pt": "dependência"},
    "agent": {"en": "not launched (agent or definition)", "pt": "não iniciado (agente ou definição)"},
    "unknown": {"en": "unknown", "pt": "desconhecida"},
}

DAY_WORDS = {
    "today": {"en": "today", "pt": "hoje"},
    "yesterday": {"en": "yesterday", "pt": "ontem"},
    "day_before": {"en": "the day before yesterday", "pt": "anteontem"},
    "last_night": {"en": "last night", "pt": "esta noite"},
}


# why the model did not answer, by the kind of failure (graph.models.guard.FailureKind)
MODEL_FAILURE_WORDS: dict[str, dict[str, str]] = {
    "timeout": {"en": "it did not reply in time", "pt": "não respondeu a tempo"},
    "rate_limited": {"en": "it was busy (HTTP 429)", "pt": "estava ocupado (HTTP 429)"},
    "server_error": {"en": "it failed ({status})", "pt": "falhou ({status})"},
    "unreachable": {"en": "it could not be reached", "pt": "não foi possível alcançá-lo"},
    "rejected": {"en": "it refused the request ({status})", "pt": "recusou o pedido ({status})"},
    "malformed": {"en": "its reply was not readable", "pt": "a resposta veio ilegível"},
    "cut_stream": {"en": "its reply stopped midway", "pt": "a resposta foi interrompida no meio"},
    "too_long": {"en": "its reply ran past the length limit", "pt": "a resposta passou do limite de tamanho"},
    "empty": {"en": "its reply was empty", "pt": "a resposta veio vazia"},
    "refusal": {"en": "it declined to answer", "pt": "recusou-se a responder"},
    "echo": {
        "en": "it repeated its instructions instead of answering",
        "pt": "repetiu as instruções em vez de responder",
    },
}


def model_down(failure: dict[str, Any], lang: str) -> str:
    """The one line that says the model did not answer, and why, in the user's language."""
    words = MODEL_FAILURE_WORDS.get(str(failure.get("kind")), MODEL_FAILURE_WORDS["malformed"])[lang]
    status = re.search(r"HTTP \d{3}", str(failure.get("detail", "")))
    return t("model_down", lang, why=words.format(status=status.group(0) if status else "HTTP 5xx"))


def t(key: str, lang: str, **values: Any) -> str:
    return T[key][lang].format(**values)


def outage_reason(error: str) -> str:
    """A short reason: the HTTP status when there is one, else the kind of failure."""
    status = re.search(r"HTTP (\d{3})", error)
    if status:
        return status.group(1)
    lowered = error.lower()
    if "circuit breaker" in lowered:
        return "circuit breaker open"
    if "in time" in lowered or "timeout" in lowered or "timed out" in lowered:
        return "timeout"
    return "unreachable" if "reach" in lowered else error[:80]


# the tool errors an answer repeats, in Portuguese (tools speak English to the model)
PT_ERRORS: list[tuple[str, str]] = [
    (r"^no job named (\S+) in the plan(?: on (\S+))?(?:; closest: (.+))?$", "nenhum job chamado {0} no plano{1}{2}"),
    (r"^cannot (\w+) (\S+): it is (\S+); (.+)$", "não é possível {0} {1}: está em {2} ({3})"),
]


def in_language(error: str, lang: str) -> str:
    if lang != "pt":
        return error
    for pattern, template in PT_ERRORS:
        match = re.match(pattern, error)
        if match:
            groups = list(match.groups())
            if template.startswith("nenhum"):
                groups[1] = f" em {groups[1]}" if groups[1] else ""
                groups[2] = f"; os mais próximos: {groups[2]}" if groups[2] else ""
            else:
                groups[0] = next((w["pt"] for w in REQUEST_WORDS.values() if w["en"] == groups[0]), groups[0])
            return template.format(*groups)
    return error
