"""The ``/twsd/api/v2`` routes: plan queries, job logs and actions, as the official spec defines them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import PlainTextResponse

from . import serialize
from .config import Principal
from .engine import ActionError, Plan
from .errors import EngineError
from .fields import JOB_FIELDS, STREAM_FIELDS, WORKSTATION_FIELDS, plan_filter_matcher
from .joblog import render, slice_lines
from .model import Job
from .oql import OQLError, apply_order, compile_oql

T = TypeVar("T")
JOB_VERBS = {
    "hold",
    "release",
    "cancel",
    "cancel-pending",
    "kill",
    "confirm-succ",
    "confirm-abend",
    "release-all-dependencies",
    "release-dependencies",
}
JUSTIFICATION_HEADERS = (
    "Justification-Category",
    "Justification-Description",
    "Justification-Ticket-Num",
    "Context-Session",
)
LimitParam = Annotated[int, Query(ge=0, le=100_000)]
OffsetParam = Annotated[int, Query(ge=0)]


# dependencies are ``async def``: they do no I/O, and a plain ``def`` would cost every request a
# round trip through the thread pool
async def get_plan(request: Request) -> Plan:
    plan: Plan = request.app.state.plan
    return plan


async def get_principal(request: Request) -> Principal:
    principal: Principal = request.app.state.authenticator.authenticate(request)
    return principal


async def get_writer(request: Request, principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    request.app.state.authenticator.require_write(principal)
    return principal


router = APIRouter(prefix="/twsd/api/v2", dependencies=[Depends(get_principal)])
PlanDep = Annotated[Plan, Depends(get_plan)]
WriterDep = Annotated[Principal, Depends(get_writer)]


def bad_request(message: str, name: str = "InvalidParameterException") -> EngineError:
    return EngineError(400, message, name)


def select(items: Sequence[T], fields: dict[str, Any], oql: str | None, plan_filter: str | None, kind: str) -> list[T]:
    """Items matching both the OQL and the plan filter, in the OQL's order."""
    try:
        query = compile_oql(oql or "", fields)
        matcher = plan_filter_matcher(plan_filter, kind) if plan_filter else None
    except (OQLError, ValueError) as exc:
        raise bad_request(f"AWSSIM0100E Invalid filter: {exc}", "InvalidQueryException") from exc
    chosen = [item for item in items if query.predicate(item) and (matcher is None or matcher(item))]
    return apply_order(chosen, query.order_by, fields) if query.order_by else chosen


def paginate(
    request: Request,
    items: list[T],
    serializer: Callable[[T], dict[str, Any]],
    limit: int,
    offset: int,
    include_count: str | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"results": [serializer(item) for item in items[offset : offset + limit]]}
    if (include_count or "true").lower() != "false":
        body["count"] = len(items)
    if offset + limit < len(items):
        body["next"] = str(request.url.include_query_params(offset=offset + limit, limit=limit))
    if offset > 0:
        body["previous"] = str(request.url.include_query_params(offset=max(0, offset - limit), limit=limit))
    return body


class ListQuery:
    """What every list route of the spec takes — ``oql``, ``plan_filter``, ``limit``, ``offset`` and the
    ``Include-Count`` header — and the page of items it asks for."""

    def __init__(
        self,
        request: Request,
        oql: str | None = None,
        plan_filter: str | None = None,
        limit: LimitParam = 10_000,
        offset: OffsetParam = 0,
        include_count: Annotated[str | None, Header()] = None,
    ) -> None:
        self.request, self.oql, self.plan_filter = request, oql, plan_filter
        self.limit, self.offset, self.include_count = limit, offset, include_count

    def page(
        self, items: Sequence[T], fields: dict[str, Any], kind: str, serializer: Callable[[T], dict[str, Any]]
    ) -> dict[str, Any]:
        chosen = select(items, fields, self.oql, self.plan_filter, kind)
        return paginate(self.request, chosen, serializer, self.limit, self.offset, self.include_count)


async def list_query(
    request: Request,
    oql: str | None = None,
    plan_filter: str | None = None,
    limit: LimitParam = 10_000,
    offset: OffsetParam = 0,
    include_count: Annotated[str | None, Header()] = None,
) -> ListQuery:
    return ListQuery(request, oql, plan_filter, limit, offset, include_count)


ListDep = Annotated[ListQuery, Depends(list_query)]


def find_job(plan: Plan, job_id: str) -> Job:
    job = plan.jobs_by_id.get(job_id)
    if job is None:
        raise EngineError(404, f"AWSSIM0404E No job with id {job_id} was found in the plan.", "ObjectNotFoundException")
    return job


def justification(request: Request) -> dict[str, str]:
    return {h: request.headers[h] for h in JUSTIFICATION_HEADERS if h in request.headers}


# ---------------------------------------------------------------------------- jobs
@router.get("/plan/job")
async def query_jobs(query: ListDep, plan: PlanDep) -> dict[str, Any]:
    return query.page(plan.jobs, JOB_FIELDS, "job", lambda j: serialize.job(j, plan.now, with_dependencies=False))


@router.get("/plan/job/count")
async def count_jobs(
    plan: PlanDep, plan_filter: str = "/@/@#/@/@.@", grouping_filters: str | None = None
) -> dict[str, Any]:
    jobs = select(plan.jobs, JOB_FIELDS, None, plan_filter, "job")
    groups = [g.strip() for g in (grouping_filters or "").split(",") if g.strip()]
    getters = {
        "status": lambda j: j.status,
        "workstation": lambda j: j.workstation.key,
        "folder": lambda j: "/",
    }
    unknown = [g for g in groups if g not in getters]
    if unknown:
        raise bad_request(f"AWSSIM0101E Unknown grouping filter(s) {unknown}; use workstation, status, folder.")
    grouped: dict[str, int] = {}
    if groups:
        for job in jobs:
            key = ",".join(getters[g](job) for g in groups)
            grouped[key] = grouped.get(key, 0) + 1
    return {"count": len(jobs), "groupedCount": grouped}


def _joblog(
    plan: Plan, job: Job, run_id: str, content_only: str | None, from_line: int | None, to_line: int | None
) -> PlainTextResponse:
    if from_line is not None and to_line is not None and from_line > to_line:
        raise bad_request(f"AWSSIM0102E from_line ({from_line}) is after to_line ({to_line}).")
    run = next(r for r in job.runs if r.id == run_id)
    lines = render(job, run, plan.now)
    if lines is None:
        raise EngineError(
            404,
            f"AWSSIM0405E The run {run_id} of job {job.name} has not started: no job log yet.",
            "ObjectNotFoundException",
        )
    text = slice_lines(lines, (content_only or "").lower() == "true", from_line, to_line)
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


LineParam = Annotated[int | None, Query(ge=1)]


@router.get("/plan/job/joblog", response_class=PlainTextResponse)
async def joblog_by_filter(
    plan: PlanDep,
    oql: str | None = None,
    plan_filter: str | None = None,
    contentOnly: str | None = None,
    from_line: LineParam = None,
    to_line: LineParam = None,
) -> PlainTextResponse:
    if not oql and not plan_filter:
        raise bad_request("AWSSIM0103E Specify oql or plan_filter to select the job.")
    jobs = select(plan.jobs, JOB_FIELDS, oql, plan_filter, "job")
    if not jobs:
        raise EngineError(404, "AWSSIM0406E No job run instances match the provided filter.", "ObjectNotFoundException")
    job = max(jobs, key=lambda j: j.sched_time)
    return _joblog(plan, job, job.last_run.id, contentOnly, from_line, to_line)


@router.get("/plan/job/run/{run_id}/joblog", response_class=PlainTextResponse)
async def joblog_by_run(
    run_id: str,
    plan: PlanDep,
    contentOnly: str | None = None,
    from_line: LineParam = None,
    to_line: LineParam = None,
) -> PlainTextResponse:
    if run_id not in plan.runs_by_id:
        raise EngineError(
            404, f"AWSSIM0407E No job run instance with id {run_id} was found.", "ObjectNotFoundException"
        )
    job, _ = plan.runs_by_id[run_id]
    return _joblog(plan, job, run_id, contentOnly, from_line, to_line)


@router.get("/plan/job/{job_id}")
async def get_job(job_id: str, plan: PlanDep) -> dict[str, Any]:
    return serialize.job(find_job(plan, job_id), plan.now, with_dependencies=True)


def _walk(start: Job, step: Callable[[Job], list[Job]], depth: int) -> list[Job]:
    seen: dict[str, Job] = {}
    frontier = [start]
    for _ in range(depth):
        frontier = [n for job in frontier for n in step(job) if n.id not in seen and n is not start]
        for job in frontier:
            seen[job.id] = job
        if not frontier:
            break
    return list(seen.values())


def _predecessors(job: Job) -> list[Job]:
    return [d.pred_job for d in job.deps if d.pred_job is not None]


@router.get("/plan/job/{job_id}/predecessors")
async def predecessors(job_id: str, plan: PlanDep, depth: Annotated[int, Query(ge=1, le=50)] = 1) -> dict[str, Any]:
    jobs = _walk(find_job(plan, job_id), _predecessors, depth)
    return {
        "count": len(jobs),
        "results": [serialize.job(j, plan.now, with_dependencies=False) for j in jobs],
    }


@router.get("/plan/job/{job_id}/successors")
async def successors(job_id: str, plan: PlanDep, depth: Annotated[int, Query(ge=1, le=50)] = 1) -> dict[str, Any]:
    jobs = _walk(find_job(plan, job_id), lambda j: j.successors, depth)
    return {
        "count": len(jobs),
        "results": [serialize.job(j, plan.now, with_dependencies=False) for j in jobs],
    }


def _apply(
    plan: Plan, job: Job, verb: str, user: Principal, headers: dict[str, str], body: dict[str, Any] | None
) -> str:
    wanted = {str(d.get("id")) for d in (body or {}).get("dependencies", []) if isinstance(d, dict)}
    return plan.act(job, verb, user.name, headers, dependency_ids=wanted)


@router.put("/plan/job/action/{verb}")
async def job_action_by_filter(
    verb: str,
    request: Request,
    plan: PlanDep,
    user: WriterDep,
    oql: str | None = None,
    plan_filter: str | None = None,
    max_object_affected: Annotated[int, Query(ge=1)] = 1,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    if verb not in JOB_VERBS | {"rerun"}:
        raise EngineError(404, f"AWSSIM0408E Unknown action {verb!r}.", "ObjectNotFoundException")
    if not oql and not plan_filter:
        raise bad_request("AWSSIM0103E Specify oql or plan_filter to select the jobs.")
    jobs = select(plan.jobs, JOB_FIELDS, oql, plan_filter, "job")
    if len(jobs) > max_object_affected:
        raise bad_request(
            f"AWSSIM0104E The filter matches {len(jobs)} jobs, more than max_object_affected={max_object_affected}."
        )
    ok: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    headers = justification(request)
    for job in jobs:
        url = f"{serialize.API}/plan/job/{job.id}"
        try:
            message = (
                f"New run {plan.rerun(job.last_run.id, user.name, headers).id}"
                if verb == "rerun"
                else _apply(plan, job, verb, user, headers, body)
            )
            ok.append({"id": job.id, "url": url, "message": message, "isError": False, "error": False})
        except ActionError as exc:
            failed.append({"id": job.id, "url": url, "message": exc.message, "isError": True, "error": True})
    return {"successfulResourceResponses": ok, "failedResourceResponses": failed}


@router.put("/plan/job/run/{run_id}/action/rerun")
async def rerun(
    run_id: str,
    request: Request,
    plan: PlanDep,
    user: WriterDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    if run_id not in plan.runs_by_id:
        raise EngineError(
            404, f"AWSSIM0407E No job run instance with id {run_id} was found.", "ObjectNotFoundException"
        )
    try:
        new_run = plan.rerun(run_id, user.name, justification(request))
    except ActionError as exc:
        raise bad_request(exc.message, exc.exception_name) from exc
    job, _ = plan.runs_by_id[new_run.id]
    return {"id": new_run.id, "url": f"{serialize.API}/plan/job/{job.id}"}


@router.put("/plan/job/{job_id}/action/{verb}")
async def job_action(
    job_id: str,
    verb: str,
    request: Request,
    plan: PlanDep,
    user: WriterDep,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> dict[str, Any]:
    if verb not in JOB_VERBS:
        raise EngineError(404, f"AWSSIM0408E Unknown action {verb!r}.", "ObjectNotFoundException")
    job = find_job(plan, job_id)
    try:
        message = _apply(plan, job, verb, user, justification(request), body)
    except ActionError as exc:
        raise bad_request(exc.message, exc.exception_name) from exc
    url = f"{serialize.API}/plan/job/{job.id}"
    if verb in {"release-all-dependencies", "release-dependencies"}:
        return {"id": job.id, "url": url, "message": message, "isError": False, "error": False}
    return {"id": job.id, "url": url}


# ---------------------------------------------------------------------------- job streams
@router.get("/plan/jobstream")
async def query_job_streams(query: ListDep, plan: PlanDep) -> dict[str, Any]:
    return query.page(
        plan.streams, STREAM_FIELDS, "jobstream", lambda s: serialize.job_stream(s, plan.now, with_details=False)
    )


@router.get("/plan/jobstream/{jobstream_id}")
async def get_job_stream(jobstream_id: str, plan: PlanDep) -> dict[str, Any]:
    stream = plan.streams_by_id.get(jobstream_id)
    if stream is None:
        raise EngineError(
            404,
            f"AWSSIM0409E No job stream with id {jobstream_id} was found in the plan.",
            "ObjectNotFoundException",
        )
    return serialize.job_stream(stream, plan.now, with_details=True)


# ---------------------------------------------------------------------------- workstations, engine
@router.get("/plan/workstation")
async def query_workstations(query: ListDep, plan: PlanDep) -> dict[str, Any]:
    return query.page(plan.workstations, WORKSTATION_FIELDS, "workstation", serialize.workstation)


@router.get("/plan/workstation/{workstation_id}")
async def get_workstation(workstation_id: str, plan: PlanDep) -> dict[str, Any]:
    ws = plan.workstations_by_id.get(workstation_id)
    if ws is None:
        raise EngineError(
            404,
            f"AWSSIM0410E No workstation with id {workstation_id} was found in the plan.",
            "ObjectNotFoundException",
        )
    return serialize.workstation(ws)


@router.get("/engine/info")
async def engine_info() -> dict[str, Any]:
    return serialize.engine_info()


@router.get("/engine/configuration")
async def engine_configuration(plan: PlanDep) -> dict[str, Any]:
    """The global options an assistant reads (``startOfDay``: when a production day begins, HHMM)."""
    return serialize.engine_configuration(plan.builder.today_start)


@router.get("/engine/configuration/{key}")
async def engine_configuration_key(key: str, plan: PlanDep) -> dict[str, Any]:
    options = serialize.engine_configuration(plan.builder.today_start)
    if key not in options:
        raise EngineError(404, f"AWSSIM0440E The configuration key {key} was not found.", "ObjectNotFoundException")
    return dict(options[key])
