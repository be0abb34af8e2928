"""The plan's state as an answer says it: the engine and its workstations, job streams past their
deadline, jobs waiting for an operator's confirmation (health questions, the handover, the triage of
what is stuck, a workstation's or a stream's question)."""

from __future__ import annotations

from typing import Any

from .phrases import t


def job_line(job: dict[str, Any], lang: str) -> str:
    shown = job.get("return_code") is not None and (job.get("return_code") != 0 or job.get("status") == "PEND")
    rc = t("rc", lang, rc=job["return_code"]) if shown else ""  # a PEND job's code is what it is confirmed on
    if job.get("status") == "FAIL":  # it never started: no run time to report
        times = t("never_started", lang, at=job.get("ended") or job.get("started") or "?")
    elif job.get("started") and job.get("ended"):
        times = t("times", lang, start=job["started"], end=job["ended"])
    elif job.get("started"):
        times = t("started", lang, start=job["started"])
    else:
        times = ""
    return t(
        "job_line",
        lang,
        job=job["job"],
        ws=job["workstation"],
        stream=job["job_stream"],
        status=job["status"],
        rc=rc,
        times=times,
    )


def health_lines(health: list[dict[str, Any]], stations: list[dict[str, Any]], lang: str) -> list[str]:
    out = []
    for h in health[:1]:
        unlinked = h["workstations"]["unlinked"]
        names = t("unlinked", lang, names=", ".join(unlinked)) if unlinked else t("all_linked", lang)
        out.append(
            t(
                "health",
                lang,
                status=h["status"],
                version=h["engine"]["version"],
                total=h["jobs"]["total"],
                failed=h["jobs"]["failed"],
                unlinked=names,
            )
        )
    for group in stations[:1]:
        for ws in group.get("workstations", []):
            state = t("linked", lang) if ws["linked"] else t("not_linked", lang)
            names = f": {', '.join(ws['ready_jobs'])}" if ws.get("ready_jobs") else ""
            out.append(
                t("ws_line", lang, name=ws["name"], state=state, ready=ws.get("jobs_ready_waiting", 0), names=names)
            )
    return out


def late_stream_lines(reads: list[dict[str, Any]], lang: str) -> list[str]:
    for read in reads[:1]:
        late = read.get("late") or []
        if not late:
            return [t("none_late", lang)]
        lines = [
            t(
                "late_stream",
                lang,
                stream=s["stream"],
                ws=s.get("workstation"),
                status=s.get("status"),
                deadline=s.get("deadline"),
                holding=t("late_holding", lang, names=", ".join(s["holding"])) if s.get("holding") else "",
            )
            for s in late[:10]
        ]
        return [t("late_streams", lang, n=len(late)) + "\n" + "\n".join(lines)]
    return []


def confirmation_lines(reads: list[dict[str, Any]], lang: str) -> list[str]:
    """The PEND jobs, one line each; nothing when none waits."""
    for read in reads[:1]:
        jobs = read.get("jobs") or []
        if jobs:
            lines = [f"- {job_line(j, lang)}" for j in jobs[:10]]
            return [t("confirm", lang, n=read.get("count", len(jobs))) + "\n" + "\n".join(lines)]
    return []
