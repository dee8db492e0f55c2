"""What the Lambda handlers share: settings, store, dispatcher, registry, callbacks — made once per process."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import strawberry

from core.errors import ConfigurationError
from core.ports import Dispatcher, PullRequestHost
from core.settings import Settings
from schema.build import get_schema
from server.aws.batch_dispatcher import BatchDispatcher
from server.aws.callbacks import ConnectionCallbacks
from server.aws.clients import aws_client, connections_client, required
from server.aws.operations import Ports
from server.aws.registry import SubscriptionRegistry
from server.web.auth import TokenGuard

if TYPE_CHECKING:  # botocore and the adapters load on first use, not with this module
    from botocore.client import BaseClient

    from store.dynamodb import DynamoStore

MAX_SUBSCRIPTIONS_PER_CONNECTION = 50


@dataclass
class AwsRuntime:
    """The AWS ports the handlers run on; tests build one over clients pointed at moto."""

    settings: Settings
    store: DynamoStore
    dispatcher: Dispatcher
    registry: SubscriptionRegistry
    callbacks: ConnectionCallbacks | None
    pull_requests: PullRequestHost | None = None  # None: no GitHub function (CODY_BATCH_GITHUB_FUNCTION)

    def __post_init__(self) -> None:
        self.guard = TokenGuard(self.settings)
        self.schema: strawberry.Schema = get_schema()

    @property
    def ports(self) -> Ports:
        return Ports(self.store, self.dispatcher, self.settings, self.guard.signing_key, self.pull_requests)

    def connections(self) -> ConnectionCallbacks:
        """The `@connections` API (CODY_BATCH_WS_ENDPOINT)."""
        if self.callbacks is None:
            raise ConfigurationError("CODY_BATCH_WS_ENDPOINT (the WebSocket API's callback URL) is not set")
        return self.callbacks

    @classmethod
    def from_clients(
        cls,
        settings: Settings,
        *,
        dynamodb: BaseClient,
        s3: BaseClient,
        batch: BaseClient,
        connections: BaseClient | None,
        lambda_client: BaseClient | None = None,
        max_subscriptions: int = MAX_SUBSCRIPTIONS_PER_CONNECTION,
    ) -> AwsRuntime:
        """A runtime over the given boto3 clients (`connections`: apigatewaymanagementapi, or None;
        `lambda_client`: to invoke the GitHub function CODY_BATCH_GITHUB_FUNCTION names)."""
        from server.aws.pull_request_calls import InvokedPullRequestHost
        from store.dynamodb import DynamoStore

        table, bucket = required(settings, "table", "bucket")
        store = DynamoStore(dynamodb, s3, table, bucket)
        return cls(
            settings=settings,
            store=store,
            # Batch settings are checked when a run is dispatched: the stream handler never needs them.
            dispatcher=BatchDispatcher(settings, store, batch),
            registry=SubscriptionRegistry(dynamodb, table, max_subscriptions),
            callbacks=None if connections is None else ConnectionCallbacks(connections),
            pull_requests=(
                InvokedPullRequestHost(lambda_client, settings.github_function)
                if lambda_client is not None and settings.github_function
                else None
            ),
        )


@cache
def runtime() -> AwsRuntime:
    """The process's runtime, from the environment, on first use (a warm Lambda keeps it)."""
    from server.aws.deployment_secret import aws_settings

    settings = aws_settings()
    endpoint = settings.ws_endpoint
    return AwsRuntime.from_clients(
        settings,
        dynamodb=aws_client("dynamodb"),
        s3=aws_client("s3"),
        batch=aws_client("batch"),
        connections=None if not endpoint else connections_client(endpoint),
        lambda_client=aws_client("lambda") if settings.github_function else None,
    )
