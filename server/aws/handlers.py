"""The three Lambda handlers over one runtime: what `server.lambdas` exposes, and what the
emulator and tests run over a runtime of their own."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent
from mangum import Mangum

from server.aws.http_app import create_http_app
from server.aws.lambda_runtime import AwsRuntime
from server.aws.stream import StreamFanout
from server.aws.websocket import WebSocketHandler

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class LambdaHandlers:
    """`(event, context) -> answer` for the HTTP API, the WebSocket API and the table's stream."""

    http: Handler
    websocket: Handler
    stream: Handler


def _ensure_event_loop() -> None:
    """Mangum runs on the thread's event loop: Lambda's main thread has one, a host's worker thread not."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


def lambda_handlers(runtime: AwsRuntime) -> LambdaHandlers:
    """The handlers over `runtime`. Each is synchronous, as Lambda calls it: a host with an event
    loop of its own calls them from a thread."""
    mangum = Mangum(create_http_app(runtime), lifespan="off")
    socket = WebSocketHandler(runtime)
    fanout = StreamFanout(runtime)

    def http(event: dict[str, Any], context: Any) -> dict[str, Any]:
        _ensure_event_loop()
        return dict(mangum(event, context))

    def websocket(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return asyncio.run(socket.handle(APIGatewayWebSocketEvent(event)))

    return LambdaHandlers(http=http, websocket=websocket, stream=fanout.handle)
