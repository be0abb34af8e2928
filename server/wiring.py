"""Composition root: builds the parts below ``server`` from ``Settings``."""

from __future__ import annotations

from tools.cache import CacheManager, CacheTTLs, configure_cache_manager
from tools.hwa import HWAClient, HWAClientConfig

from .settings import SIM_PASSWORD, SIM_USER, Settings


def engine_url(settings: Settings) -> str:
    return settings.tws_base_url or f"http://{settings.sim_host}:{settings.sim_port}"


def hwa_client_config(settings: Settings) -> HWAClientConfig:
    """The client settings; the built-in simulator is reached with its demo read-write user."""
    secret = settings.tws_password.get_secret_value() if settings.tws_password else None
    api_key = settings.tws_api_key.get_secret_value() if settings.tws_api_key else None
    username = settings.tws_username
    if settings.uses_simulator and not (username or api_key):
        username, secret = SIM_USER, SIM_PASSWORD
    return HWAClientConfig(
        base_url=engine_url(settings),
        username=username,
        password=secret,
        api_key=api_key,
        verify_tls=settings.tws_verify_tls,
        ca_bundle=str(settings.tws_ca_bundle) if settings.tws_ca_bundle else None,
        connect_timeout=settings.tws_connect_timeout,
        read_timeout=settings.tws_read_timeout,
        max_retries=settings.tws_max_retries,
        breaker_threshold=settings.tws_breaker_threshold,
        breaker_reset_seconds=settings.tws_breaker_reset_seconds,
        page_size=settings.tws_page_size,
    )


def hwa_client(settings: Settings) -> HWAClient:
    return HWAClient(hwa_client_config(settings))


def cache_manager(settings: Settings) -> CacheManager:
    """The process's cache manager, configured with the TTL settings."""
    ttls = CacheTTLs(
        job_status=settings.cache_ttl_job_status,
        logs=settings.cache_ttl_logs,
        dependencies=settings.cache_ttl_dependencies,
        static=settings.cache_ttl_static,
    )
    return configure_cache_manager(settings.redis_url, ttls)
