"""The registry of capabilities declared one module each (``base.Capability``). The classifier,
gather, rank, the agent's routing and the offline model's answers read it."""

from __future__ import annotations

from . import (
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
from .base import Args, Branch, Capability, Data, per_job

MODULES = (changes, digest, handover, history, long_runners, message, prioritise, prompts, stream, stuck, workstation)
REGISTRY: dict[str, Capability] = {module.CAPABILITY.kind.value: module.CAPABILITY for module in MODULES}

__all__ = ["REGISTRY", "Args", "Branch", "Capability", "Data", "per_job"]
