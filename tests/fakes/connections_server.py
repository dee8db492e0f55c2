"""A stand-in for API Gateway's `@connections` callback API over HTTP, for the real boto3 client.

moto records posts but never answers 410, and concatenates frames; this one keeps each frame
and answers 410 GoneException for the connections a test marks gone, as API Gateway does for a
client that left. A post can be held on its way (`hold_next`), to make a race deterministic.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class HeldPost:
    """A post that waits, once it has arrived, until the test releases it."""

    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


class FakeConnections:
    """POST/DELETE/GET `/@connections/{id}` (under any stage prefix), recording what arrived."""

    def __init__(self) -> None:
        self.frames: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.deleted: list[str] = []
        self.gone: set[str] = set()
        self.failing: set[str] = set()
        self.dropping: set[str] = set()
        """Connections whose next post is read and not taken in: the socket closes unanswered."""
        self._held: dict[str, HeldPost] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/test"

    def __enter__(self) -> FakeConnections:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def sent(self, connection_id: str) -> list[dict[str, Any]]:
        """Frames posted to a connection, in order."""
        with self._lock:
            return list(self.frames[connection_id])

    def hold_next(self, connection_id: str) -> HeldPost:
        """Hold the next post to `connection_id` until `released` is set; it is recorded then."""
        held = HeldPost()
        with self._lock:
            self._held[connection_id] = held
        return held

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _connection(self) -> str:
                return unquote(self.path.rsplit("/@connections/", 1)[-1])

            def _answer(self, status: int, error: str | None = None) -> None:
                body = b"" if error is None else json.dumps({"message": error}).encode()
                try:
                    self.send_response(status)
                    if error is not None:
                        self.send_header("x-amzn-ErrorType", error)
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    return  # a held post's caller stopped waiting for the answer

            def do_POST(self) -> None:
                connection = self._connection()
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with fake._lock:
                    held = fake._held.pop(connection, None)
                    dropped = connection in fake.dropping
                    fake.dropping.discard(connection)
                if dropped:
                    self.close_connection = True
                    return None
                if held is not None:
                    held.arrived.set()
                    held.released.wait(timeout=60)
                with fake._lock:
                    if connection in fake.gone:
                        return self._answer(410, "GoneException")
                    if connection in fake.failing:
                        return self._answer(403, "ForbiddenException")
                    fake.frames[connection].append(json.loads(data))
                self._answer(200)

            def do_DELETE(self) -> None:
                connection = self._connection()
                with fake._lock:
                    gone = connection in fake.gone
                    fake.deleted.append(connection)
                    fake.gone.add(connection)
                self._answer(410, "GoneException") if gone else self._answer(204)

        return Handler
