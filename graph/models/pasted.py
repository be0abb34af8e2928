"""The offline model's reading of a job log the operator pasted ("o que é isso?" + a stdlist), from the
one diagnosis (``tools.diagnosis``, carried by the ``diagnose_log`` tool's result)."""

from __future__ import annotations

from typing import Any

WORDS: dict[str, Any] = {
    "line": {"en": "The decisive line is line {n}:", "pt": "A linha decisiva é a {n}:"},
    "no_line": {
        "en": "No line of the log says what broke; read from the status and return code:",
        "pt": "Nenhuma linha do log diz o que quebrou; lido pelo status e pelo código de retorno:",
    },
    "cause": {
        "en": "Likely cause: {category} ({confidence:.0%} sure).",
        "pt": "Causa provável: {category} ({confidence:.0%} de certeza).",
    },
    "rerun": {
        "yes": {"en": "A plain rerun usually works.", "pt": "Uma reexecução simples costuma resolver."},
        "no": {"en": "A plain rerun will fail the same way.", "pt": "Reexecutar sem corrigir falha do mesmo jeito."},
        "unknown": {"en": "Whether a rerun helps is unclear.", "pt": "Não dá para saber se reexecutar resolve."},
    },
    "next": {"en": "Next step: {step}", "pt": "Próximo passo: {step}"},
}


def said(found: dict[str, Any], key: str, lang: str) -> Any:
    """A diagnosis field in the answer's language (``meaning``/``next_step`` carry a ``_pt`` twin)."""
    return found.get(f"{key}_pt") if lang == "pt" else found.get(key)


def pasted(items: list[dict[str, Any]], lang: str, category_words: dict[str, dict[str, str]]) -> list[str]:
    """The reading's paragraphs (empty when there is no diagnosis to show)."""
    found = next((i.get("diagnosis") for i in items if i.get("diagnosis")), None)
    if not found:
        return []
    meaning = said(found, "meaning", lang)
    head = (
        f"{WORDS['line'][lang].format(n=found['line_number'])}\n> {found['line']}\n({meaning})"
        if found.get("line")
        else f"{WORDS['no_line'][lang]} {meaning}"
    )
    label = category_words.get(found["category"], {}).get(lang, found["category"])
    step = said(found, "next_step", lang)
    return [
        head,
        WORDS["cause"][lang].format(category=label, confidence=float(found.get("confidence") or 0)),
        f"{WORDS['rerun'][found.get('rerun_helps', 'unknown')][lang]} {WORDS['next'][lang].format(step=step)}",
    ]
