"""Resources with limits: a job that needs a unit of a resource holds it while it runs; when every
unit is held, the job waits in READY with the substatus ``READY_WAITING_FOR_RESOURCES``, as the
engine shows it. ``update-quantity`` (the spec's action) changes the limit.
"""

from __future__ import annotations

from datetime import datetime

from .model import Job, Resource, Workstation


def new_resource(rid: str, name: str, workstation: Workstation, quantity: int) -> Resource:
    return Resource(rid, name, workstation, quantity, f"{name}: {quantity} unit(s) on {workstation.name}")


def launch_time(job: Job, ready_at: datetime) -> datetime | None:
    """When the job can start once its other dependencies are met: the latest of its resources'
    first free instants (None: a resource has no units at all). A released resource dependency
    no longer counts."""
    start = ready_at
    for dep in job.deps:
        if dep.kind != "RESOURCE" or dep.pool is None or dep.released:
            continue
        free = dep.pool.free_from(start, job)
        if free is None:
            return None
        start = max(start, free)
    return start
