"""boto3 clients, made on first use and kept for the process (a warm Lambda reuses them).

Nothing is made at import time: a handler module imports fast, and a test points the clients at
moto before the first call. boto3 honours `AWS_ENDPOINT_URL`, so an emulator needs no code here.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from core.errors import ConfigurationError
from core.ports import Store
from core.settings import Settings

if TYPE_CHECKING:  # botocore and the adapters load on first use, not with this module
    from botocore.client import BaseClient

    from server.aws.batch_dispatcher import BatchDispatcher
    from store.dynamodb import DynamoStore


# PostToConnection answers in milliseconds; a post still unanswered after this is given up on.
POST_READ_TIMEOUT = 10.0


@cache
def aws_client(service: str, endpoint_url: str | None = None) -> BaseClient:
    """The process's client for `service` (at `endpoint_url` when given)."""
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url)


def connections_client(endpoint_url: str, read_timeout: float = POST_READ_TIMEOUT) -> BaseClient:
    """The `@connections` client: short timeouts and no retries of the SDK's, which would post a
    frame again after a timeout that may have delivered it (server/aws/callbacks.py retries what is safe)."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=read_timeout, retries={"total_max_attempts": 1})
    return boto3.client("apigatewaymanagementapi", endpoint_url=endpoint_url, config=config)


def required(settings: Settings, *names: str) -> list[str]:
    """The named AWS settings' values; ConfigurationError naming those that are missing."""
    values = [getattr(settings, name) for name in names]
    missing = [f"CODY_BATCH_{name.upper()}" for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise ConfigurationError(f"the aws backend needs {', '.join(missing)}")
    return [str(value) for value in values]


def dynamo_store(settings: Settings) -> DynamoStore:
    """The DynamoDB + S3 store named by CODY_BATCH_TABLE and CODY_BATCH_BUCKET."""
    from store.dynamodb import DynamoStore

    table, bucket = required(settings, "table", "bucket")
    return DynamoStore(aws_client("dynamodb"), aws_client("s3"), table, bucket)


def batch_dispatcher(settings: Settings, store: Store) -> BatchDispatcher:
    """The AWS Batch dispatcher over CODY_BATCH_JOB_QUEUE and CODY_BATCH_JOB_DEFINITION."""
    from server.aws.batch_dispatcher import BatchDispatcher

    required(settings, "job_queue", "job_definition")
    return BatchDispatcher(settings, store, aws_client("batch"))
