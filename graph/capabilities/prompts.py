"""Prompts waiting for a reply: which, their text and the jobs that wait for them. Replying is a write
(through an approval), never done by reading."""

from __future__ import annotations

import re
from typing import Any

from ..taxonomy import QueryType
from .base import Branch, Capability, Data, Phrases, say

PHRASES: Phrases = {
    "none": {
        "en": "No prompt is waiting for a reply right now ({n} waiting job(s) checked).",
        "pt": "Nenhum prompt está esperando resposta agora ({n} job(s) em espera verificados).",
    },
    "head": {"en": "{n} prompt(s) wait for a reply:", "pt": "{n} prompt(s) esperam resposta:"},
    "line": {
        "en": "- {name} (id {id}): “{text}” — waited for by {jobs}",
        "pt": "- {name} (id {id}): “{text}” — aguardado por {jobs}",
    },
    "reply": {
        "en": 'To answer one, ask (e.g. "reply yes to {name}"); the reply waits for an operator\'s approval.',
        "pt": 'Para responder, peça (ex.: "responda sim ao {name}"); a resposta aguarda a aprovação de um operador.',
    },
}


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    out = []
    for found in data.get("prompts", [])[:1]:
        prompts = found.get("prompts") or []
        if not prompts:
            out.append(say(PHRASES, "none", lang, n=found.get("checked_jobs", 0)))
            continue
        lines = [
            say(
                PHRASES,
                "line",
                lang,
                name=p.get("name"),
                id=p.get("prompt_id"),
                text=p.get("text") or "",
                jobs=", ".join(p["jobs"][:5]),
            )
            for p in prompts[:10]
        ]
        out.append(say(PHRASES, "head", lang, n=len(prompts)) + "\n" + "\n".join(lines))
        out.append(say(PHRASES, "reply", lang, name=prompts[0].get("name")))
    return out


HOW_TO = re.compile(r"^\s*(how (do|can|should|to|would)|como (eu )?(respondo|responder|faco|fazer|devo|se responde))\b")


CAPABILITY = Capability(
    kind=QueryType.PROMPTS,
    signals=(
        r"\b(prompts?|waiting for (a |an )?(reply|answer|response|operator)|awaiting (a )?(reply|answer))\b",
        r"\b(aguardando|esperando) (uma )?(resposta|operador|confirmacao do operador)\b",
        r"\b(pergunta|perguntas) (pendente|esperando|aberta)\w*\b",
    ),
    weight=3.0,
    reads=("prompts",),
    compose=compose,
    branches={"prompts": Branch("get_prompts", lambda e, q: [{}])},
    boost=lambda e, folded: -6.0 if HOW_TO.search(folded) else 0.0,  # how to answer a prompt: the runbooks
    eval_tag="prompt",
)
