"""HWA REST v2 simulator: stands for an external IBM Workload Scheduler / HCL Workload Automation
engine. It imports nothing from the Resync application."""

from __future__ import annotations

from .app import create_app
from .config import SimConfig
from .engine import Plan, build_plan, plan_for

__all__ = ["Plan", "SimConfig", "banner", "build_plan", "create_app", "plan_for"]


def banner(host: str, port: int, config: SimConfig, plan: Plan) -> str:
    """What the simulator prints at start: where it listens and who may log in."""
    users = ", ".join(
        f"{name}/{password} ({'read-write' if p.can_write else 'read-only'})"
        for name, (password, p) in config.user_table().items()
    )
    keys = len(config.key_table())
    summary = plan.summary()
    return (
        f"HWA REST v2 simulator listening on http://{host}:{port}/twsd/api/v2/\n"
        f"  plan: {summary['jobs']} jobs in {summary['streams']} job streams (seed {config.seed}), "
        f"clock {config.clock}; statuses {summary['statuses']}\n"
        f"  users: {users}; API keys: {keys}\n"
        f"  admin API (faults, clock): http://{host}:{port}/admin/status"
    )
