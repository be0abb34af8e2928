"""Why a job that has not started waits, said from the engine's reason (``waiting`` in a status
result: the substatus and the unresolved dependencies). An operator's hold is named only when the
engine says so (``HOLD_PRIORITY_ZERO``); otherwise HOLD is a wait for something that has a name."""

from __future__ import annotations

from typing import Any

WHY = {
    "predecessor": {
        "en": "it waits for its predecessor(s) {names}; it starts when they end in SUCC. Releasing it would "
        "run it without their output.",
        "pt": "espera o(s) predecessor(es) {names}; começa quando eles terminarem em SUCC. Liberá-lo o faria "
        "rodar sem a saída deles.",
    },
    "predecessor_stream": {
        "en": "it waits for the job stream {names} to complete.",
        "pt": "espera o job stream {names} terminar.",
    },
    "stream": {
        "en": "nothing of its own is unresolved: its job stream {stream} waits for {names}.",
        "pt": "nada dele mesmo está pendente: o job stream {stream} espera {names}.",
    },
    "operator_hold": {
        "en": "an operator put it on hold (priority 0): it will not start until someone releases it.",
        "pt": "um operador o colocou em hold (prioridade 0): não começa até alguém liberá-lo.",
    },
    "time": {"en": "it waits for its start time{at}.", "pt": "espera o horário de início{at}."},
    "file": {"en": "it waits for the file {names} to arrive.", "pt": "espera o arquivo {names} chegar."},
    "prompt": {
        "en": "it waits for a reply to the prompt {names}{text}.",
        "pt": "espera a resposta ao prompt {names}{text}.",
    },
    "resource": {
        "en": "it waits for the resource {names} (no unit free).",
        "pt": "espera o recurso {names} (nenhuma unidade livre).",
    },
    "agent": {"en": "it waits for its agent to be available.", "pt": "espera o agente ficar disponível."},
    "limit": {"en": "it waits for a free slot (the job limit).", "pt": "espera uma vaga (o limite de jobs)."},
}
UNNAMED = {"en": "it waits ({substatus}).", "pt": "está esperando ({substatus})."}
HELD_BY = {  # the job that holds a chain of waits, by why it holds it
    "failed": {"en": "it failed{rc}", "pt": "ele falhou{rc}"},
    "confirmation": {
        "en": "it ran and waits for an operator's confirmation",
        "pt": "ele rodou e espera a confirmação de um operador",
    },
    "running": {"en": "it is still running", "pt": "ele ainda está rodando"},
    "agent": {"en": "it waits for its agent {workstation}", "pt": "ele espera o agente {workstation}"},
    "operator_hold": {"en": "an operator holds it (priority 0)", "pt": "um operador o segura (prioridade 0)"},
}
HELD = {
    "en": "The whole chain is held by {job} [{status}] ({stream}): {why}.{via}",
    "pt": "Quem segura a cadeia toda é {job} [{status}] ({stream}): {why}.{via}",
}
HELD_DIRECTLY = {
    "en": "{job} [{status}] ({stream}) holds it: {why}.",
    "pt": "{job} [{status}] ({stream}) o segura: {why}.",
}
VIA = {"en": " Between them: {names}.", "pt": " No caminho: {names}."}
OTHER_WAIT = {"en": "it waits ({reason})", "pt": "ele está esperando ({reason})"}


def held_text(held: dict[str, Any], lang: str) -> str:
    """``The whole chain is held by X [ABEND] (STREAM): it failed (rc 8). Between them: A, B.``"""
    why = HELD_BY.get(held.get("why") or "")
    rc = held.get("return_code")
    code = "" if rc is None else (f", código de retorno {rc}" if lang == "pt" else f", return code {rc}")
    said = (why or OTHER_WAIT)[lang].format(rc=code, workstation=held.get("workstation"), reason=held.get("why"))
    if not held.get("via"):
        stream = held.get("job_stream") or "?"
        return HELD_DIRECTLY[lang].format(job=held["job"], status=held.get("status"), stream=stream, why=said)
    via = VIA[lang].format(names=", ".join(held["via"]))
    return HELD[lang].format(
        job=held["job"], status=held.get("status"), stream=held.get("job_stream") or "?", why=said, via=via
    )


def _names(items: list[dict[str, Any]]) -> str:
    named = [f"{i['name']} [{i['status']}]" if i.get("status") else str(i.get("name")) for i in items if i.get("name")]
    return ", ".join(named[:5]) or "?"


def wait_text(job: dict[str, Any], lang: str) -> str:
    """``HOLD: it waits for its predecessor(s) A [ABEND]; …`` for a status item with ``waiting``; ""
    when the item says nothing about a wait."""
    waiting = job.get("waiting")
    if not waiting:
        return ""
    reason = waiting.get("reason")
    pending = waiting.get("waiting_for") or []
    same = pending if reason == "stream" else [w for w in pending if w.get("kind") == reason]
    if reason not in WHY:
        return f"{job.get('status')}: " + UNNAMED[lang].format(substatus=waiting.get("substatus") or "?")
    prompt = same[0].get("text") if same and reason == "prompt" else None
    at = waiting.get("start_time")
    text = WHY[reason][lang].format(
        names=_names(same),
        at=f" ({at})" if at else "",
        text=f": “{prompt}”" if prompt else "",
        stream=waiting.get("stream") or job.get("job_stream") or "?",
    )
    held = waiting.get("held_by")
    return f"{job.get('status')}: {text}" + (f" {held_text(held, lang)}" if held else "")
