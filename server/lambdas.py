"""The Lambda handlers (names pinned in docs/DESIGN.md); each is a thin call into server/aws/.

Importing this module creates no client and reads no setting: the runtime (settings, boto3
clients, store, schema) is built on the first invocation and kept while the Lambda is warm.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from server.aws.handlers import LambdaHandlers, lambda_handlers
from server.aws.lambda_runtime import runtime


@cache
def handlers() -> LambdaHandlers:
    """The process's handlers, built on the first invocation (a warm Lambda keeps them)."""
    return lambda_handlers(runtime())


def http_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0): /graphql, patch downloads, /config.json."""
    return handlers().http(event, context)


def websocket_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway WebSocket API: $connect, $disconnect and $default, speaking graphql-transport-ws."""
    return handlers().websocket(event, context)


def stream_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """DynamoDB Streams: push each new job event to its subscribers; `batchItemFailures` per record."""
    return handlers().stream(event, context)
