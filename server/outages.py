"""Which failures mean "a part Resync depends on is down" (answered 503 with Retry-After, fast)."""

from __future__ import annotations

import psycopg
from psycopg_pool import PoolTimeout

from tools.store.db import DatabaseUnavailable

OUTAGES: tuple[type[Exception], ...] = (psycopg.OperationalError, PoolTimeout, DatabaseUnavailable)
RETRY_AFTER_SECONDS = 5


def outage_reason(exc: BaseException) -> str:
    return "the database is unavailable; retry shortly"
