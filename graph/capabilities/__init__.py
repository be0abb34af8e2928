"""The registry of capabilities declared one module each (``base.Capability``). The classifier,
gather, rank, the agent's routing and the offline model's answers read it."""

from __future__ import annotations

from . import (
    action,
    changes,
    dependencies,
    diagnose,
    digest,
    failed_jobs,
    handover,
    health,
    history,
    howto,
    impact,
    logs,
    long_runners,
    message,
    other,
    outcome,
    prioritise,
    prompts,
    sla,
    status,
    stream,
    stuck,
    troubleshoot,
    workstation,
)
from .base import Args, Branch, Capability, Data, per_job

# in the order a tie between two kinds' scores is settled (the first wins)
MODULES = (
    impact,
    sla,
    outcome,
    action,
    howto,
    troubleshoot,
    logs,
    dependencies,
    failed_jobs,
    health,
    status,  # after the specific kinds: "why is it not done?" is a failure's question
    other,
    diagnose,
    changes,
    digest,
    handover,
    history,
    long_runners,
    message,
    prioritise,
    prompts,
    stream,
    stuck,
    workstation,
)
REGISTRY: dict[str, Capability] = {module.CAPABILITY.kind.value: module.CAPABILITY for module in MODULES}

__all__ = ["REGISTRY", "Args", "Branch", "Capability", "Data", "per_job"]
