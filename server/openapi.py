"""The API's contract kept exact: an unknown query parameter is refused (a typo such as ``?hour=24``
is never silently ignored), and the OpenAPI document says what the server enforces — an optional
query parameter is its type (a query string cannot carry null: omitting it is the null), free-text
parameters refuse NUL (the edge does), one documented way to send the key."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.requests import HTTPConnection

from .schemas import TEXT_PATTERN

NO_NUL = "^[^\\u0000]*$"


def query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter a route reads, its dependencies' included."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= query_names(sub)
    return frozenset(names)


async def no_unknown_query(conn: HTTPConnection) -> None:
    """A dependency of every route: 422 naming the query parameters the route does not know."""
    route = conn.scope.get("route")
    if conn.scope["type"] != "http" or not isinstance(route, APIRoute):
        return
    known: frozenset[str] | None = getattr(route, "_query_names", None)
    if known is None:  # walked once per route, kept on it
        known = query_names(route.dependant)
        route._query_names = known  # type: ignore[attr-defined]
    unknown = sorted(set(conn.query_params) - known)
    if unknown:
        allowed = ", ".join(sorted(known)) or "none"
        raise HTTPException(422, detail=f"unknown query parameter {', '.join(unknown)} (allowed: {allowed})")


def _tidy_parameter(schema: dict[str, Any]) -> None:
    kept = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if "anyOf" in schema and len(kept) == 1:
        del schema["anyOf"]
        schema.update(kept[0])
    if schema.get("type") == "string" and not {"pattern", "enum", "format", "const"} & schema.keys():
        schema["pattern"] = NO_NUL


def _tidy_multipart(document: dict[str, Any]) -> None:
    """An uploaded document is one non-empty part: UTF-8 text without control characters (Markdown,
    plain text) with or without a file name, or a PDF by its name and header (the description says so)."""
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        if not name.startswith("Body_"):
            continue
        schema["additionalProperties"] = False
        for prop in schema.get("properties", {}).values():
            kinds = prop.get("anyOf", [prop])
            if kinds and all(k.get("type") == "string" for k in kinds) and any("contentMediaType" in k for k in kinds):
                prop.pop("anyOf", None)
                prop.update({"type": "string", "minLength": 1, "pattern": TEXT_PATTERN})


def exact_openapi(app: FastAPI) -> None:
    """Post-process the generated document once (see the module's docstring)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = generate()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                    if parameter.get("in") in {"query", "path"}:
                        _tidy_parameter(parameter.get("schema", {}))
        _tidy_multipart(document)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
