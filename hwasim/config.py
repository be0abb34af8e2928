"""Simulator settings (``HWASIM_*`` environment variables), independent of the app's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


@dataclass(frozen=True)
class Principal:
    name: str
    can_write: bool


def _parse_entries(text: str, parts: int, what: str) -> list[list[str]]:
    entries = []
    for raw in text.split(","):
        raw = raw.strip()
        if not raw:
            continue
        fields = raw.rsplit(":", parts - 1) if parts == 2 else raw.split(":")
        if len(fields) != parts or fields[-1] not in {"rw", "ro"} or not all(fields):
            shape = "name:password:rw|ro" if parts == 3 else "key:rw|ro"
            raise ValueError(f"bad {what} entry {raw!r}: expected {shape}")
        entries.append(fields)
    return entries


class SimConfig(BaseSettings):
    """Settings of the HWA REST v2 simulator."""

    model_config = SettingsConfigDict(env_prefix="HWASIM_", env_file=".env", extra="ignore")

    users: str = Field("admin:admin:rw,viewer:viewer:ro", description="name:password:rw|ro, comma-separated")
    api_keys: str = Field("", description="key:rw|ro, comma-separated (sent as Authorization: Bearer <key>)")
    jobs: int = Field(300, ge=1, le=1_000_000)
    seed: int = 42
    days: int = Field(3, ge=1, le=14, description="production days in the plan (today and earlier ones)")
    failure_rate: float = Field(0.04, ge=0.0, le=1.0)
    day_start: str = Field("", description="HH:MM (UTC) when a production day begins; empty: 18 hours before start-up")
    clock: Literal["real", "manual"] = Field("real", description="real: follows wall time; manual: stepped via /admin")
    tick_seconds: float = Field(5.0, gt=0)

    @field_validator("day_start")
    @classmethod
    def _check_day_start(cls, value: str) -> str:
        if value:
            time.fromisoformat(value)  # ValueError names the bad value
        return value

    def start_of_day(self) -> time | None:
        return time.fromisoformat(self.day_start).replace(tzinfo=None) if self.day_start else None

    @field_validator("users")
    @classmethod
    def _check_users(cls, value: str) -> str:
        _parse_entries(value, 3, "HWASIM_USERS")
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_keys(cls, value: str) -> str:
        _parse_entries(value, 2, "HWASIM_API_KEYS")
        return value

    def user_table(self) -> dict[str, tuple[str, Principal]]:
        return {
            name: (password, Principal(name, mode == "rw"))
            for name, password, mode in _parse_entries(self.users, 3, "HWASIM_USERS")
        }

    def key_table(self) -> dict[str, Principal]:
        return {
            key: Principal(f"apikey:{key[:4]}…", mode == "rw")
            for key, mode in _parse_entries(self.api_keys, 2, "HWASIM_API_KEYS")
        }
