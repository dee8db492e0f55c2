"""The three Lambda handlers over one runtime: what `server.lambdas` exposes, and what the
emulator and tests run over a runtime of their own.

Each factory imports only its own handler's code: the three functions share one bundle, and a
stream Lambda's cold start never loads Starlette or Mangum.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.aws.lambda_runtime import AwsRuntime

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _ensure_event_loop() -> None:
    """Mangum runs on the thread's event loop: Lambda's main thread has one, a host's worker thread not."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


def http_handler(runtime: AwsRuntime) -> Handler:
    """API Gateway HTTP API (payload 2.0) -> Mangum -> the HTTP app."""
    from mangum import Mangum

    from server.aws.http_app import create_http_app

    mangum = Mangum(create_http_app(runtime), lifespan="off")

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _ensure_event_loop()
        return dict(mangum(event, context))

    return handle


def websocket_handler(runtime: AwsRuntime) -> Handler:
    """API Gateway WebSocket API events -> graphql-transport-ws."""
    from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent

    from server.aws.websocket import WebSocketHandler

    socket = WebSocketHandler(runtime)

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return asyncio.run(socket.handle(APIGatewayWebSocketEvent(event)))

    return handle


def stream_handler(runtime: AwsRuntime) -> Handler:
    """DynamoDB Streams batches -> `next` frames to subscribers, `batchItemFailures` back."""
    from server.aws.stream import StreamFanout

    return StreamFanout(runtime).handle


@dataclass(frozen=True)
class LambdaHandlers:
    """`(event, context) -> answer` for the HTTP API, the WebSocket API and the table's stream."""

    http: Handler
    websocket: Handler
    stream: Handler


def lambda_handlers(runtime: AwsRuntime) -> LambdaHandlers:
    """All three handlers over `runtime` (the emulator's and the tests' way in). Each is synchronous,
    as Lambda calls it: a host with an event loop of its own calls them from a thread."""
    return LambdaHandlers(
        http=http_handler(runtime), websocket=websocket_handler(runtime), stream=stream_handler(runtime)
    )
