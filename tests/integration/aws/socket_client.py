"""Drives websocket handling as API Gateway would: one event per `$connect`, message, `$disconnect`."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayWebSocketEvent

from server.aws.emulator.gateway_events import WebSocketPeer, connect_event, disconnect_event, message_event
from server.aws.lambda_runtime import AwsRuntime
from server.aws.websocket import WebSocketHandler
from tests.fakes.connections_server import FakeConnections

PROTOCOL = {"Sec-WebSocket-Protocol": "graphql-transport-ws"}


class SocketClient:
    """One client connection through the handler; frames arrive at the `@connections` stand-in."""

    def __init__(self, runtime: AwsRuntime, connections: FakeConnections, connection_id: str) -> None:
        self.handler = WebSocketHandler(runtime)
        self.connections = connections
        self.connection_id = connection_id
        self.peer = WebSocketPeer(connection_id, "abc123.execute-api.us-east-1.amazonaws.com", "127.0.0.1", 0)

    async def connect(self, headers: dict[str, str] | None = None) -> dict[str, Any]:
        event = connect_event(self.peer, (PROTOCOL if headers is None else headers).items(), [])
        return await self.handler.handle(APIGatewayWebSocketEvent(event))

    async def send(self, message: dict[str, Any] | str | bytes) -> dict[str, Any]:
        body = message if isinstance(message, str | bytes) else json.dumps(message)
        return await self.handler.handle(APIGatewayWebSocketEvent(message_event(self.peer, body)))

    async def disconnect(self) -> dict[str, Any]:
        event = disconnect_event(self.peer, 1000, "Client-side close frame status code")
        return await self.handler.handle(APIGatewayWebSocketEvent(event))

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
