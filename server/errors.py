"""Errors as JSON ``{detail, request_id}`` (``schemas.ErrorBody``), never a trace or SQL; outages of
a part Resync depends on as a fast 503 with Retry-After; and the OpenAPI document saying so."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from .outages import OUTAGES, RETRY_AFTER_SECONDS, outage_reason
from .schemas import ErrorBody

log = logging.getLogger("resync")
PUBLIC_PATHS = frozenset({"/metrics"})


def _body(request: Request, detail: Any) -> dict[str, Any]:
    return {"detail": detail, "request_id": getattr(request.state, "request_id", None)}


def install_errors(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def httperror_response(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(_body(request, exc.detail), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return JSONResponse(_body(request, problems), status_code=422)

    async def outage(request: Request, exc: Exception) -> JSONResponse:
        log.warning("dependency outage: %s: %s", type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "")
        return JSONResponse(
            _body(request, outage_reason(exc)), status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    for kind in OUTAGES:
        app.add_exception_handler(kind, outage)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"request_id": getattr(request.state, "request_id", None)})
        body = _body(request, f"internal error ({type(exc).__name__}); see the server log")
        # answered outside the edge middleware (Starlette's server-error layer): the id is added here
        return JSONResponse(body, 500, headers={"X-Request-ID": body["request_id"] or ""})


def error_response(description: str) -> dict[str, Any]:
    """An OpenAPI response entry whose body is ``ErrorBody``."""
    return {"model": ErrorBody, "description": description}


COMMON: dict[int | str, Any] = {
    400: error_response("a malformed request: NUL in the URL, a body that is not UTF-8"),
    422: error_response("invalid input: one line per field (location: problem)"),
}
AUTHENTICATED: dict[int | str, Any] = {
    401: error_response("missing, invalid or revoked API key"),
    403: error_response("the key's role may not do this (or the thread is another user's)"),
    429: {**error_response("rate limit per key"), "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
    503: {**error_response("the database is unavailable"), "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
}
WITH_BODY: dict[int | str, Any] = {
    413: error_response("the request body is larger than the limit (MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES)")
}


def document_errors(router: APIRouter) -> None:
    """Every route's OpenAPI entry lists the errors it can answer, with their real body (ErrorBody)."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.path in PUBLIC_PATHS:  # /metrics: text, no params
            continue
        extra: dict[int | str, Any] = COMMON | AUTHENTICATED
        if (route.methods or set()) & {"POST", "PUT", "PATCH"}:
            extra |= WITH_BODY
        route.responses = {**extra, **route.responses}
