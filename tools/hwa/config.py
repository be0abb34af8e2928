"""Client settings, audit justification, the job-action vocabulary and small request helpers."""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx

from .errors import HWAError


class JobAction(StrEnum):
    HOLD = "hold"
    RELEASE = "release"
    CANCEL = "cancel"
    CANCEL_PENDING = "cancel-pending"
    KILL = "kill"
    CONFIRM_SUCC = "confirm-succ"
    CONFIRM_ABEND = "confirm-abend"
    RELEASE_ALL_DEPENDENCIES = "release-all-dependencies"


@dataclass(frozen=True)
class Justification:
    """The engine's audit headers for a mutating call."""

    category: str | None = None
    description: str | None = None
    ticket_number: str | None = None

    def headers(self) -> dict[str, str]:
        values = {
            "Justification-Category": self.category,
            "Justification-Description": self.description,
            "Justification-Ticket-Num": self.ticket_number,
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class HWAClientConfig:
    base_url: str
    username: str | None = None
    password: str | None = None
    api_key: str | None = None
    verify_tls: bool = True
    ca_bundle: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_retries: int = 3
    backoff_initial: float = 0.2
    backoff_max: float = 3.0
    breaker_threshold: int = 5
    breaker_reset_seconds: float = 30.0
    page_size: int = 500
    max_connections: int = 32  # to the engine, all kept alive; more requests at once wait for one


def tls(config: HWAClientConfig) -> ssl.SSLContext | bool:
    if config.ca_bundle:
        return ssl.create_default_context(cafile=config.ca_bundle)
    return config.verify_tls


def auth_headers(config: HWAClientConfig) -> tuple[httpx.Auth | None, dict[str, str]]:
    if config.api_key:
        return None, {"Authorization": f"Bearer {config.api_key}"}
    if config.username:
        return httpx.BasicAuth(config.username, config.password or ""), {}
    return None, {}


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, HWAError) and exc.retryable


def engine_messages(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except ValueError:
        return [response.text[:500]] if response.text else []
    if isinstance(body, dict) and isinstance(body.get("messages"), list):
        return [str(m) for m in body["messages"]]
    return [str(body)[:500]]


def clean_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (params or {}).items() if v is not None and v != ""}


def audit(justification: Justification | None) -> dict[str, str]:
    return justification.headers() if justification else {}


def segment(identifier: str) -> str:
    """Ids go in the path: refuse anything that could change the path."""
    if not identifier or any(ch in identifier for ch in "/?#%\\") or identifier in {".", ".."}:
        raise ValueError(f"invalid identifier {identifier!r}")
    return identifier


def ws_key(workstation: str) -> str:
    return workstation if workstation.startswith("/") else f"/{workstation}"
