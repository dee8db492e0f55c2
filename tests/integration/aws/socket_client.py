"""Drives websocket handling as API Gateway would: one event per `$connect`, message, `$disconnect`."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent

from server.aws.lambda_runtime import AwsRuntime
from server.aws.websocket import WebSocketHandler
from tests.fakes.apigateway_events import websocket_event
from tests.fakes.connections_server import FakeConnections

PROTOCOL = {"Sec-WebSocket-Protocol": "graphql-transport-ws"}


class SocketClient:
    """One client connection through the handler; frames arrive at the `@connections` stand-in."""

    def __init__(self, runtime: AwsRuntime, connections: FakeConnections, connection_id: str) -> None:
        self.handler = WebSocketHandler(runtime)
        self.connections = connections
        self.connection_id = connection_id

    async def connect(self, headers: dict[str, str] | None = None) -> dict[str, Any]:
        event = websocket_event("$connect", self.connection_id, headers=PROTOCOL if headers is None else headers)
        return await self.handler.handle(APIGatewayWebSocketEvent(event))

    async def send(self, message: dict[str, Any] | str) -> dict[str, Any]:
        body = message if isinstance(message, str) else json.dumps(message)
        return await self.handler.handle(
            APIGatewayWebSocketEvent(websocket_event("$default", self.connection_id, body))
        )

    async def disconnect(self) -> dict[str, Any]:
        return await self.handler.handle(APIGatewayWebSocketEvent(websocket_event("$disconnect", self.connection_id)))

    async def open(self, payload: dict[str, Any] | None = None) -> None:
        """$connect, then connection_init (acknowledged)."""
        await self.connect()
        await self.send({"type": "connection_init", "payload": payload or {}})

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.send({"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    @property
    def frames(self) -> list[dict[str, Any]]:
        return self.connections.sent(self.connection_id)

    @property
    def closed(self) -> bool:
        """DeleteConnection was called: what the protocol's close codes become on API Gateway."""
        return self.connection_id in self.connections.deleted
