"""Failed runs as an answer says them: the failure list (with what happened next and, once read,
each job's cause) and a cause in words — the category and whether a plain rerun helps."""

from __future__ import annotations

from typing import Any

from .phrases import CATEGORY_WORDS, DAY_WORDS, RERUN_HELPS, t
from .system import job_line


def failed_reads(data: dict[str, list[dict[str, Any]]], plain: str = "failed") -> list[dict[str, Any]]:
    """The failure list to say: the one read with each job's cause (``failed_causes``) when it came
    back, its jobs' causes laid on the ``plain`` one (which may carry more, e.g. what each blocks)."""
    with_causes = data.get("failed_causes") or []
    if not with_causes:
        return data.get(plain, [])
    if not data.get(plain):
        return with_causes
    found = {r["run_id"]: r["cause"] for d in with_causes for r in d.get("jobs", []) if r.get("cause")}
    return [
        d | {"jobs": [r | ({"cause": found[r["run_id"]]} if r["run_id"] in found else {}) for r in d.get("jobs", [])]}
        for d in data[plain]
    ]


def failed_list(items: list[dict[str, Any]], lang: str) -> list[str]:
    for failed in items[:1]:
        jobs = failed.get("jobs", [])
        day = failed.get("day")
        where = t("on_workstation", lang, ws=failed["workstation"]) if failed.get("workstation") else ""
        span = {"day": DAY_WORDS[day["name"]][lang], "start": day["start"], "end": day["end"]} if day else {}
        if not jobs:
            return [
                t("none_failed_day", lang, where=where, **span)
                if day
                else t("none_failed", lang, h=failed.get("hours"))
            ]
        lines = [f"- {job_line(j, lang)}{_what_next(j, lang)}" for j in jobs[:15]]
        n = failed.get("count", len(jobs))
        still = failed.get("still_failed", sum(bool(j.get("still_failed")) for j in jobs))
        if day:
            head = t("failed_day", lang, n=n, still=still, where=where, **span)
        else:
            head = t("failed_count", lang, n=n, h=failed.get("hours"), still=still) + (
                f" {where.strip()}" if where else ""
            )
        return [head + "\n" + "\n".join(lines)]
    return []


def cause_words(cause: dict[str, Any], lang: str) -> tuple[str, str]:
    """(the category in words, whether a plain rerun helps) of a diagnosis, in the answer's language."""
    words = CATEGORY_WORDS.get(cause["category"], CATEGORY_WORDS["unknown"])[lang]
    helps = RERUN_HELPS.get(cause.get("rerun_helps") or "unknown", RERUN_HELPS["unknown"])[lang]
    return words, helps


def cause_text(run: dict[str, Any], lang: str) -> str:
    """`` — cause: missing input (`ERROR: file not found…`); a rerun fails the same way…`` for a run
    whose log was read (``cause``), else ""."""
    cause = run.get("cause")
    if not cause:
        return ""
    line = f" (`{cause['line'][:100]}`)" if cause.get("line") else ""
    words, helps = cause_words(cause, lang)
    return (" — causa: " if lang == "pt" else " — cause: ") + f"{words}{line}; {helps}"


def _what_next(run: dict[str, Any], lang: str) -> str:
    after = run.get("next")
    if after is None:
        return (t("still_failed", lang) + cause_text(run, lang)) if run.get("still_failed") else ""
    at = after.get("started") or "?"
    if after.get("status") == "SUCC":
        return t("recovered", lang, at=at)
    return t("rerun_then", lang, at=at, status=after.get("status"))
