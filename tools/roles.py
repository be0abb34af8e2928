"""Who may do what: the callers' roles (light: the CLI and the auth layer import it alone)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
