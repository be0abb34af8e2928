"""Answer templates of the offline model, in Portuguese and English, written from the ranked
context (tool results) of the run. Every claim comes from an item; sources are cited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.actions import ACTIONS, REQUEST_WORDS
from tools.causes import cause_for
from tools.diagnosis import diagnose
from tools.hwa.models import FAILED_STATUSES, WAITING_STATUSES

from ..classifier.rules import language_of
from .failures import cause_text, cause_words
from .pasted import said
from .phrases import (
    BRANCH_WORDS,
    CATEGORY_WORDS,
    T,
    in_language,
    model_down,
    outage_reason,
    t,
)
from .system import job_line
from .waiting import wait_text


def _by_branch(context: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in context:
        grouped.setdefault(item["branch"], []).append(item["data"])
    return grouped


def error_lines(log: str, limit: int = 4) -> list[str]:
    keys = ("ERROR", "FATAL", "Exception", "AWS", "No space", "Permission denied", "timed out", "could not", "killed")
    return [line for line in log.splitlines() if any(k in line for k in keys)][:limit]


Compose = Callable[[dict[str, list[dict[str, Any]]], str, dict[str, Any]], list[str]]


def render(
    query_type: str, lang: str, context: list[dict[str, Any]], meta: dict[str, Any], compose: Compose | None = None
) -> str:
    """The answer: the parts its capability composes (``compose``, from its declaration), then what
    every answer carries (inferred names, outages, partial reads, brevity)."""
    data = _by_branch(context)
    parts = compose(data, lang, meta) if compose is not None else [t("other", lang)]
    return _finish(parts, query_type, lang, meta)


Data = dict[str, list[dict[str, Any]]]


def statuses(data: Data) -> list[dict[str, Any]]:
    """The jobs' status reads; a cause read from a log belongs to that run's status line only (not
    another instance's, not a wait)."""
    status = [j for d in data.get("status", []) for j in d.get("jobs", [])]
    causes = {c.get("run_id"): c["diagnosis"] for c in data.get("cause", []) if c.get("diagnosis")}
    return [
        j | ({"cause": causes[j["run_id"]]} if j.get("run_id") in causes and j.get("status") in FAILED_STATUSES else {})
        for j in status
    ]


def status_lines(data: Data, meta: dict[str, Any], lang: str, with_cause: bool) -> list[str]:
    """A line per job (up to three): its state, what it means, whether it runs long, and (``with_cause``)
    the cause read from its failed run's log."""
    history = {h.get("job"): h for h in data.get("history", [])}
    return [
        f"{job_line(j, lang)}{cause_text(j, lang) if with_cause else ''}{_meaning(j, lang)}"
        f"{_long_runner(j, history.get(j.get('job')), meta, lang)}"
        for j in statuses(data)[:3]
    ]


def decisive_lines(data: Data, lang: str) -> list[str]:
    """Why the run failed, from its log: the decisive line as the diagnosis read it, else the lines
    that look like errors; nothing for a job still waiting (an older run's log is not why it waits)."""
    waiting = {j.get("job") for j in statuses(data) if j.get("status") in WAITING_STATUSES}
    parts = []
    for log in data.get("logs", [])[:1]:
        if log.get("job") in waiting:
            continue
        source = f"\n[log {log.get('job')} run {log.get('run_id')}]"
        if (found := log.get("diagnosis") or {}).get("line"):
            meaning = said(found, "meaning", lang)
            parts.append(t("error_lines", lang) + f"\n> {found['line_number']}: {found['line']}\n({meaning})" + source)
        elif lines := error_lines(log.get("log", "")):
            parts.append(t("error_lines", lang) + "\n" + "\n".join(f"> {line}" for line in lines) + source)
    return parts


def log_tails(data: Data, lang: str) -> list[str]:
    """The end of the job's log, as read."""
    return [
        t("log_of", lang, job=log.get("job"), run=log.get("run_id"), when=log.get("scheduled"))
        + f"\n```\n{log.get('log', '')[-2500:]}\n```"
        for log in data.get("logs", [])[:1]
    ]


def next_steps(data: Data, lang: str) -> list[str]:
    """The failed job's cause and next step — from its log's diagnosis, else from what its status and
    return code say — and the runbooks' passages when the reading is unsure (they list other causes)."""
    status = statuses(data)
    failed = next((j for j in status if j.get("status") in FAILED_STATUSES), None)
    parts: list[str] = []
    keywords: tuple[str, ...] = ()
    if failed:
        logs = data.get("logs", [])[:1]
        found = logs[0].get("diagnosis") if logs else None
        if not found:  # no failed run's log in the context: what the status and return code say
            reading = diagnose(None, failed.get("status"), failed.get("return_code"))
            found = {"category": reading.category, "next_step": reading.next_en, "next_step_pt": reading.next_pt}
        label = CATEGORY_WORDS[found["category"]][lang]
        parts.append(t("next_cause", lang, category=label, step=said(found, "next_step", lang)))
        keywords = cause_for(found["category"]).keywords
    failing = failed is not None or not status
    sure = any((log.get("diagnosis") or {}).get("confidence", 0) >= SURE for log in data.get("logs", []))
    if failing and not sure:  # waiting: the engine's reason says it, not the runbooks
        parts.extend(howto(data.get("knowledge", []), lang, brief=True, keywords=keywords))
    return parts


SURE = 0.5  # a diagnosis from a catalogued message (not the words' vote) answers without the runbooks
PRONOUNS = {"it"}  # what a follow-up's pronoun was read as (graph.classifier.follow_up)


def _finish(parts: list[str], query_type: str, lang: str, meta: dict[str, Any]) -> str:
    inferred = (meta.get("entities") or {}).get("inferred") or {}
    if query_type == "action" and inferred and not meta.get("tool_results"):
        parts = [
            t("inferred_pronoun" if w in PRONOUNS else "inferred_action", lang, written=w, read_as=r)
            for w, r in inferred.items()
        ]
    elif inferred:
        parts.insert(0, " ".join(t("inferred", lang, written=w, read_as=r) for w, r in inferred.items()))
    unanswered = [e for e in meta.get("errors", []) if e["branch"] == "status" and "no job named" not in e["error"]]
    if unanswered:  # an outage is never "not found"
        jobs = (meta.get("entities") or {}).get("jobs") or ["the job"]
        parts.insert(0, t("engine_down", lang, why=outage_reason(unanswered[0]["error"]), job=", ".join(jobs)))
    elif not parts and query_type in {"status", "logs", "dependencies", "history", "impact"}:
        parts.append(t("no_job", lang))
    failed_branches = sorted({e["branch"] for e in meta.get("errors", [])})
    if failed_branches:
        what = ", ".join(BRANCH_WORDS.get(b, {}).get(lang, b) for b in failed_branches)
        parts.append(t("partial", lang, what=what))
    if meta.get("style") == "brief":  # the essentials: the first two parts, three lines each
        parts = ["\n".join(p.splitlines()[:3]) for p in parts if p][:2]
    if not any(parts):  # never an empty answer: say what would help
        parts = [t("no_answer", lang)]
    if meta.get("model_failure"):  # composed here because the configured model did not answer
        parts.insert(0, model_down(meta["model_failure"], lang))
    return "\n\n".join(p for p in parts if p)


RELEASES_SUCCESSORS = {"cancel", "confirm"}  # the successors run (without the job's output)


def what_if(entities: dict[str, Any], status: list[dict[str, Any]], data: dict[str, Any], lang: str) -> list[str]:
    """What an action would do, from the action's own declaration and the job's successors: a cancel
    releases them, a hold or a kill keeps them waiting. Nothing is changed."""
    action = entities.get("action") or ""
    target = (entities.get("jobs") or [None])[0]  # the job the action names first; others are asked about
    mine = [j for j in status if j.get("job") == target] or status[:1]
    deps = [d for d in data.get("dependencies", []) if (d.get("job") or {}).get("job") == target]
    out = [job_line(j, lang) for j in mine[:1]] + dependencies(deps or data.get("dependencies", [])[:1], lang)
    declared = ACTIONS.get("confirm_succ" if action == "confirm" else action)
    if declared is not None:
        out.append(declared.consequence_for({"status": mine[0].get("status")} if mine else {}, lang))
    for read in data.get("rerun_logs", [])[:1]:  # would it help: the cause of its last failure says
        found = read.get("diagnosis")
        if found:
            words, helps = cause_words(found, lang)
            step = found.get("next_step_pt" if lang == "pt" else "next_step") or ""
            said = helps[:1].upper() + helps[1:]
            out.append(t("rerun_verdict", lang, helps=said, cause=words, line=found.get("line") or "?", step=step))
    if action not in RELEASES_SUCCESSORS:  # the successors wait for it: how many, which critical
        out.extend(impact([k for k in data.get("kg", []) if k.get("job") == target] or data.get("kg", []), lang))
    verb = REQUEST_WORDS.get(action, {}).get(lang, "")
    out.append(t("what_if", lang, verb=verb or "…", job=target or "…"))
    return out


def outcomes(items: list[dict[str, Any]], lang: str) -> list[str]:
    requests = [r for d in items for r in d.get("requests", [])]
    if not requests:
        return [t("no_requests", lang)]
    lines = [f"- {r['request']}: {r['status']} — {r['reason'] or '…'} (approval {r['approval_id']})" for r in requests]
    return [t("outcomes", lang) + "\n" + "\n".join(lines)]


def incidents(items: list[dict[str, Any]], lang: str, job: str | None = None) -> list[str]:
    """The job's own earlier failures apart from the same error on other jobs, each attributed."""
    incidents = [i for d in items for i in d.get("incidents", []) if i.get("match") == "signature"]
    if not incidents:
        return []
    own = [i for i in incidents if job and i.get("job") == job]
    others = [i for i in incidents if i not in own]
    out = []
    if own:
        out.append(t("similar", lang, job=job, n=len(own), sig=own[0]["signature"]) + f" [incident {own[0]['run_id']}]")
    if others:
        named = ", ".join(f"{i['job']} ({str(i.get('when') or '')[:10]})" for i in others[:4])
        out.append(t("similar_other", lang, jobs=named) + f" [incident {others[0]['run_id']}]")
    resolved = next((i for i in incidents if i.get("resolutions")), None)
    if resolved:
        fix = resolved["resolutions"][0]
        out.append(
            t("resolution", lang, text=fix["resolution"], who=fix["author"]) + f" [incident {resolved['run_id']}]"
        )
    return out


def impact(items: list[dict[str, Any]], lang: str) -> list[str]:
    for impact in items[:1]:
        critical = impact.get("critical") or []
        extra = t("critical", lang, n=len(critical), names=", ".join(critical[:5])) if critical else ""
        nearest = sorted(impact.get("sample") or [], key=lambda n: n.get("depth") or 0)
        names = ", ".join(dict.fromkeys(n["job"] for n in nearest[:5] if n.get("job")))
        first = t("first_blocked", lang, names=names) if names else ""
        return [t("impact", lang, n=impact.get("blocked_jobs", 0), critical=extra, first=first)]
    return []


def dependencies(items: list[dict[str, Any]], lang: str) -> list[str]:
    out = []
    for deps in items[:1]:
        waits = ", ".join(f"{d['name']} [{d['status']}]" for d in deps.get("waits_for", [])[:10]) or t("nothing", lang)
        needed = ", ".join(f"{d['name']} [{d['status']}]" for d in deps.get("needed_by", [])[:10]) or t("nothing", lang)
        out += [t("waits_for", lang, items=waits), t("needed_by", lang, items=needed)]
    return out


def _meaning(job: dict[str, Any], lang: str) -> str:
    """What a waiting or pending status means for the operator (ABEND/FAIL are explained by cause),
    and the instance's own failed runs before its last one."""
    return _said_status(job, lang) + _failed_before(job, lang)


def _failed_before(job: dict[str, Any], lang: str) -> str:
    earlier = job.get("failed_before") or []
    if not earlier:
        return ""
    runs = ", ".join(f"{r['status']} rc {r['return_code']} {r.get('ended') or ''}".strip() for r in earlier)
    return "\n" + t("failed_before", lang, n=len(earlier), runs=runs)


def _said_status(job: dict[str, Any], lang: str) -> str:
    if said_wait := wait_text(job, lang):  # the engine's own reason
        return f"\n{said_wait}"
    key = f"means_{job.get('status')}"
    return f"\n{t(key, lang)}" if key in T else ""


def _long_runner(job: dict[str, Any], history: dict[str, Any] | None, meta: dict[str, Any], lang: str) -> str:
    """A running job far past its usual duration (median of its recent successful runs) is said so."""
    if job.get("status") != "EXEC" or not history or not job.get("started") or not meta.get("now"):
        return ""
    usual = sorted(d for r in history.get("runs", []) if r.get("status") == "SUCC" and (d := run_seconds(r)))
    if not usual:
        return ""
    median = usual[len(usual) // 2]
    elapsed = run_seconds({"started_at": job["started"], "ended_at": meta["now"]})
    if elapsed is None or elapsed < max(3 * median, median + 1800):
        return ""
    return "\n" + t("long_runner", lang, elapsed=minutes_text(elapsed), usual=minutes_text(median))


def minutes_text(seconds: float) -> str:
    """A duration as an operator says it: "45 s", "12 min", "2 h 05 min"."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 90 else f"{minutes // 60} h {minutes % 60:02d} min"


def run_seconds(run: dict[str, Any]) -> float | None:
    from datetime import datetime

    try:
        start = datetime.fromisoformat(str(run.get("started_at")))
        end = datetime.fromisoformat(str(run.get("ended_at")))
    except ValueError:
        return None
    return (end - start).total_seconds()


def critical_list(items: list[dict[str, Any]], lang: str) -> list[str]:
    for critical in items[:1]:
        jobs = critical.get("jobs") or []
        if not jobs:
            return [t("critical_none", lang, total=critical.get("total", 0))]
        lines = [f"- {job_line(j, lang)}" for j in jobs[:10]]
        head = t("critical_head", lang, at_risk=critical.get("at_risk", len(jobs)), total=critical.get("total", 0))
        return [head + "\n" + "\n".join(lines)]
    return []


def howto(items: list[dict[str, Any]], lang: str, brief: bool, keywords: tuple[str, ...] = ()) -> list[str]:
    found = [p for d in items for p in d.get("passages", [])]
    if keywords:  # passages about the cause first
        found.sort(key=lambda p: not any(k.lower() in p["text"].lower() for k in keywords))
    passages = [p for p in found if language_of(p["text"]) == lang] + [
        p for p in found if language_of(p["text"]) != lang
    ]  # the user's language first; a passage in the other language only when none matches
    if not passages:
        return [] if brief else [t("no_docs", lang)]
    chosen = passages[:1] if brief else passages[:2]
    body = "\n\n".join(f"{p['text'][:700].strip()}\n[runbook {p['source']}]" for p in chosen)
    return [f"{t('howto', lang)}\n\n{body}"]


def action_parts(meta: dict[str, Any], lang: str) -> list[str]:
    results = meta.get("tool_results", [])
    if meta.get("denied"):
        denied = meta["denied"]
        return [
            t(
                "action_denied",
                lang,
                role=denied["role"],
                action=REQUEST_WORDS[denied["action"]][lang],
                job=denied["job"],
            )
        ]
    if meta.get("missing_job"):
        return [t("which_job", lang, action=REQUEST_WORDS[meta["missing_job"]][lang])]
    entities = meta.get("entities") or {}
    if not results and entities.get("job_streams") and entities.get("action") and not entities.get("jobs"):
        verb = REQUEST_WORDS.get(entities["action"], {}).get(lang, entities["action"])
        return [t("stream_nothing", lang, stream=", ".join(entities["job_streams"]), verb=verb)]
    out = []
    for result in results:
        outcome = result.get("outcome")
        if outcome == "ok" and isinstance(result.get("data"), dict):
            now = result["data"].get("job_now") or {}
            out.append(t("action_done", lang, done=result["data"]["done"], status=now.get("status", "?")))
        elif outcome == "pending_approval":
            out.append(t("action_pending", lang, id=result.get("approval_id")))
        elif outcome in {"stale", "failed", "unknown"}:
            out.append(t(f"action_{outcome}", lang, why=result.get("error") or outcome))
        else:
            out.append(t("action_rejected", lang, why=in_language(result.get("error") or outcome, lang)))
    return out
