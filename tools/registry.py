"""The tool registry: ``@tool`` registers an async function with its permission, input schema and
tags; the catalog offers each caller only the tools its role may use, validates input before
anything runs, records every execution (PostgreSQL + Prometheus) and exports LangChain tools.

    @tool(permission=ToolPermission.READ_ONLY, input_schema=JobInput, tags=["monitoring"])
    async def get_job_status(job_name: str, ctx: ToolContext) -> dict: ...
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import logging
import pkgutil
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from langchain_core.tools import StructuredTool, ToolException
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.errors import GraphBubbleUp
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, ValidationError

from .context import ActionNotDone, ApprovalPending, ToolContext, WriteNotApproved
from .hwa import HWAError
from .roles import Role
from .store.approvals import ApprovalError
from .store.audit import AuditLog, execution_counts, execution_history
from .store.db import Pool

log = logging.getLogger(__name__)

TOOL_CALLS = Counter("resync_tool_executions_total", "Tool executions", ["tool", "outcome"])
TOOL_LATENCY = Histogram(
    "resync_tool_duration_seconds",
    "Tool execution time",
    ["tool"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SECRET_KEY = re.compile(r"pass|secret|token|api[_-]?key|credential|authorization", re.IGNORECASE)


class ToolPermission(StrEnum):
    READ_ONLY = "read_only"
    WRITE = "write"
    ADMIN = "admin"


ROLE_ALLOWS: dict[Role, frozenset[ToolPermission]] = {
    Role.VIEWER: frozenset({ToolPermission.READ_ONLY}),
    Role.OPERATOR: frozenset({ToolPermission.READ_ONLY, ToolPermission.WRITE}),
    Role.ADMIN: frozenset(ToolPermission),
}


def role_of(value: str | Role) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise ValueError(f"unknown role {value!r}: use viewer, operator or admin") from None


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    func: Callable[..., Awaitable[Any]]
    permission: ToolPermission
    input_schema: type[BaseModel]
    tags: tuple[str, ...]

    def allowed_for(self, role: str | Role) -> bool:
        return self.permission in ROLE_ALLOWS[role_of(role)]

    @functools.cached_property
    def takes_context(self) -> bool:
        """Whether the function wants the ``ctx`` argument (read once, not at every call)."""
        return "ctx" in inspect.signature(self.func).parameters


@dataclass
class ToolResult:
    tool: str
    outcome: str  # ok | error | invalid | refused | pending_approval | rejected | stale | failed | unknown
    data: Any = None
    error: str | None = None
    approval_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def for_model(self) -> str:
        if self.ok:
            data = self.data
            if isinstance(data, dict):  # bookkeeping (``_fetched_at``, ``_raw_tokens``) is not for the model
                data = {k: v for k, v in data.items() if not k.startswith("_")}
            return json.dumps(data, default=str, ensure_ascii=False)
        body = {"error": self.error, "outcome": self.outcome}
        if self.approval_id:
            body["approval_id"] = self.approval_id
        return json.dumps(body, ensure_ascii=False)


def mask(arguments: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if SECRET_KEY.search(k) else v) for k, v in arguments.items()}


# tool schemas by the identity of the tool specs they were made from (with the specs, kept alive)
_SCHEMAS: dict[tuple[int, ...], tuple[tuple[ToolSpec, ...], list[dict[str, Any]]]] = {}


@dataclass
class ToolCatalog:
    pool: Pool | None = None
    tools: dict[str, ToolSpec] = field(default_factory=dict)
    audit: AuditLog | None = None

    def recording_to(self, pool: Pool | None) -> ToolCatalog:
        """The same tools (registrations stay shared), recording executions in ``pool``: each app or
        test gets its own, and none changes the process-wide catalog. Close it (``aclose``) to write the
        audit rows still queued."""
        return ToolCatalog(pool=pool, tools=self.tools, audit=AuditLog(pool) if pool is not None else None)

    async def aclose(self) -> None:
        if self.audit is not None:
            await self.audit.aclose()

    # ---------------------------------------------------------------- registration and discovery
    def register(self, spec: ToolSpec) -> ToolSpec:
        existing = self.tools.get(spec.name)
        if existing is not None and existing.func is not spec.func:
            raise ValueError(f"a tool named {spec.name!r} is already registered ({existing.func.__module__})")
        self.tools[spec.name] = spec
        return spec

    def discover(self, modules: Iterable[str] = (), prefix: str = "resync_tools_") -> list[str]:
        """Import the named modules and every top-level module whose name starts with ``prefix``;
        their ``@tool`` functions register on import."""
        names = list(modules) + sorted(m.name for m in pkgutil.iter_modules() if m.name.startswith(prefix))
        loaded = []
        for name in dict.fromkeys(names):
            importlib.import_module(name)
            loaded.append(name)
        return loaded

    # ---------------------------------------------------------------- lookup
    def is_write(self, name: str) -> bool:
        """Whether the tool changes the scheduler (an unknown name does not)."""
        spec = self.tools.get(name)
        return spec is not None and spec.permission is ToolPermission.WRITE

    def get(self, name: str) -> ToolSpec:
        try:
            return self.tools[name]
        except KeyError:
            raise KeyError(f"no tool named {name!r}") from None

    def list_tools(self, role: str | Role | None = None, tags: Iterable[str] | None = None) -> list[ToolSpec]:
        wanted = set(tags or ())
        return [
            spec
            for spec in sorted(self.tools.values(), key=lambda s: s.name)
            if (role is None or spec.allowed_for(role)) and (not wanted or wanted & set(spec.tags))
        ]

    def as_langchain_tools(self, role: str | Role, context: ToolContext | None = None) -> list[StructuredTool]:
        """Real LangChain tools for ``bind_tools``; only those the role may use."""
        return [self._langchain_tool(spec, context) for spec in self.list_tools(role)]

    def tool_schemas(self, role: str | Role) -> list[dict[str, Any]]:
        """The role's tools as OpenAI tool schemas for ``bind_tools``: converted once per set of tools,
        not at every model call (the conversion builds a JSON schema per tool)."""
        specs = tuple(self.list_tools(role))
        key = tuple(id(spec) for spec in specs)
        held = _SCHEMAS.get(key)
        if held is None:  # the specs are kept with their schemas: their ids are not reused
            held = (specs, [convert_to_openai_tool(self._langchain_tool(spec, None)) for spec in specs])
            _SCHEMAS[key] = held
        return held[1]

    def _langchain_tool(self, spec: ToolSpec, context: ToolContext | None) -> StructuredTool:
        async def run(**kwargs: Any) -> str:
            if context is None:
                raise ToolException("this tool is offered for planning only: no context to run it")
            result = await self.execute(spec.name, kwargs, context)
            if not result.ok:
                raise ToolException(result.for_model())
            return result.for_model()

        return StructuredTool.from_function(
            coroutine=run,
            name=spec.name,
            description=spec.description,
            args_schema=spec.input_schema,
            handle_tool_error=True,
            handle_validation_error=_validation_message,
            metadata={"permission": spec.permission.value, "tags": list(spec.tags)},
        )

    # ---------------------------------------------------------------- execution
    async def execute(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        """Validate, check the role, run and record one tool call; never raises for a tool's own
        failure (the model gets a result it can act on), only for a graph interrupt."""
        started = time.perf_counter()
        spec = self.tools.get(name)
        if spec is None:
            result = ToolResult(name, "invalid", error=f"no tool named {name!r}; available: {', '.join(self.tools)}")
        elif not spec.allowed_for(ctx.role):
            result = ToolResult(
                name,
                "refused",
                error=f"role {ctx.role} may not use {name} (needs {spec.permission.value} permission)",
            )
        else:
            result = await self._run(spec, arguments, ctx)
        elapsed = time.perf_counter() - started
        TOOL_CALLS.labels(name, result.outcome).inc()
        TOOL_LATENCY.labels(name).observe(elapsed)
        await self._record(result, arguments, ctx, elapsed)
        return result

    async def _run(self, spec: ToolSpec, arguments: dict[str, Any], ctx: ToolContext) -> ToolResult:
        try:
            validated = spec.input_schema.model_validate(arguments)
        except ValidationError as exc:
            return ToolResult(spec.name, "invalid", error=_validation_message(exc))
        kwargs = validated.model_dump()
        if spec.takes_context:
            kwargs["ctx"] = ctx
        try:
            return ToolResult(spec.name, "ok", data=await spec.func(**kwargs), approval_id=ctx.approval_id)
        except GraphBubbleUp:
            raise  # interrupt(): the graph pauses here and re-runs this call on resume
        except ApprovalPending as exc:
            return ToolResult(spec.name, "pending_approval", error=str(exc), approval_id=exc.approval_id)
        except ActionNotDone as exc:  # rejected, expired, stale, failed, unknown, or a refused decision
            return ToolResult(
                spec.name, exc.outcome, data=exc.approval.result, error=str(exc), approval_id=exc.approval.id
            )
        except (ApprovalError, WriteNotApproved) as exc:
            return ToolResult(spec.name, "refused", error=str(exc), approval_id=ctx.approval_id)
        except (HWAError, ToolInputError, KeyError, ValueError) as exc:
            return ToolResult(spec.name, "error", error=str(exc), approval_id=ctx.approval_id)

    async def _record(self, result: ToolResult, arguments: dict[str, Any], ctx: ToolContext, elapsed: float) -> None:
        if self.audit is None:
            return
        row = (
            result.tool,
            ctx.caller,
            ctx.role,
            json.dumps(mask(arguments), default=str),
            elapsed * 1000,
            result.outcome,
            result.error,
            result.approval_id,
        )
        spec = self.tools.get(result.tool)
        if spec is not None and spec.permission is ToolPermission.READ_ONLY:
            self.audit.add(row)  # batched: a read costs no round trip of its own
        else:
            await self.audit.write(row)  # a write (or a refused call) is on record before it returns

    async def get_execution_history(self, limit: int = 50) -> list[dict[str, Any]]:
        if self.pool is None:
            return []
        if self.audit is not None:
            await self.audit.flush()  # what was queued is history too
        return await execution_history(self.pool, limit)

    async def stats(self) -> dict[str, Any]:
        if self.pool is None:
            return {"total_executions": 0, "by_tool": {}, "avg_duration_ms": 0.0, "error_rate": 0.0}
        if self.audit is not None:
            await self.audit.flush()
        rows = await execution_counts(self.pool)
        total = sum(r["n"] for r in rows)
        errors = sum(r["errors"] for r in rows)
        return {
            "total_executions": total,
            "by_tool": {
                r["tool"]: {"count": r["n"], "avg_duration_ms": round(r["avg_ms"], 2), "errors": r["errors"]}
                for r in rows
            },
            "avg_duration_ms": round(sum(r["avg_ms"] * r["n"] for r in rows) / total, 2) if total else 0.0,
            "error_rate": round(errors / total, 4) if total else 0.0,
        }


class ToolInputError(ValueError):
    """The input is valid in shape but not usable (ambiguous job name, action not allowed now…)."""


def _validation_message(exc: ValidationError) -> str:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors())
    return f"invalid arguments: {problems}. Correct them and call the tool again."


_CATALOG = ToolCatalog()


def get_tool_catalog() -> ToolCatalog:
    """The process-wide catalog every ``@tool`` registers into."""
    return _CATALOG


def tool(
    *,
    permission: ToolPermission = ToolPermission.READ_ONLY,
    input_schema: type[BaseModel],
    tags: Iterable[str] = (),
    name: str | None = None,
) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register an async function as a tool; its docstring is what the model reads."""

    def decorate(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"@tool needs an async def: {func.__qualname__}")
        doc = inspect.getdoc(func)
        if not doc:
            raise TypeError(f"@tool {func.__qualname__} needs a docstring: it is what the model reads")
        _CATALOG.register(
            ToolSpec(name or func.__name__, doc, func, ToolPermission(permission), input_schema, tuple(tags))
        )
        return func

    return decorate
