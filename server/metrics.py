"""Prometheus metrics of the server: orchestrator calls and latency, HTTP requests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from prometheus_client import Counter, Histogram

ORCHESTRATOR_CALLS = Counter("orchestrator_calls_total", "Orchestrator calls", ["method"])
ORCHESTRATOR_LATENCY = Histogram("orchestrator_latency_seconds", "Orchestrator latency", ["method"])
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route"])


@contextlib.asynccontextmanager
async def observe(method: str) -> AsyncIterator[None]:
    ORCHESTRATOR_CALLS.labels(method).inc()
    started = time.perf_counter()
    try:
        yield
    finally:
        ORCHESTRATOR_LATENCY.labels(method).observe(time.perf_counter() - started)
