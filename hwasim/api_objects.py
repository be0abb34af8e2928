"""The ``/twsd/api/v2`` routes for the plan's other objects, as the spec defines them: replying to
a prompt (``PUT /plan/prompt/{prompt_id}/action/reply``, the id a PROMPT dependency carries) and
resources with their limits (``GET /plan/resource``, ``GET /plan/resource/{id}``,
``PUT /plan/resource/{id}/action/update-quantity``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from . import serialize
from .api import ListDep, PlanDep, WriterDep, bad_request, get_principal, justification
from .engine import ActionError, Plan
from .errors import EngineError
from .fields import RESOURCE_FIELDS
from .model import Resource

router = APIRouter(prefix="/twsd/api/v2", dependencies=[Depends(get_principal)])


class PromptAnswer(BaseModel):
    """``PromptInPlanAnswer``: true answers yes, false answers no."""

    model_config = ConfigDict(extra="forbid")
    answer: bool


@router.put("/plan/prompt/{prompt_id}/action/reply")
async def reply_prompt(
    prompt_id: str, reply: PromptAnswer, request: Request, plan: PlanDep, user: WriterDep
) -> dict[str, Any]:
    prompt = plan.prompts().get(prompt_id)
    if prompt is None:
        raise EngineError(
            404, f"AWSSIM0432E No prompt with id {prompt_id} was found in the plan.", "ObjectNotFoundException"
        )
    try:
        plan.reply(prompt, reply.answer)
    except ActionError as exc:
        raise bad_request(exc.message, exc.exception_name) from exc
    plan.record(user.name, "reply", f"PR{prompt.sequence}", justification(request), "yes" if reply.answer else "no")
    return {"id": prompt.id, "url": f"{serialize.API}/plan/prompt/{prompt.id}"}


def _find(plan: Plan, resource_id: str) -> Resource:
    pool = next((r for r in plan.builder.resources.values() if r.id == resource_id), None)
    if pool is None:
        raise EngineError(
            404, f"AWSSIM0433E No resource with id {resource_id} was found in the plan.", "ObjectNotFoundException"
        )
    return pool


@router.get("/plan/resource")
async def query_resources(query: ListDep, plan: PlanDep) -> dict[str, Any]:
    pools = sorted(plan.builder.resources.values(), key=lambda r: r.name)
    return query.page(pools, RESOURCE_FIELDS, "resource", lambda r: serialize.resource(r, plan.now))


@router.get("/plan/resource/{resource_id}")
async def get_resource(resource_id: str, plan: PlanDep) -> dict[str, Any]:
    return serialize.resource(_find(plan, resource_id), plan.now)


@router.put("/plan/resource/{resource_id}/action/update-quantity")
async def update_quantity(
    resource_id: str,
    request: Request,
    plan: PlanDep,
    user: WriterDep,
    quantity: Annotated[int, Query(ge=0, le=1024)],
) -> dict[str, Any]:
    pool = _find(plan, resource_id)
    before = pool.quantity
    plan.set_quantity(pool, quantity)
    plan.record(user.name, "update-quantity", pool.key, justification(request), f"{before} -> {quantity}")
    return {"id": pool.id, "url": f"{serialize.API}/plan/resource/{pool.id}"}
