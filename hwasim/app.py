"""The simulator's FastAPI app: the v2 API, a clock, fault injection and an admin API outside /twsd.

The admin API (``/admin/...``) stands for the test harness, not for the product: it steps the
clock, switches faults, links/unlinks workstations and shows the audit trail of actions.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .api import router as v2_router
from .api_objects import router as objects_router
from .auth import Authenticator
from .config import SimConfig
from .durations import late, night_of
from .engine import Plan, plan_for
from .errors import EngineError, error_response
from .faults import FaultInjector, FaultMiddleware, FaultRule
from .staging import StagedRun, StagedWait, stage_run, stage_wait, true_cause

admin = APIRouter(prefix="/admin", tags=["simulator admin"])


class ClockStep(BaseModel):
    seconds: float = Field(gt=0, le=7 * 86400)


class FaultSet(BaseModel):
    rules: list[FaultRule]


def _plan(request: Request) -> Plan:
    plan: Plan = request.app.state.plan
    return plan


@admin.get("/status")
async def status(request: Request) -> dict[str, Any]:
    plan = _plan(request)
    return {
        **plan.summary(),
        "clock": request.app.state.config.clock,
        "faults": len(request.app.state.faults.rules),
    }


@admin.post("/clock/step")
async def step_clock(step: ClockStep, request: Request) -> dict[str, Any]:
    plan = _plan(request)
    plan.advance(plan.now + timedelta(seconds=step.seconds))
    return plan.summary()


@admin.get("/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    injector: FaultInjector = request.app.state.faults
    return {"rules": [r.model_dump() for r in injector.rules], "injected": injector.injected}


@admin.put("/faults")
async def set_faults(faults: FaultSet, request: Request) -> dict[str, Any]:
    request.app.state.faults.rules = list(faults.rules)
    return await get_faults(request)


@admin.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    request.app.state.faults.rules = []
    return await get_faults(request)


@admin.get("/audit")
async def audit(request: Request) -> list[dict[str, Any]]:
    return [
        {
            "time": e.time.isoformat(),
            "user": e.user,
            "action": e.action,
            "target": e.target,
            "headers": e.headers,
            "outcome": e.outcome,
        }
        for e in _plan(request).audit
    ]


@admin.post("/workstation/{name}/{state}")
async def link_workstation(name: str, state: str, request: Request) -> dict[str, Any]:
    if state not in {"link", "unlink"}:
        raise EngineError(
            404,
            f"AWSSIM0411E Unknown workstation state {state!r}: use link or unlink.",
            "ObjectNotFoundException",
        )
    plan = _plan(request)
    if name not in {w.name for w in plan.workstations}:
        raise EngineError(404, f"AWSSIM0412E No workstation named {name!r}.", "ObjectNotFoundException")
    ws = plan.set_linked(name, state == "link")
    return {"name": ws.name, "linked": ws.linked}


@admin.post("/job/{job_id}/answer-prompt")
async def answer_prompt(job_id: str, request: Request) -> dict[str, Any]:
    plan = _plan(request)
    job = plan.jobs_by_id.get(job_id)
    if job is None:
        raise EngineError(404, f"AWSSIM0404E No job with id {job_id}.", "ObjectNotFoundException")
    plan.answer_prompt(job)
    return {"id": job.id, "status": job.status}


@admin.post("/runs", status_code=201)
async def stage(staged: StagedRun, request: Request) -> dict[str, Any]:
    """A staged incident: a run of a named job with the given status, return code and log text."""
    job, run = stage_run(_plan(request), staged)
    return {"job_id": job.id, "run_id": run.id}


@admin.post("/job/{job_id}/wait")
async def wait(job_id: str, staged: StagedWait, request: Request) -> dict[str, Any]:
    """Make a job that has not started wait for a chosen reason (operator hold, time, file, prompt, predecessor)."""
    job = stage_wait(_plan(request), job_id, staged)
    return {"id": job.id, "status": job.status, "substatus": job.last_run.substatus}


@admin.get("/nights")
async def nights(request: Request) -> dict[str, Any]:
    """The production days and the slow nights among them, with their true cause (tests score SLA
    estimates against this)."""
    plan = _plan(request)
    builder = plan.builder
    return {
        "day_start": builder.today_start.isoformat(),
        "days": [builder.production_date(day).isoformat() for day in range(builder.days)],
        "slow_nights": [night.as_json() for night in builder.slow_nights],
        "late_streams": [
            {
                "name": s.name,
                "day": s.day,
                "id": s.id,
                "slow_night": night_of(builder.slow_nights, s.day, s.name) is not None,
            }
            for s in plan.streams
            if late(s, plan.now)
        ],
    }


@admin.get("/runs/{run_id}")
async def run_truth(run_id: str, request: Request) -> dict[str, Any]:
    """A run's true failure kind and cause category (generated or staged)."""
    return true_cause(_plan(request), run_id)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(EngineError)
    async def engine_error(_: Request, exc: EngineError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.exception_name)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_response(
            400, f"AWSSIM0105E The provided parameters are not valid: {details}", "InvalidParameterException"
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_response(exc.status_code, f"AWSSIM0{exc.status_code}E {exc.detail}", "HTTPException")


def create_app(config: SimConfig | None = None, plan: Plan | None = None) -> FastAPI:
    """Build the simulator app; ``plan`` defaults to one generated from the config."""
    config = config or SimConfig()
    plan = plan or plan_for(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_real_clock(plan, config.tick_seconds)) if config.clock == "real" else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="HWA REST v2 simulator", version="10.1.0.1", lifespan=lifespan, docs_url="/twsd")
    app.state.config = config
    app.state.plan = plan
    app.state.authenticator = Authenticator(config)
    app.state.faults = FaultInjector(config.seed)
    app.add_middleware(FaultMiddleware, injector=app.state.faults)
    _install_error_handlers(app)
    app.include_router(v2_router)
    app.include_router(objects_router)
    app.include_router(admin)
    return app


async def _real_clock(plan: Plan, tick_seconds: float) -> None:
    while True:
        await asyncio.sleep(tick_seconds)
        plan.advance(datetime.now(UTC))
