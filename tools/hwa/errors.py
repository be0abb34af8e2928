"""Typed errors of the HWA client: what went wrong, with the engine's own message when it sent one."""

from __future__ import annotations


class HWAError(Exception):
    """Base class: ``status`` is the HTTP status (None for transport errors)."""

    retryable = False

    def __init__(self, message: str, status: int | None = None, messages: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.messages = messages or []


class HWABadRequest(HWAError):
    """400: the engine refused the request (invalid filter, action not allowed in this state…)."""


class HWAUnauthorized(HWAError):
    """401: missing or wrong credentials."""


class HWAForbidden(HWAError):
    """403: the user may not do this (e.g. a read-only user asking for an action)."""


class HWANotFound(HWAError):
    """404: no such job, run, job stream or workstation in the plan."""


class HWAConflict(HWAError):
    """409: the object already exists where it was to be added."""


class HWAUnavailable(HWAError):
    """The engine could not answer: 5xx, connection refused, or the circuit breaker is open."""

    retryable = True


class HWATimeout(HWAUnavailable):
    """The engine did not answer within the read timeout (not retried: it would only wait longer)."""

    retryable = False


class HWACircuitOpen(HWAUnavailable):
    """Too many recent failures: calls fail fast until the breaker lets a trial call through."""

    retryable = False


class HWAQueryError(ValueError):
    """An OQL query could not be built safely (unknown field, control characters…)."""


def error_for_status(status: int, messages: list[str], fallback: str) -> HWAError:
    text = "; ".join(messages) or fallback
    kinds: dict[int, type[HWAError]] = {
        400: HWABadRequest,
        401: HWAUnauthorized,
        403: HWAForbidden,
        404: HWANotFound,
        409: HWAConflict,
    }
    kind = kinds.get(status, HWAUnavailable if status >= 500 else HWAError)
    return kind(f"HTTP {status}: {text}", status, messages)
