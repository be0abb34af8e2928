"""The engine's and the workstations' state as an answer says it (health questions, the handover,
a workstation's question)."""

from __future__ import annotations

from typing import Any

from .phrases import t


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
