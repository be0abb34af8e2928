"""Text folding, language detection and token estimates, shared by the classifier, the document
store, the tools and the ranking."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from typing import Literal

ACCENTED = re.compile(r"[ãõçáéíóúâêà]")


def fold(text: str) -> str:
    """Lower-case without accents, so that "execução" and "execucao" meet."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect_language(
    text: str, pt_words: Collection[str], en_words: Collection[str], tie: Literal["pt", "en"] = "en"
) -> Literal["pt", "en"]:
    """``pt`` or ``en`` by marker words (Portuguese accents count twice); a tie is ``tie`` (English
    unless the conversation so far says otherwise)."""
    words = re.findall(r"[a-z]+", fold(text))
    pt = sum(w in pt_words for w in words) + 2 * bool(ACCENTED.search(text.lower()))
    en = sum(w in en_words for w in words)
    return "pt" if pt > en else "en" if en > pt else tie


def estimate_tokens(text: str) -> int:
    """An honest estimate (no tokenizer download): about four characters per token."""
    return max(1, len(text) // 4)
