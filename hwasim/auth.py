"""HTTP Basic and bearer (API key) authentication of the simulator; 401 without, 403 for read-only writes."""

from __future__ import annotations

import base64
import binascii
import secrets

from fastapi import Request

from .config import Principal, SimConfig
from .errors import EngineError


class Authenticator:
    def __init__(self, config: SimConfig) -> None:
        self.users = config.user_table()
        self.keys = config.key_table()

    def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                name, _, password = base64.b64decode(credentials).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                name, password = "", ""
            entry = self.users.get(name)
            if entry and secrets.compare_digest(entry[0], password):
                return entry[1]
        elif scheme.lower() == "bearer":
            for key, principal in self.keys.items():
                if secrets.compare_digest(key, credentials.strip()):
                    return principal
        raise EngineError(401, "AWSSIM0001E Not Authorized: missing or invalid credentials.", "NotAuthorizedException")

    def require_write(self, principal: Principal) -> None:
        if not principal.can_write:
            raise EngineError(
                403,
                f"AWSSIM0002E Not Allowed: the user {principal.name} has read-only access.",
                "NotAllowedException",
            )
