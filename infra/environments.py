"""Deployment environments (`cdk deploy -c env=dev|prod`): names, sizes, capacity and settings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from aws_cdk import aws_logs as logs

from core.settings import DEFAULT_MODEL
from server.aws import batch_definitions as batch_defs


class ContextError(ValueError):
    """The CDK context names an unknown environment or gives a bad value."""


@dataclass(frozen=True, kw_only=True)
class Capacity:
    """DynamoDB capacity: on-demand, or provisioned with auto scaling between the bounds."""

    on_demand: bool
    min_read: int = 1
    max_read: int = 1
    min_write: int = 1
    max_write: int = 1


@dataclass(frozen=True, kw_only=True)
class Environment:
    """Everything that differs between dev and prod."""

    name: str
    allowed_repos: tuple[str, ...] = ()
    model: str = DEFAULT_MODEL
    capacity: Capacity
    retain_data: bool
    """Keep the table and buckets when the stack is deleted (prod), or delete them (dev)."""
    lambda_memory_mb: int = 1024
    http_rate_limit: int = 50
    """Requests per second the HTTP API accepts (steady); bursts up to twice that."""
    websocket_rate_limit: int = 50
    worker_max_vcpus: int = 16
    """Upper bound of the compute environment: runs at once times each worker's vCPUs."""
    worker_spot: bool
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    alarm_email: str | None = None
    pull_request_refresh_seconds: float = 300
    """Seconds between scheduled refreshes of open pull requests (whole minutes, rounded up); 0: none."""
    secret: str | None = None
    """An existing Secrets Manager secret (ARN or name) to use instead of the one the stack creates."""

    @property
    def stack_name(self) -> str:
        return f"CodyBatch-{self.name}"

    @property
    def refresh_minutes(self) -> int | None:
        """The refresh rule's rate in minutes (EventBridge's finest), or None: off at 0."""
        if self.pull_request_refresh_seconds <= 0:
            return None
        return max(1, math.ceil(self.pull_request_refresh_seconds / 60))


ENVIRONMENTS: dict[str, Environment] = {
    "dev": Environment(
        name="dev",
        capacity=Capacity(on_demand=True),
        retain_data=False,
        worker_spot=True,
        worker_max_vcpus=8,
        log_retention=logs.RetentionDays.TWO_WEEKS,
    ),
    "prod": Environment(
        name="prod",
        capacity=Capacity(on_demand=False, min_read=5, max_read=200, min_write=5, max_write=200),
        retain_data=True,
        worker_spot=False,
        worker_max_vcpus=batch_defs.MAX_VCPUS,
        http_rate_limit=200,
        websocket_rate_limit=200,
        log_retention=logs.RetentionDays.THREE_MONTHS,
    ),
}


def _patterns(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple):
        return tuple(str(part) for part in value)
    raise ContextError(f"allowedRepos must be a comma-separated string or a list, not {value!r}")


def _seconds(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds >= 0:  # also NaN
        raise ContextError(f"pullRequestRefreshSeconds must be a number of seconds, 0 for none, not {value!r}")
    return seconds


def resolve(context: Mapping[str, Any]) -> Environment:
    """The environment named by context `env` (default dev), with context overrides."""
    name = str(context.get("env") or "dev")
    if name not in ENVIRONMENTS:
        raise ContextError(f"unknown environment {name!r}: use -c env=" + "|".join(ENVIRONMENTS))
    environment = ENVIRONMENTS[name]
    overrides: dict[str, Any] = {}
    if context.get("allowedRepos") is not None:
        overrides["allowed_repos"] = _patterns(context["allowedRepos"])
    if context.get("model"):
        overrides["model"] = str(context["model"])
    if context.get("alarmEmail"):
        overrides["alarm_email"] = str(context["alarmEmail"])
    if context.get("pullRequestRefreshSeconds") is not None:
        overrides["pull_request_refresh_seconds"] = _seconds(context["pullRequestRefreshSeconds"])
    if context.get("secret"):
        overrides["secret"] = str(context["secret"])
    return replace(environment, **overrides)
