"""Async client of the HWA REST v2 API (``/twsd/api/v2``), the one way the app talks to the scheduler.

Retries with backoff on idempotent GETs only (never on PUT: an action must not run twice), a
circuit breaker that fails fast while the engine is down, typed errors, and pagination.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx
from purgatory import AsyncCircuitBreakerFactory
from purgatory.domain.model import OpenedState
from pydantic import BaseModel, TypeAdapter
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from . import oql
from .config import (
    HWAClientConfig,
    JobAction,
    Justification,
    audit,
    auth_headers,
    clean_params,
    engine_messages,
    is_retryable,
    segment,
    tls,
    ws_key,
)
from .errors import (
    HWABadRequest,
    HWACircuitOpen,
    HWAConflict,
    HWAForbidden,
    HWANotFound,
    HWATimeout,
    HWAUnauthorized,
    HWAUnavailable,
    error_for_status,
)
from .models import (
    ActionResult,
    ConfigValue,
    Dependency,
    EngineInfo,
    FilterActionResult,
    FlowNode,
    GroupedCount,
    JobInPlan,
    JobStreamInPlan,
    Page,
    WorkstationInPlan,
    parse_flow_node,
)
from .reads import ReadMemo, WriteNotApproved, memoized

API_PREFIX = "/twsd/api/v2"
DEPENDENCIES = TypeAdapter(list[Dependency])
M = TypeVar("M", bound=BaseModel)


class HWAClient:
    """One client per engine; share it (it pools connections). Use ``async with`` or ``aclose()``."""

    def __init__(self, config: HWAClientConfig, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        auth, headers = auth_headers(config)
        self._http = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/") + API_PREFIX,
            auth=auth,
            headers={"Accept": "application/json", **headers},
            verify=tls(config),
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            transport=transport,
            # every connection kept: one past httpx's 20 kept would be closed after each use (and the pool,
            # scanned on every request, costs with its size: callers bound their own concurrency)
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=config.max_connections
            ),
        )
        self._breakers = AsyncCircuitBreakerFactory(
            default_threshold=config.breaker_threshold,
            default_ttl=config.breaker_reset_seconds,
            exclude=[HWABadRequest, HWAUnauthorized, HWAForbidden, HWANotFound, HWAConflict],
        )
        self.memo: ReadMemo | None = None  # a view's reads, each sent once per run (``view``)
        self.read_only = False

    def view(self, memo: ReadMemo | None = None) -> HWAClient:
        """This client as one run's tools see it — the same connections, retries and breaker: every
        write refused (``WriteNotApproved``; only the approval executor writes), reads memoized."""
        view = copy.copy(self)
        view.memo, view.read_only = memo, True
        return view

    async def __aenter__(self) -> HWAClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def breaker_state(self) -> str:
        """``closed`` (normal), ``opened`` (failing fast) or ``half-opened`` (trying again)."""
        breaker = await self._breakers.get_breaker("hwa")
        return str(breaker.context.state)

    # ------------------------------------------------------------------ transport
    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            breaker = await self._breakers.get_breaker("hwa")
            async with breaker:
                return await self._send_once(method, path, **kwargs)
        except OpenedState as exc:
            raise HWACircuitOpen("the scheduler is failing: circuit breaker open, not calling it for now") from exc

    async def _send_once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            kind = HWAUnavailable if isinstance(exc, httpx.ConnectTimeout) else HWATimeout
            raise kind(f"the scheduler did not answer in time ({type(exc).__name__}) on {method} {path}") from exc
        except httpx.TransportError as exc:
            raise HWAUnavailable(f"cannot reach the scheduler at {self.config.base_url}: {exc}") from exc
        if response.status_code >= 400:
            raise error_for_status(response.status_code, engine_messages(response), response.reason_phrase)
        return response

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if method != "GET" and self.read_only:
            raise WriteNotApproved(f"{method} {path}: tools cannot write to the scheduler; ask for an approval")
        if method != "GET":
            return await self._send(method, path, **kwargs)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_retries + 1),
            wait=wait_exponential_jitter(
                multiplier=self.config.backoff_initial,
                max=self.config.backoff_max,
                jitter=self.config.backoff_initial,
            ),
            retry=retry_if_exception(is_retryable),
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send(method, path, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _get(self, path: str, model: type[M], params: Mapping[str, Any] | None = None, **kwargs: Any) -> M:
        response = await self._request("GET", path, params=clean_params(params), **kwargs)
        return model.model_validate(response.json())

    async def _page(self, path: str, model: type[M], params: Mapping[str, Any]) -> Page[M]:
        response = await self._request("GET", path, params=clean_params(params), headers={"Include-Count": "true"})
        body = response.json()
        return Page[model](  # type: ignore[valid-type]
            count=body.get("count"),
            results=[model.model_validate(item) for item in body.get("results", [])],
            next=body.get("next"),
            previous=body.get("previous"),
        )

    # ------------------------------------------------------------------ jobs in plan
    async def query_jobs(
        self,
        oql_text: str | None = None,
        plan_filter: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[JobInPlan]:
        params = {
            "oql": oql_text,
            "plan_filter": plan_filter,
            "limit": limit or self.config.page_size,
            "offset": offset,
        }
        return await self._page("/plan/job", JobInPlan, params)

    async def _iterate(
        self, query: Callable[..., Awaitable[Page[Any]]], *args: Any, page_size: int | None
    ) -> AsyncIterator[Any]:
        """Every result of a paginated query (``offset`` advanced while the engine says ``next``)."""
        offset, size = 0, page_size or self.config.page_size
        while True:
            page = await query(*args, limit=size, offset=offset)
            for item in page.results:
                yield item
            offset += len(page.results)
            if not page.next or not page.results:
                return

    def iter_jobs(
        self, oql_text: str | None = None, plan_filter: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[JobInPlan]:
        """Every matching job, page by page."""
        return self._iterate(self.query_jobs, oql_text, plan_filter, page_size=page_size)

    def iter_job_streams(
        self, oql_text: str | None = None, plan_filter: str | None = None, page_size: int | None = None
    ) -> AsyncIterator[JobStreamInPlan]:
        """Every matching job stream, page by page."""
        return self._iterate(self.query_job_streams, oql_text, plan_filter, page_size=page_size)

    @memoized
    async def find_jobs(
        self, name: str, workstation: str | None = None, job_stream: str | None = None
    ) -> list[JobInPlan]:
        """Jobs with exactly this name (newest schedule first), optionally on a workstation/job stream."""
        where = oql.all_of(
            oql.field("name").eq(name),
            oql.field("workstation").eq(ws_key(workstation)) if workstation else None,
            oql.field("jobStreamName").eq(job_stream) if job_stream else None,
        )
        text = oql.query(where, order_by="schedTime", descending=True)
        return [job async for job in self.iter_jobs(text)]

    @memoized
    async def failed_jobs(self, since: datetime | None = None) -> list[JobInPlan]:
        """Jobs whose latest run is ABEND or FAIL (ended after ``since`` when given)."""
        where = oql.all_of(
            oql.field("jobruns.compositeStatus.status").in_(["ABEND", "FAIL"]),
            oql.field("jobruns.timeInfo.actualEndTime").ge(since) if since else None,
        )
        jobs = [job async for job in self.iter_jobs(oql.query(where, order_by="schedTime", descending=True))]
        return [job for job in jobs if job.is_failed]

    @memoized
    async def jobs_with_failed_runs(self, since: datetime) -> list[JobInPlan]:
        """Jobs with any run in ABEND or FAIL and any run ended after ``since`` (multi-valued fields
        match on any run): the caller picks the runs that did both. Reruns that recovered included."""
        where = oql.all_of(
            oql.field("jobruns.compositeStatus.status").in_(["ABEND", "FAIL"]),
            oql.field("jobruns.timeInfo.actualEndTime").ge(since),
        )
        return [job async for job in self.iter_jobs(oql.query(where, order_by="schedTime", descending=True))]

    @memoized
    async def get_job(self, job_id: str) -> JobInPlan:
        return await self._get(f"/plan/job/{segment(job_id)}", JobInPlan)

    async def _flow_nodes(self, job_id: str, direction: str, depth: int) -> list[FlowNode]:
        response = await self._request("GET", f"/plan/job/{segment(job_id)}/{direction}", params={"depth": depth})
        return [parse_flow_node(item) for item in response.json().get("results", [])]

    @memoized
    async def job_predecessors(self, job_id: str, depth: int = 1) -> list[FlowNode]:
        return await self._flow_nodes(job_id, "predecessors", depth)

    @memoized
    async def job_successors(self, job_id: str, depth: int = 1) -> list[FlowNode]:
        return await self._flow_nodes(job_id, "successors", depth)

    @memoized
    async def count_jobs(
        self, grouping: tuple[str, ...] = ("status",), plan_filter: str = "/@/@#/@/@.@"
    ) -> GroupedCount:
        params = {"plan_filter": plan_filter, "grouping_filters": ",".join(grouping) or None}
        return await self._get("/plan/job/count", GroupedCount, params)

    @memoized
    async def job_log(
        self,
        run_id: str,
        content_only: bool = False,
        from_line: int | None = None,
        to_line: int | None = None,
    ) -> str:
        """The stdlist of one run (``jobruns[].id``) as text."""
        params = {"contentOnly": str(content_only).lower(), "from_line": from_line, "to_line": to_line}
        response = await self._request(
            "GET",
            f"/plan/job/run/{segment(run_id)}/joblog",
            params=clean_params(params),
            headers={"Accept": "text/plain"},
        )
        return response.text

    async def job_log_by_filter(
        self,
        oql_text: str,
        content_only: bool = False,
        from_line: int | None = None,
        to_line: int | None = None,
    ) -> str:
        params = {
            "oql": oql_text,
            "contentOnly": str(content_only).lower(),
            "from_line": from_line,
            "to_line": to_line,
        }
        response = await self._request(
            "GET", "/plan/job/joblog", params=clean_params(params), headers={"Accept": "text/plain"}
        )
        return response.text

    # ------------------------------------------------------------------ actions (never retried)
    async def job_action(
        self, job_id: str, action: JobAction, justification: Justification | None = None
    ) -> ActionResult:
        response = await self._request(
            "PUT",
            f"/plan/job/{segment(job_id)}/action/{JobAction(action).value}",
            headers=audit(justification),
        )
        return ActionResult.model_validate(response.json())

    async def job_action_by_filter(
        self,
        action: JobAction | str,
        oql_text: str,
        max_object_affected: int = 1,
        justification: Justification | None = None,
    ) -> FilterActionResult:
        verb = action.value if isinstance(action, JobAction) else action
        if verb not in {a.value for a in JobAction} | {"rerun"}:
            raise ValueError(f"unknown job action {verb!r}")
        response = await self._request(
            "PUT",
            f"/plan/job/action/{verb}",
            params={"oql": oql_text, "max_object_affected": max_object_affected},
            headers=audit(justification),
        )
        return FilterActionResult.model_validate(response.json())

    async def release_dependencies(
        self, job_id: str, dependency_ids: list[str], justification: Justification | None = None
    ) -> ActionResult:
        body = {"dependencies": [{"id": dep_id} for dep_id in dependency_ids]}
        response = await self._request(
            "PUT",
            f"/plan/job/{segment(job_id)}/action/release-dependencies",
            json=body,
            headers=audit(justification),
        )
        return ActionResult.model_validate(response.json())

    async def rerun_run(
        self, run_id: str, justification: Justification | None = None, details: dict[str, Any] | None = None
    ) -> ActionResult:
        """Rerun by run id (v2 has no rerun by job id); the result's ``id`` is the new run."""
        response = await self._request(
            "PUT",
            f"/plan/job/run/{segment(run_id)}/action/rerun",
            json=details or {},
            headers=audit(justification),
        )
        return ActionResult.model_validate(response.json())

    # ------------------------------------------------------------------ job streams, workstations, engine
    async def query_job_streams(
        self,
        oql_text: str | None = None,
        plan_filter: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[JobStreamInPlan]:
        params = {
            "oql": oql_text,
            "plan_filter": plan_filter,
            "limit": limit or self.config.page_size,
            "offset": offset,
        }
        return await self._page("/plan/jobstream", JobStreamInPlan, params)

    async def get_job_stream(self, jobstream_id: str) -> JobStreamInPlan:
        return await self._get(f"/plan/jobstream/{segment(jobstream_id)}", JobStreamInPlan)

    async def dependencies_of(self, kind: str, object_id: str) -> list[Dependency]:
        """A job's (``kind="job"``) or job stream's (``"jobstream"``) dependencies — only its detail GET
        fills them (the list queries leave them empty) — read without validating the rest of it."""
        response = await self._request("GET", f"/plan/{kind}/{segment(object_id)}")
        return DEPENDENCIES.validate_python(response.json().get("dependencies") or [])

    @memoized
    async def query_workstations(
        self,
        oql_text: str | None = None,
        plan_filter: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Page[WorkstationInPlan]:
        params = {
            "oql": oql_text,
            "plan_filter": plan_filter,
            "limit": limit or self.config.page_size,
            "offset": offset,
        }
        return await self._page("/plan/workstation", WorkstationInPlan, params)

    @memoized
    async def get_workstation(self, workstation_id: str) -> WorkstationInPlan:
        return await self._get(f"/plan/workstation/{segment(workstation_id)}", WorkstationInPlan)

    @memoized
    async def engine_info(self) -> EngineInfo:
        return await self._get("/engine/info", EngineInfo)

    async def engine_option(self, key: str) -> str | None:
        """One global option's value (``GET /engine/configuration/{key}``), None when the engine has none."""
        try:
            response = await self._request("GET", f"/engine/configuration/{segment(key)}")
        except HWANotFound:
            return None
        value = ConfigValue.model_validate(response.json()).value
        return value or None
