"""The Lambda handlers (names pinned in docs/DESIGN.md); each is a thin call into server/aws/.

Importing this module creates no client, reads no setting and loads no handler's code: each
function builds its own handler on its first invocation (settings, boto3 clients, store, schema)
and keeps it while the Lambda is warm. The four functions of the stack share this bundle, so
each loads only what its handler needs.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from server.aws import handlers


@cache
def _http() -> handlers.Handler:
    from server.aws.lambda_runtime import runtime

    return handlers.http_handler(runtime())


@cache
def _websocket() -> handlers.Handler:
    from server.aws.lambda_runtime import runtime

    return handlers.websocket_handler(runtime())


@cache
def _stream() -> handlers.Handler:
    # The fan-out first: Powertools' batch utility builds pydantic models of every batch source
    # (SQS, Kinesis, Kafka, DynamoDB) when pydantic is already loaded, which the runtime would have done.
    import server.aws.stream  # noqa: F401
    from server.aws.lambda_runtime import runtime

    return handlers.stream_handler(runtime())


@cache
def _batch() -> handlers.Handler:
    from core.settings import Settings
    from server.aws.batch_failures import BatchFailures
    from server.aws.clients import aws_client

    # No schema, no runtime and no deployment secret: it only reads and resumes runs and submits Batch jobs.
    failures = BatchFailures.from_clients(
        Settings(backend="aws"), dynamodb=aws_client("dynamodb"), s3=aws_client("s3"), batch=aws_client("batch")
    )
    return failures.handle


def http_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0): /graphql, patch downloads, /config.json."""
    return _http()(event, context)


def websocket_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway WebSocket API: $connect, $disconnect and $default, speaking graphql-transport-ws."""
    return _websocket()(event, context)


def stream_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """DynamoDB Streams: push each new job event to its subscribers; `batchItemFailures` per record."""
    return _stream()(event, context)


def batch_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge "Batch Job State Change" (FAILED, the worker queue): resume or fail the child's run;
    its Scheduled Event: submit the resumptions whose new Batch job no delivery submitted."""
    return _batch()(event, context)


def reset() -> None:
    """Forget the built handlers and runtime, so the next invocation reads the environment and secret afresh."""
    from server.aws.clients import aws_client
    from server.aws.lambda_runtime import runtime

    for cached in (_http, _websocket, _stream, _batch, runtime, aws_client):
        cached.cache_clear()
