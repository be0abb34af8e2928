"""Screening of uploaded knowledge: text that speaks to an assistant instead of an operator (orders to
ignore instructions, forged system or run-facts sections, role markers) or that asks for secrets is
quarantined until an admin releases it. Retrieved text is data either way; this keeps a poisoned
runbook from reaching anyone's answer at all."""

from __future__ import annotations

import re

_SIGNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "it tells an assistant to ignore its instructions",
        re.compile(
            r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your|system)\b.{0,20}"
            r"\b(instructions?|prompts?|rules?|guidelines?)\b"
            r"|\b(ignor[ea]r?|desconsider[ea]r?|esque[çc][ae]r?)\b.{0,40}\b(instru[çc](ões|ão)|regras|prompt)\b",
            re.I | re.S,
        ),
    ),
    (
        "it poses as a system or run-facts section",
        re.compile(
            r"\b(system|developer)\s+(instruction|prompt|message|override)s?\b|\brun facts\b"
            r"|\bfatos da execu[çc][ãa]o\b"
            r"|\binstru[çc][ãa]o do sistema\b|<\|?(im_start|system|assistant)\|?>|^\s*#+\s*(system|assistant)\s*:?\s*$",
            re.I | re.M,
        ),
    ),
    (
        "it addresses an AI assistant",
        re.compile(
            r"\b(you are now|as an ai|as the assistant|assistant must|the assistant should|voc[êe] agora [ée]"
            r"|como assistente)\b",
            re.I,
        ),
    ),
    (
        "it asks for credentials or keys",
        re.compile(
            r"\b(print|show|reveal|list|send|dump|output|display|mostr[ae]r?|revel[ae]r?|envi[ae]r?|list[ae]r?)\b.{0,40}"
            r"\b(api[ _-]?keys?|passwords?|senhas?|secrets?|credenciais|credentials|tokens?|chaves?)\b",
            re.I | re.S,
        ),
    ),
    (
        "it orders writes on every job",
        re.compile(
            r"\b(rerun|cancel|kill|release|hold|reexecut[ae]r?|cancel[ae]r?)\b.{0,20}\b(all|every|todos?|todas?)\b"
            r".{0,20}\b(jobs?|streams?)\b",
            re.I | re.S,
        ),
    ),
]


def quarantine_reason(text: str) -> str | None:
    """Why the text is held back for an admin (every sign found, in words), or None when it reads as
    operator documentation."""
    found = [why for why, pattern in _SIGNS if pattern.search(text)]
    return "; ".join(found) if found else None
