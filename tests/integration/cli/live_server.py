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
    listener.bind(("127.0.0.1", port))
    return listener


class LiveServer:
    """Serves an ASGI app on 127.0.0.1 on a port of its own; `stop(keep_listening=True)` then `start()` serves
    again on that port (with `app` replaced, if the test likes)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        # Bound now and held until `stop()`: a port looked up free and bound only later may be taken in between.
        self._listener: socket.socket | None = _bind(0)
        self.port = int(self._listener.getsockname()[1])
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def start(self) -> LiveServer:
        if self._listener is None:
            raise RuntimeError("the test server was stopped for good")
        config = uvicorn.Config(self.app, log_level="warning", lifespan="auto")
        self._server = uvicorn.Server(config)
        # uvicorn closes the socket it serves when it stops: it gets a duplicate, so the port stays ours.
        serving = {"sockets": [self._listener.dup()]}
        self._thread = threading.Thread(target=self._server.run, kwargs=serving, daemon=True)
        self._thread.start()
        # Waiting for readiness, not timing anything: the test fails below if it never starts.
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline and self._thread.is_alive():
            if self._server.started:
                return self
            time.sleep(0.01)
        raise RuntimeError("the test server did not start")

    def stop(self, keep_listening: bool = False) -> None:
        """Stop serving; with `keep_listening`, clients that connect until the next `start()` wait in the
        socket's backlog instead of being refused."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=PATIENCE)
            self._server = None
        if self._listener is not None and not keep_listening:
            self._listener.close()
            self._listener = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
