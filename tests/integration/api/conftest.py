"""A real uvicorn server on a port of its own, and a graphql-transport-ws client."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from core.settings import Settings
from server.runtime.container import Container
from server.web.app import create_app
from tests.fakes.dispatcher import RecordingDispatcher
from tests.patience import PATIENCE

GUARD = PATIENCE  # a deadlock guard, never a speed assertion

# The smallest subscription whose answer shows the server has run it (see `settled`).
MARKER = "subscription($id: ID!) { jobUpdated(id: $id) { id } }"


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def live_server(settings: Settings, store: Any, dispatcher: RecordingDispatcher) -> Iterator[str]:
    """The app served by uvicorn in a thread; yields its base URL."""
    app = create_app(Container(settings=settings, store=store, dispatcher=dispatcher, feed=store), spa_dir=None)
    # Bound here and handed to uvicorn: a port looked up free and bound later may be taken in between.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + GUARD
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(GUARD)
    listener.close()


class GraphQLWS:
    """A minimal graphql-transport-ws client over a real WebSocket."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._ids = 0

    @classmethod
    async def open(cls, host: str, payload: dict[str, Any] | None = None) -> GraphQLWS:
        connection = await connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        client = cls(connection)
        await client.send({"type": "connection_init", "payload": payload or {}})
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        return json.loads(await asyncio.wait_for(self.connection.recv(), GUARD))

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        op_id = str(self._ids)
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
        return op_id

    async def next_payload(self, op_id: str) -> dict[str, Any]:
        """The next `next`/`error` message of an operation (pings answered, others skipped)."""
        while True:
            message = await self.receive()
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            if message.get("id") == op_id and message["type"] in ("next", "error"):
                return message

    async def close(self) -> None:
        await self.connection.close()


async def settled(ws: GraphQLWS, job_id: str) -> None:
    """Returns once the server runs every subscription this client sent before: operations start in the
    order they arrive, so one that has answered means the earlier ones have joined their feeds."""
    marker = await ws.subscribe(MARKER, {"id": job_id})
    await ws.next_payload(marker)
    await ws.send({"id": marker, "type": "complete"})
