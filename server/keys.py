"""API keys: made here, shown once, stored as their sha256 (no web framework needed to mint one)."""

from __future__ import annotations

import hashlib
import secrets

from tools.roles import Role
from tools.store.access import insert_key
from tools.store.db import Pool


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return "rsk_" + secrets.token_urlsafe(32)


async def create_key(pool: Pool, role: str, name: str) -> str:
    """A new key for ``role``; only its hash is stored, the key is returned once."""
    key = new_key()
    await insert_key(pool, name, hash_key(key), Role(role).value)
    return key
