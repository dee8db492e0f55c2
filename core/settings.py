"""All settings, read from the environment (names in docs/DESIGN.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.api_endpoint import DEFAULT_URL

# Newest Sonnet the pinned anthropic SDK lists and does not mark deprecated;
# tests/unit/test_settings.py fails when the SDK moves on.
DEFAULT_MODEL = "claude-sonnet-5-5"

MODELS = (
    "claude-sonnet-5-5",
    "claude-opus-5-5",
    "claude-haiku-5-5",
    "claude-sonnet-4-6",
    "claude-opus-4-7",
    "claude-haiku-4-5",
)

# USD per million tokens: input, output, cache write (5 min), cache read.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "claude-sonnet-5-5": {"input": 3.0, "output": 15.0, "cache_write": 3.75, "cache_read": 0.30},
    "claude-sonnet-4-6": {"input": 3.0, "output": 15.0, "cache_write": 3.75, "cache_read": 0.30},
    "claude-opus-5-5": {"input": 5.0, "output": 25.0, "cache_write": 6.25, "cache_read": 0.50},
    "claude-opus-4-7": {"input": 5.0, "output": 25.0, "cache_write": 6.25, "cache_read": 0.50},
    "claude-haiku-5-5": {"input": 1.0, "output": 5.0, "cache_write": 1.25, "cache_read": 0.10},
    "claude-haiku-4-5": {"input": 1.0, "output": 5.0, "cache_write": 1.25, "cache_read": 0.10},
}

CommaList = Annotated[list[str], NoDecode]

SECRET_VARIABLES = ("ANTHROPIC_API_KEY", "GITHUB_TOKEN", "CODY_BATCH_API_TOKEN", "CODY_BATCH_GITHUB_WEBHOOK_SECRET")
"""The settings that are secrets: environment variables locally, keys of one Secrets Manager secret on AWS."""


def secret_field(variable: str) -> str:
    """The Settings field a secret variable (or the secret's JSON key of that name) sets."""
    if variable not in SECRET_VARIABLES:
        raise KeyError(f"{variable!r} is not one of {', '.join(SECRET_VARIABLES)}")
    return variable.lower().removeprefix("cody_batch_")


def _split(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of Cody Batch; each maps to one environment variable."""

    model_config = SettingsConfigDict(env_prefix="CODY_BATCH_", extra="ignore", populate_by_name=True)

    backend: Literal["local", "aws"] = "local"
    """Where state lives: local (SQLite, subprocess workers) or aws."""
    data_dir: Path = Path(".cody-batch")
    """SQLite file, artifacts and sample repositories (local backend)."""
    host: str = "127.0.0.1"
    """Address the local server binds."""
    port: int = 8000
    """Port the local server binds."""
    url: str = DEFAULT_URL
    """GraphQL endpoint the CLI talks to (its client commands read it, and api_token, with core.api_endpoint)."""
    workers: int = Field(default=8, ge=1, le=64)
    """Runs executed at once by the local dispatcher."""
    allowed_repos: CommaList = Field(default_factory=list)
    """Glob patterns over repository locations; empty means the data dir's samples/*."""
    max_repositories: int = Field(default=5, ge=1, le=50)
    """Repositories per job."""
    model: str = DEFAULT_MODEL
    """Default Claude model."""
    prices: dict[str, dict[str, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    """Price table (USD per million tokens); JSON, merged over the built-in one."""
    max_turns: int = Field(default=40, ge=1)
    """Agent turns per run."""
    max_tokens_per_call: int = Field(default=16000, ge=256)
    """max_tokens sent with each Messages API call."""
    max_run_tokens: int = Field(default=2_000_000, ge=1000)
    """Token budget per run (input + output + cache)."""
    max_cost_usd: float = Field(default=5.0, gt=0)
    """Cost budget per run in USD."""
    max_job_cost_usd: float = Field(default=20.0, gt=0)
    """Cost budget per job in USD (sum of its runs)."""
    max_wall_seconds: float = Field(default=1800, gt=0)
    """Wall time of one run's agent loop."""
    max_resumes: int = Field(default=2, ge=0)
    """Times one attempt of a run is resumed from its thread and checkpoint after its worker or server
    stopped (locally), or its Batch child lost its capacity (on AWS)."""
    fix_rounds: int = Field(default=2, ge=0, le=10)
    """Rounds in which a failing check's output goes back to Claude."""
    allow_commands: bool = False
    """Let the agent run commands and allow check commands."""
    command_timeout: float = Field(default=300, gt=0)
    """Seconds a command (agent tool or check) may run."""
    require_command_isolation: bool = False
    """Refuse commands where bubblewrap cannot isolate them (filesystem, network, processes); when off,
    they then run with whatever isolation unshare gives, and the worker log says so."""
    workspace_dir: Path | None = None
    """Where runs clone repositories (default: the system temp dir; a tmpfs makes big checkouts fast)."""
    api_token: SecretStr | None = None
    """Bearer token required by the API when set."""
    public_url: str | None = None
    """Base URL of the UI, for links back to a job; its host is also one the API answers to."""
    allowed_hosts: CommaList = Field(default_factory=list)
    """Host names the API answers to besides loopback, the bound address and the public URL's host."""
    git_author: str = "Cody Batch <cody-batch@users.noreply.github.com>"
    """Author of commits made for pull requests."""
    github_api_url: str = "https://api.github.com"
    """GitHub REST API base URL."""
    metadata_ttl: int = Field(default=600, ge=0)
    """Seconds repository metadata stays cached."""
    github_max_wait: float = Field(default=60, ge=0)
    """Longest wait (seconds) for a GitHub rate limit to lift before the run fails."""
    github_write_interval: float = Field(default=1.0, ge=0, le=60)
    """Seconds between content-creating GitHub requests (pushes, pull-request writes) of all runs using one token."""
    github_webhook_secret: SecretStr | None = None
    """Secret GitHub signs webhook deliveries with (X-Hub-Signature-256); unset: POST /webhooks/github is off."""
    pull_request_refresh_seconds: float = Field(default=300, ge=0)
    """Seconds between refreshes of open pull requests from GitHub; 0, or a webhook secret set: no periodic refresh."""
    demo: bool = False
    """Replay a recorded model session instead of calling Claude."""
    max_body_bytes: int = 1_000_000
    """Largest GraphQL request body, and WebSocket message, accepted."""
    max_patch_bytes: int = Field(default=10_000_000, ge=1)
    """Largest patch (git diff) a run may store; a larger one fails the run with PATCH_TOO_LARGE."""
    feed_poll_seconds: float = Field(default=0.5, gt=0)
    """Fallback interval at which the local server looks for new events; commits wake it at once."""
    # AWS backend
    table: str | None = None
    bucket: str | None = None
    job_queue: str | None = None
    job_definition: str | None = None
    ws_endpoint: str | None = None
    """Callback URL of the WebSocket API (`https://ID.execute-api.REGION.amazonaws.com/STAGE`)."""
    websocket_url: str | None = None
    """URL clients open the WebSocket at, for /config.json on AWS (default: the callback URL as wss://)."""
    github_function: str | None = None
    """The Lambda function that talks to GitHub for the others (name or ARN); unset: pull requests are not read."""
    secret_arn: str | None = None
    """The Secrets Manager secret (ARN or name) whose JSON holds the SECRET_VARIABLES (AWS functions)."""
    secret_keys: CommaList = Field(default_factory=list)
    """Which of the secret's keys this function reads; the others stay unread."""

    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_API_KEY", "anthropic_api_key")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANTHROPIC_BASE_URL", "anthropic_base_url")
    )
    github_token: SecretStr | None = Field(default=None, validation_alias=AliasChoices("GITHUB_TOKEN", "github_token"))

    @field_validator("api_token", "github_webhook_secret", "anthropic_api_key", "github_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # A secret's key left empty (as the stack creates it) means "not configured", not "the empty token".
        return None if value == "" else value

    @field_validator("allowed_repos", "allowed_hosts", "secret_keys", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        return _split(value)

    @field_validator("prices", mode="before")
    @classmethod
    def _merge_prices(cls, value: object) -> object:
        if isinstance(value, str):
            value = json.loads(value) if value.strip() else {}
        if isinstance(value, dict):
            return {**DEFAULT_PRICES, **value}
        return value

    @property
    def samples_dir(self) -> Path:
        return self.data_dir.resolve() / "samples"

    @property
    def database_path(self) -> Path:
        return self.data_dir.resolve() / "cody-batch.sqlite3"

    @property
    def allowlist(self) -> list[str]:
        """Patterns in force: the configured ones, or the data dir's samples."""
        return self.allowed_repos or [f"{self.samples_dir}/*"]

    @property
    def models(self) -> list[str]:
        return list(dict.fromkeys([self.model, *MODELS]))
