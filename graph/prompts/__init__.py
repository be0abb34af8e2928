"""Versioned prompt files and their loader."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

FOLDER = Path(__file__).resolve().parent


@lru_cache(maxsize=32)
def _load(name: str) -> dict[str, Any]:
    path = FOLDER / f"{name}.yaml"
    if not path.is_file():
        raise KeyError(f"no prompt file {name}.yaml; versions: {', '.join(available_versions())}")
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def available_versions() -> list[str]:
    return sorted(p.stem.removeprefix("tws-agent-system-") for p in FOLDER.glob("tws-agent-system-*.yaml"))


def system_prompt(version: str, language: str, query_type: str) -> str:
    """The system prompt of ``version`` (v1, v2…) with the query type's instruction, in the language."""
    base = _load(f"tws-agent-system-{version}")["text"][language]
    per_type = _load("query-types").get(query_type, {}).get(language, "")
    return f"{base.strip()}\n\n{per_type}".strip()
