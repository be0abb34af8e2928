"""All settings of Resync, from environment variables and ``.env`` (see the README's table)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:  # imported where used: reading the settings stays quick (the CLI's start)
    from tools.services.notify import Channel, Smtp
    from tools.store.retention import Retention

SIM_USER, SIM_PASSWORD = "admin", "admin"


def comma_list(value: str) -> list[str]:
    """The non-empty items of a comma-separated setting, stripped."""
    return [item.strip() for item in value.split(",") if item.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # --- scheduler -------------------------------------------------------------------------------
    tws_base_url: str | None = Field(
        None, description="HWA engine, e.g. https://mdm:31116; unset: start the built-in simulator"
    )
    tws_username: str | None = Field(None, description="HTTP Basic user of the engine")
    tws_password: SecretStr | None = Field(None, description="HTTP Basic password of the engine")
    tws_api_key: SecretStr | None = Field(
        None, description="API key (JWT) sent as Authorization: Bearer; wins over Basic"
    )
    tws_verify_tls: bool = Field(True, description="verify the engine's TLS certificate")
    tws_ca_bundle: Path | None = Field(None, description="CA bundle (PEM) to verify the engine's certificate")
    tws_connect_timeout: float = Field(5.0, gt=0, le=120, description="seconds to connect")
    tws_read_timeout: float = Field(30.0, gt=0, le=600, description="seconds to wait for an answer")
    tws_max_retries: int = Field(3, ge=0, le=10, description="retries of idempotent GETs (never of actions)")
    tws_breaker_threshold: int = Field(5, ge=1, le=100, description="failures in a row that open the circuit")
    tws_breaker_reset_seconds: float = Field(30.0, gt=0, le=3600, description="seconds before a trial call")
    tws_page_size: int = Field(500, ge=1, le=10_000, description="page size of list queries")
    production_day_start: str = Field(
        "", description="HH:MM (UTC) when a production day begins; empty: the engine's startOfDay option"
    )

    # --- built-in simulator (default engine) ------------------------------------------------------
    sim_host: str = Field("127.0.0.1", description="address of the built-in simulator")
    sim_port: int = Field(31115, ge=0, le=65535, description="port of the built-in simulator (HWA HTTP port)")
    sim_jobs: int = Field(300, ge=1, le=1_000_000, description="job instances in the simulated plan")
    sim_seed: int = Field(42, description="seed of the simulated plan")

    # --- storage ----------------------------------------------------------------------------------
    database_url: str | None = Field(None, description="PostgreSQL URL; unset: embedded PostgreSQL in data_dir")
    data_dir: Path = Field(Path(user_data_dir("resync")), description="folder for the embedded database and files")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for the cache (optional at run time)")
    cache_ttl_job_status: float = Field(10, gt=0, le=86400, description="seconds a cached job status lives")
    cache_ttl_logs: float = Field(30, gt=0, le=86400, description="seconds a cached job log lives")
    cache_ttl_dependencies: float = Field(300, gt=0, le=86400, description="seconds a cached dependency graph lives")
    cache_ttl_static: float = Field(3600, gt=0, le=604800, description="seconds static data (workstations…) lives")
    kg_sync_interval_seconds: float = Field(60, ge=5, le=86400, description="incremental knowledge-graph sync period")
    knowledge_dir: Path = Field(
        Path(__file__).resolve().parents[1] / "knowledge", description="starter runbooks ingested at first start"
    )
    embeddings: Literal["auto", "openai", "local", "hashing"] = Field(
        "auto", description="auto: OpenAI-compatible if configured, else local MiniLM if installed, else hashing"
    )
    embeddings_model: str = Field(
        "text-embedding-3-small", description="embedding model of the OpenAI-compatible server"
    )

    # --- model ------------------------------------------------------------------------------------
    openai_api_key: SecretStr | None = Field(None, description="key of an OpenAI-compatible server")
    openai_base_url: str | None = Field(None, description="base URL of an OpenAI-compatible server")
    llm_model: str = Field("gpt-4o-mini", description="chat model name")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="sampling temperature of the chat model")
    llm_max_tokens: int = Field(
        1024, ge=16, le=32_000, description="most tokens a model reply may have (a runaway reply is cut, not awaited)"
    )
    llm_timeout_seconds: float = Field(
        60,
        gt=0,
        le=600,
        description="seconds for all of a turn's chat model calls together (retries included); past it the"
        " answer is composed from the gathered facts",
    )
    prompt_version: str = Field(
        "v2", pattern=r"^v\d+$", description="system prompt version (graph/prompts), per request too"
    )
    response_cache_seconds: float = Field(
        1.0, ge=0, le=10, description="seconds the answers of the cached read routes are kept in memory; 0: off"
    )
    checkpoint_durability: Literal["exit", "async", "sync"] = Field(
        "exit",
        description="when a run's checkpoints are written: exit (once, at its end or pause: fewest round trips), "
        "async or sync (after every step)",
    )
    token_budget: int = Field(3000, ge=200, le=100_000, description="context tokens (estimated) given to the model")
    ab_variants: str = Field(
        "", description="online A/B: variant names (evals/variants/*.yaml) sharing live traffic by their weights"
    )
    eval_judge_model: str | None = Field(
        None,
        description="the LLM-as-judge of evaluation runs, on the OpenAI-compatible server (never the model under"
        " test: a variant that uses it is not judged); none: no judge",
    )
    eval_judge_base_url: str | None = Field(None, description="the judge's server, when not the configured one")

    tool_modules: str = Field(
        "", description="extra tool modules to import at start, comma-separated (resync_tools_* are found anyway)"
    )
    approval_ttl_seconds: float = Field(1800, ge=10, le=7 * 86400, description="seconds a pending approval stays valid")
    approval_four_eyes: bool = Field(False, description="the requester of an approval may not decide it")
    approval_four_eyes_actions: str = Field(
        "",
        description="actions the four-eyes rule covers, comma-separated (rerun, hold, release, cancel, kill,"
        " confirm_succ, confirm_abend, release_dependencies, or tool names); empty: every action",
    )

    approval_require_justification: bool = Field(
        True, description="approving a write needs the approver's reason, on every client (REST, chat, MCP)"
    )
    approval_recovery_interval_seconds: float = Field(
        30, ge=1, le=3600, description="seconds between passes that settle writes nobody heard the end of"
    )
    approval_unknown_give_up_minutes: float = Field(
        60, ge=1, le=7 * 1440, description="an unknown write whose effect never shows is failed after this"
    )

    api_keys: str = Field("", description="static API keys as <sha256 hex>:<role>[:<name>], comma-separated")
    auth_disabled: bool = Field(
        False, description="DEV ONLY: no API keys, everyone is admin (shouted in logs and health)"
    )
    rate_limit_per_minute: int = Field(
        120, ge=0, le=100_000, description="requests a minute per API key; 0 turns the limit off"
    )
    cors_origins: str = Field("", description="allowed browser origins, comma-separated; empty: CORS closed")
    max_message_chars: int = Field(4000, ge=10, le=100_000, description="longest chat message accepted")
    max_request_bytes: int = Field(
        1_048_576, ge=1024, description="largest request body (checked before it is read; 413 above)"
    )
    document_upload_role: Literal["operator", "admin"] = Field(
        "operator", description="who may upload knowledge documents: operators and admins, or admins only"
    )
    max_upload_bytes: int = Field(10_485_760, ge=1024, description="largest document upload (multipart body)")

    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    # --- proactive operations ------------------------------------------------------------------------
    watch_interval_seconds: float = Field(
        60, ge=0, le=86400, description="how often the watcher looks for new failures and late jobs; 0: off"
    )
    watch_concurrency: int = Field(4, ge=1, le=64, description="investigations at once (each reads one job log)")
    watch_lookback_hours: int = Field(24, ge=1, le=336, description="how far back the first watch looks")

    notify_webhook_url: SecretStr | None = Field(None, description="generic JSON webhook for investigations")
    notify_webhook_severity: Literal["critical", "high", "medium", "low"] = Field("medium", description="its floor")
    notify_slack_url: SecretStr | None = Field(None, description="Slack incoming-webhook URL")
    notify_slack_severity: Literal["critical", "high", "medium", "low"] = Field("high", description="its floor")
    notify_teams_url: SecretStr | None = Field(None, description="Microsoft Teams incoming-webhook URL")
    notify_teams_severity: Literal["critical", "high", "medium", "low"] = Field("high", description="its floor")
    notify_email_to: str | None = Field(None, description="e-mail recipients, comma-separated (needs NOTIFY_SMTP_HOST)")
    notify_email_severity: Literal["critical", "high", "medium", "low"] = Field("critical", description="its floor")
    notify_smtp_host: str | None = Field(None, description="SMTP server for e-mail notifications")
    notify_smtp_port: int = Field(25, ge=1, le=65535, description="SMTP port")
    notify_email_from: str = Field("resync@localhost", description="sender of e-mail notifications")
    notify_digest_hour: int = Field(7, ge=-1, le=23, description="hour (UTC) of the daily digest; -1: none")

    def notifier_channels(self) -> list[Channel]:
        """The configured notification channels, each with its severity floor."""
        from tools.services.notify import Channel

        def secret(url: SecretStr | None) -> str | None:
            return url.get_secret_value() if url else None

        wanted = [
            ("webhook", secret(self.notify_webhook_url), self.notify_webhook_severity),
            ("slack", secret(self.notify_slack_url), self.notify_slack_severity),
            ("teams", secret(self.notify_teams_url), self.notify_teams_severity),
            ("email", self.notify_email_to if self.notify_smtp_host else None, self.notify_email_severity),
        ]
        return [Channel(kind, target, floor) for kind, target, floor in wanted if target]

    def smtp(self) -> Smtp | None:
        from tools.services.notify import Smtp

        return (
            Smtp(self.notify_smtp_host, self.notify_smtp_port, self.notify_email_from)
            if self.notify_smtp_host
            else None
        )

    # --- retention (0 keeps forever; approvals and incident history are never pruned) -----------------
    retention_tool_executions_days: int = Field(30, ge=0, le=3650, description="days tool executions are kept")
    retention_threads_days: int = Field(
        30, ge=0, le=3650, description="days a conversation's checkpoints are kept after its last turn"
    )
    retention_answers_days: int = Field(180, ge=0, le=3650, description="days answer runs and feedback are kept")
    retention_investigations_days: int = Field(90, ge=0, le=3650, description="days investigations are kept")
    prune_interval_seconds: float = Field(3600, ge=60, le=604800, description="how often the pruning runs")

    def retention(self) -> Retention:
        from tools.store.retention import Retention

        return Retention(
            tool_executions_days=self.retention_tool_executions_days,
            threads_days=self.retention_threads_days,
            answers_days=self.retention_answers_days,
            investigations_days=self.retention_investigations_days,
        )

    @field_validator("tws_base_url", "openai_base_url", "database_url")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("tws_base_url", "openai_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("approval_four_eyes_actions")
    @classmethod
    def _actions(cls, value: str) -> str:
        if not value.strip():
            return value
        from tools.actions import ACTIONS, REQUEST_TOOLS, TOOLS

        unknown = set(comma_list(value)) - set(ACTIONS) - set(TOOLS) - set(REQUEST_TOOLS)
        if unknown:
            raise ValueError(f"unknown actions {', '.join(sorted(unknown))}; known: {', '.join(ACTIONS)}")
        return value

    @field_validator("production_day_start")
    @classmethod
    def _day_start(cls, value: str) -> str:
        from tools.days import parse_start

        if value.strip() and parse_start(value) is None:
            raise ValueError(f"{value!r} is not a time of day (HH:MM, e.g. 06:00)")
        return value.strip()

    @field_validator("prompt_version")
    @classmethod
    def _prompt(cls, value: str) -> str:
        from graph.prompts import available_versions

        if value not in available_versions():
            raise ValueError(f"unknown prompt version; available: {', '.join(available_versions())}")
        return value

    @field_validator("ab_variants")
    @classmethod
    def _variants(cls, value: str) -> str:
        from graph.variants import variant_names

        unknown = set(comma_list(value)) - set(variant_names())
        if unknown:
            raise ValueError(f"unknown variants {', '.join(sorted(unknown))}; known: {', '.join(variant_names())}")
        return value

    @field_validator("api_keys")
    @classmethod
    def _static_keys(cls, value: str) -> str:
        from .keys import parse_static_keys

        parse_static_keys(value)  # the parser the server uses: what it refuses, startup never sees
        return value

    @field_validator("knowledge_dir")
    @classmethod
    def _knowledge(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def uses_simulator(self) -> bool:
        return self.tws_base_url is None

    @property
    def llm_configured(self) -> bool:
        return self.openai_api_key is not None or self.openai_base_url is not None

    @property
    def openai_key(self) -> str | None:
        """The OpenAI-compatible server's key in clear, for the clients that send it."""
        return self.openai_api_key.get_secret_value() if self.openai_api_key else None
