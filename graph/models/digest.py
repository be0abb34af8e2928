"""The offline model's digest of a period ("what happened overnight?"), from the watcher's
investigations: root failures first, each once, with what follows from it."""

from __future__ import annotations

from typing import Any

WORDS = {
    "head": {
        "en": "In the last {hours} h the watcher investigated {n} problem(s): {roots} root failure(s){cascades}.",
        "pt": "Nas últimas {hours} h o watcher investigou {n} problema(s): {roots} falha(s) de origem{cascades}.",
    },
    "cascades": {"en": " and {n} that follow from them", "pt": " e {n} que decorrem delas"},
    "repeats": {
        "en": "; {n} more failed run(s) of the same jobs",
        "pt": "; mais {n} execução(ões) com falha dos mesmos jobs",
    },
    "late": {"en": "missed its deadline", "pt": "perdeu o prazo"},
    "blocks": {"en": "blocks {n} job(s)", "pt": "bloqueia {n} job(s)"},
    "follows": {"en": "then: {jobs}", "pt": "em seguida: {jobs}"},
    "again": {
        "en": "({n} failed runs: it failed again after a rerun)",
        "pt": "({n} execuções com falha: falhou de novo após reexecução)",
    },
    "nothing": {
        "en": "The watcher found nothing in the last {hours} h.",
        "pt": "O watcher não encontrou nada nas últimas {hours} h.",
    },
}
SEVERITY = {
    "critical": {"en": "CRITICAL", "pt": "CRÍTICO"},
    "high": {"en": "high", "pt": "alta"},
    "medium": {"en": "medium", "pt": "média"},
    "low": {"en": "low", "pt": "baixa"},
}


def digest(items: list[dict[str, Any]], lang: str, category_words: dict[str, dict[str, str]]) -> list[str]:
    """The digest's paragraphs (empty when there is no investigation item)."""
    if not items:
        return []
    item = items[0]
    hours, roots = item.get("hours"), item.get("roots") or []
    if not item.get("investigations"):
        return [WORDS["nothing"][lang].format(hours=hours)]
    cascades = WORDS["cascades"][lang].format(n=item["cascades"]) if item.get("cascades") else ""
    if item.get("repeats"):
        cascades += WORDS["repeats"][lang].format(n=item["repeats"])
    lines = [WORDS["head"][lang].format(hours=hours, n=item["investigations"], roots=len(roots), cascades=cascades)]
    for index, root in enumerate(roots[:8], start=1):
        what = (
            WORDS["late"][lang]
            if root["kind"] == "late"
            else f"{root['status']}"
            + (f" rc {root['return_code']}" if root.get("return_code") not in (None, 0) else "")
        )
        cause = category_words.get(root["category"], {}).get(lang, root["category"])
        parts = [f"{index}. **{root['job']}** — {what}, {cause} ({SEVERITY[root['severity']][lang]})"]
        if root.get("blocked_jobs"):
            parts.append(WORDS["blocks"][lang].format(n=root["blocked_jobs"]))
        line = "; ".join(parts) + "."
        if root.get("failures", 1) > 1:
            line += " " + WORDS["again"][lang].format(n=root["failures"])
        if root.get("evidence") and root["kind"] == "failure":  # (a late job's next step says it all)
            line += f"\n   > {root['evidence']}"
        line += "\n   → " + (root["next_step_pt"] if lang == "pt" else root["next_step"])
        if root.get("cascade"):
            line += "\n   " + WORDS["follows"][lang].format(jobs=", ".join(root["cascade"][:6]))
        lines.append(line)
    return ["\n".join(lines)]
