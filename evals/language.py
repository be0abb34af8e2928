"""Which language an answer is written in, for judging it: Portuguese, English, Spanish or French from
their most frequent function words (and Portuguese's and Spanish's own letters), or ``unknown`` when
the text is too short or no language clearly leads — never a guess between two."""

from __future__ import annotations

import re
from collections import Counter

FUNCTION_WORDS = {
    "pt": "o os de da dos das em no na nos nas um uma e é está estão foi não com para pelo pela ao aos"
    " que seu sua também já então isso este esta mas ou quando onde depois antes ainda porque rodou código"
    " retorno falhou rodando aguardando esperando ele ela eles até espera bloqueia adiante nada nenhum nenhuma"
    " agora há são foram será pode deve quer hoje ontem",
    "en": "the is are was were and of to in on at with for not it its this that by from be has have had"
    " will which after before when there been but or than then still because ran return code failed running"
    " waiting it's there's nothing none now today yesterday should can must",
    "es": "el la los las de del en un una y es está están fue no con para por al que su también ya entonces"
    " esto este esta pero o cuando donde después antes todavía porque código falló",
    "fr": "le la les de du des en un une et est sont été ne pas avec pour par au aux que qui son sa ses aussi"
    " déjà alors ceci cette mais ou quand où après avant encore parce il elle",
}
_LISTED = {lang: frozenset(text.split()) for lang, text in FUNCTION_WORDS.items()}
# a word of two languages' lists tells neither apart ("de", "que", "está"): only a language's own count
# (Portuguese "a", "as", "do" are left out too: they are English words as well)
WORDS = {
    lang: frozenset(w for w in words if not any(w in other for o, other in _LISTED.items() if o != lang))
    for lang, words in _LISTED.items()
}
LETTERS = {"pt": re.compile(r"[ãõç]|ção\b|ções\b"), "es": re.compile(r"[ñ¿¡]|ción\b")}
TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
MIN_HITS = 2  # fewer function words than this: too little text to tell
LEAD = 1.5  # the leader needs this many times the runner-up's score


def detect(text: str) -> str:
    """``pt``, ``en``, ``es``, ``fr`` or ``unknown``."""
    tokens = [t.lower() for t in TOKEN.findall(text)]
    scores: Counter[str] = Counter()
    for lang, words in WORDS.items():
        scores[lang] = sum(1 for t in tokens if t in words)
    for lang, letters in LETTERS.items():
        scores[lang] += len(letters.findall(text.lower()))
    ranked = scores.most_common()
    (first, top), (_, second) = ranked[0], ranked[1]
    if top < MIN_HITS or top < LEAD * second:
        return "unknown"
    return first
