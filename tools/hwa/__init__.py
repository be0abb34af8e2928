"""The HWA REST v2 client: typed models, a safe OQL builder and typed errors."""

from .client import HWAClient
from .config import HWAClientConfig, JobAction, Justification
from .errors import (
    HWABadRequest,
    HWACircuitOpen,
    HWAError,
    HWAForbidden,
    HWANotFound,
    HWAQueryError,
    HWATimeout,
    HWAUnauthorized,
    HWAUnavailable,
)
from .models import EngineInfo, JobInPlan, JobRun, JobStreamInPlan, WorkstationInPlan

__all__ = [
    "EngineInfo",
    "HWABadRequest",
    "HWACircuitOpen",
    "HWAClient",
    "HWAClientConfig",
    "HWAError",
    "HWAForbidden",
    "HWANotFound",
    "HWAQueryError",
    "HWATimeout",
    "HWAUnauthorized",
    "HWAUnavailable",
    "JobAction",
    "JobInPlan",
    "JobRun",
    "JobStreamInPlan",
    "Justification",
    "WorkstationInPlan",
]
