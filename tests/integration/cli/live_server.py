"""A real uvicorn server in a background thread, for tests that talk HTTP and WebSocket."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from tests.patience import PATIENCE


def free_port() -> int:
    """A TCP port nobody listens on right now (for a server in another process; one in this process binds its
    own, see `LiveServer`)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bind(port: int) -> socket.socket:
    listener = socket.socket()
    # A restart binds the port its stopped server left, whose connections may linger in TIME_WAIT.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    return listener


class LiveServer:
    """Serves an ASGI app on 127.0.0.1 on a port of its own; `stop()` then `start()` restarts it on that port."""

    def __init__(self, app: Any, port: int | None = None) -> None:
        self.app = app
        # Bound now and held: a port looked up free and bound only later may be taken in between.
        self._listener: socket.socket | None = _bind(port or 0)
        self.port = int(self._listener.getsockname()[1])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def start(self) -> LiveServer:
        listener = self._listener or _bind(self.port)
        self._listener = listener
        config = uvicorn.Config(self.app, log_level="warning", lifespan="auto")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listener]}, daemon=True)
        self._thread.start()
        # Waiting for readiness, not timing anything: the test fails below if it never starts.
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline and self._thread.is_alive():
            if self._server.started:
                return self
            time.sleep(0.01)
        raise RuntimeError("the test server did not start")

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=PATIENCE)
            self._server = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
