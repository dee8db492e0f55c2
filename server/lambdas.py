"""The Lambda handlers (names pinned in docs/DESIGN.md); each is a thin call into server/aws/.

Importing this module creates no client and reads no setting: the runtime (settings, boto3
clients, store, schema) is built on the first invocation and kept while the Lambda is warm.
Handlers are synchronous, as Lambda calls them; a host with its own event loop calls them
from a thread.
"""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent
from mangum import Mangum

from server.aws.http_app import create_http_app
from server.aws.lambda_runtime import runtime
from server.aws.stream import StreamFanout
from server.aws.websocket import WebSocketHandler


@cache
def _http() -> Mangum:
    return Mangum(create_http_app(runtime()), lifespan="off")


def http_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway HTTP API (payload v2): /graphql, patch downloads, /config.json."""
    return dict(_http()(event, context))


def websocket_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway WebSocket API: $connect, $disconnect and $default, speaking graphql-transport-ws."""
    return asyncio.run(WebSocketHandler(runtime()).handle(APIGatewayWebSocketEvent(event)))


def stream_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """DynamoDB Streams: push each new job event to its subscribers; `batchItemFailures` per record."""
    return StreamFanout(runtime()).handle(event, context)
