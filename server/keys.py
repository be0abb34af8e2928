"""API keys: made here, shown once, stored as their sha256 (no web framework needed to mint one)."""

from __future__ import annotations

import hashlib
import re
import secrets

from tools.roles import Role
from tools.store.access import insert_key
from tools.store.db import Pool

from .settings import comma_list


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_static_keys(text: str) -> dict[str, tuple[str, Role]]:
    """``API_KEYS``: ``<sha256 hex>:<role>[:<name>]``, comma-separated (hashes only, never keys)."""
    keys = {}
    for index, entry in enumerate(comma_list(text)):
        parts = entry.split(":")
        if len(parts) not in (2, 3) or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
            raise ValueError(f"entry {index + 1} must be <sha256 hex of the key>:<role>[:<name>]")
        if parts[1] not in {r.value for r in Role}:
            raise ValueError(f"entry {index + 1}: role must be viewer, operator or admin")
        keys[parts[0].lower()] = (parts[2] if len(parts) == 3 else f"static-{index + 1}", Role(parts[1]))
    return keys


def new_key() -> str:
    return "rsk_" + secrets.token_urlsafe(32)


def default_name(role: str) -> str:
    """A name of its own for a key created without ``--name`` (a name is an identity)."""
    return f"{role}-{secrets.token_hex(3)}"


KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")


async def create_key(pool: Pool, role: str, name: str | None = None) -> tuple[int, str, str]:
    """A new key for ``role``: (id, name, key). Only its hash is stored; the key is returned once."""
    key = new_key()
    name = name or default_name(role)
    if not KEY_NAME.match(name):
        raise ValueError("a key name is 1-64 letters, digits or _ . @ -, starting with a letter or digit")
    key_id = await insert_key(pool, name, hash_key(key), Role(role).value)
    return key_id, name, key
