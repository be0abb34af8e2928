"""A job's history: its runs over the last days, how many failed, its usual duration (median and p90
of the successful runs) with the trend, and the latest runs ("how long does X usually take?",
"quanto tempo o X costuma levar?")."""

from __future__ import annotations

import statistics
from typing import Any

from ..models.answers import minutes_text, run_seconds
from ..taxonomy import QueryType
from .base import Capability, Data, Phrases, say

PHRASES: Phrases = {
    "history_runs": {
        "en": "{job}: {n} run(s) in the last {days} days, {failures} failed; usual duration (successful runs) median "
        "{median}, p90 {p90}.",
        "pt": "{job}: {n} execução(ões) nos últimos {days} dias, {failures} com falha; duração usual (execuções com "
        "sucesso) mediana {median}, p90 {p90}.",
    },
    "history_none": {
        "en": "{job}: no recorded run in the last {days} days.",
        "pt": "{job}: nenhuma execução registrada nos últimos {days} dias.",
    },
    "history_last": {"en": "Recent runs:", "pt": "Execuções recentes:"},
    "trend_up": {
        "en": "Getting slower: the last runs took {now}, against {before} before.",
        "pt": "Ficando mais lento: as últimas execuções levaram {now}, contra {before} antes.",
    },
    "trend_down": {
        "en": "Getting faster: the last runs took {now}, against {before} before.",
        "pt": "Ficando mais rápido: as últimas execuções levaram {now}, contra {before} antes.",
    },
    "trend_flat": {"en": "Steady lately.", "pt": "Estável nas últimas execuções."},
    "latest_slow": {
        "en": "The latest run took {now}, {ratio}× its usual {usual}: slower than usual.",
        "pt": "A última execução levou {now}, {ratio}× o usual de {usual}: mais lenta que o normal.",
    },
}
SLOW = 1.5  # a latest run this many times the usual duration is said to be slow


def history_lines(items: list[dict[str, Any]], lang: str) -> list[str]:
    """Runs, failures, and the usual duration (median and p90 of the successful runs) with its trend."""
    out = []
    for history in items[:2]:
        runs = history.get("runs") or []
        if not runs:
            out.append(say(PHRASES, "history_none", lang, job=history.get("job"), days=history.get("days")))
            continue
        ok = [d for r in runs if r.get("status") == "SUCC" and (d := run_seconds(r)) is not None]  # newest first
        ordered = sorted(ok)
        median = minutes_text(statistics.median(ordered)) if ordered else "?"
        p90 = minutes_text(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]) if ordered else "?"
        out.append(
            say(
                PHRASES,
                "history_runs",
                lang,
                job=history.get("job"),
                n=len(runs),
                days=history.get("days"),
                failures=history.get("failures", 0),
                median=median,
                p90=p90,
            )
            + trend(ok, lang)
            + latest(ok, lang)
        )
        recent = [
            f"- {r.get('started_at') or '?'} {r.get('status')}"
            + (f" rc {r['return_code']}" if r.get("return_code") not in (None, 0) else "")
            + (f" ({minutes_text(d)})" if (d := run_seconds(r)) is not None else "")
            for r in runs[:5]
        ]
        out.append(say(PHRASES, "history_last", lang) + "\n" + "\n".join(recent))
    return out


def latest(newest_first: list[float], lang: str) -> str:
    """ " The latest run took 27 min, 2.7× its usual 10 min…" when it took over ``SLOW`` times the
    median of the runs before it."""
    if len(newest_first) < 3:
        return ""
    usual = statistics.median(newest_first[1:])
    if not usual or newest_first[0] < SLOW * usual:
        return ""
    ratio = f"{newest_first[0] / usual:.1f}"
    return " " + say(
        PHRASES, "latest_slow", lang, now=minutes_text(newest_first[0]), ratio=ratio, usual=minutes_text(usual)
    )


def trend(newest_first: list[float], lang: str) -> str:
    """ " Getting slower: …" when the last three successful runs took over 15% more than the ones before."""
    if len(newest_first) < 4:
        return ""
    recent, earlier = newest_first[:3], newest_first[3:]
    before = sorted(earlier)[len(earlier) // 2]
    now = sorted(recent)[1]
    if before and abs(now - before) / before > 0.15:
        return " " + say(
            PHRASES,
            "trend_up" if now > before else "trend_down",
            lang,
            now=minutes_text(now),
            before=minutes_text(before),
        )
    return " " + say(PHRASES, "trend_flat", lang)


def compose(data: Data, lang: str, meta: dict[str, Any]) -> list[str]:
    return history_lines(data.get("history", []), lang)


CAPABILITY = Capability(
    kind=QueryType.HISTORY,
    signals=(
        r"\b(how long|usually take|take on average|average (duration|runtime|time)|duration of|run history|"
        r"past runs|previous runs|runtime of|long runner\w*|failed before|ever failed|fail(ed)? (often|a lot)|"
        r"track record)\b",
        r"\b(ja falhou|falhou antes|costuma falhar|falha (muito|sempre|com frequencia))\b",
        r"\b(done|happened|failed like) (this|that|it) before\b|\bbefore\s*\?\s*$|"
        r"\b(ja (tinha )?(acontecido|aconteceu|feito isso|dado isso)|aconteceu antes)\b",
        r"\b(quanto tempo|costuma (levar|demorar|rodar)|dura(cao|ção)|media de tempo|historico de execu\w*|"
        r"execucoes anteriores|tempo medio)\b",
        r"\b(normal(ly)?|usual(ly)?|typical(ly)?|on average|em media|normalmente|geralmente|de costume)\b.*"
        r"\b(takes?|runs?|runtime|duration|leva|demora|dura|roda)\b",
        r"\b(p90|percentil|trend|tendencia|getting (slower|faster)|ficando (mais )?(lento|rapido))\b",
    ),
    weight=3.0,
    reads=("status", "history"),
    compose=compose,
    weights={"history": 1.0, "status": 0.7},
    # "40P01 again, has it happened before?": a message's history is the message's answer (who got it, when)
    boost=lambda e, folded: -6.0 if e.get("message_ids") and not e.get("jobs") else 0.0,
    about_a_job=True,
    eval_tag="usual-duration",
)
