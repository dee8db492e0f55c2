"""What every backend Lambda function shares: runtime, code, settings and a log group with retention."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from core.settings import Settings
from infra.bundling import RUNTIME

HANDLERS = {
    "http": "server.lambdas.http_handler",
    "websocket": "server.lambdas.websocket_handler",
    "stream": "server.lambdas.stream_handler",
    "batch": "server.lambdas.batch_handler",
    "github": "server.aws.github_lambda.github_handler",
}
"""The stable handler names of docs/DESIGN.md."""


def setting(field: str) -> str:
    """The environment variable core.settings reads for `field`; an unknown field fails the synth."""
    if field not in Settings.model_fields:
        raise KeyError(f"core.settings.Settings has no field {field!r}")
    return f"{Settings.model_config.get('env_prefix', '')}{field}".upper()


def settings_environment(values: Mapping[str, str]) -> dict[str, str]:
    """Settings fields to environment variables, named as core.settings reads them."""
    return {setting(field): value for field, value in values.items()}


def log_group(scope: Construct, construct_id: str, *, retention: logs.RetentionDays) -> logs.LogGroup:
    """A log group that keeps logs for `retention` and goes with the stack."""
    return logs.LogGroup(
        scope,
        construct_id,
        retention=retention,
        removal_policy=RemovalPolicy.DESTROY,
    )


class BackendFunction(lambda_.Function):
    """One of the handlers of HANDLERS on its code asset."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: str,
        code: lambda_.Code,
        environment: Mapping[str, str],
        memory_mb: int,
        timeout: Duration,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler=HANDLERS[handler],
            code=code,
            environment=dict(environment),
            memory_size=memory_mb,
            timeout=timeout,
            log_group=log_group(scope, f"{construct_id}Logs", retention=log_retention),
        )
