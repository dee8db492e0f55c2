"""An HTTP proxy in front of one endpoint (moto server, say) that forwards every request but keeps the first
one matching a rule back, undone, until released; then drops it. A real service stalled mid-request, for
tests that must kill a process while it waits on exactly that request.

    with HoldingProxy(moto.url, lambda headers, body: b"patches/" in body) as proxy:
        env["AWS_ENDPOINT_URL_DYNAMODB"] = proxy.url
        ...
        proxy.arrived.wait()
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from tests.patience import PATIENCE

Rule = Callable[[dict[str, str], bytes], bool]
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"})


class HoldingProxy:
    """`.url` to send requests to; `.arrived` is set when the held request came, `.release` drops it."""

    def __init__(self, upstream: str, rule: Rule) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rule = rule
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def holds(self, headers: dict[str, str], body: bytes) -> bool:
        """Whether this request is the one to keep back (only the first that matches is)."""
        with self._lock:
            if self.arrived.is_set() or not self.rule(headers, body):
                return False
            self.arrived.set()
            return True

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list[Any], bytes]:
        """Send the request upstream as it came; the answer's status, headers and body."""
        connection = http.client.HTTPConnection(*self.upstream, timeout=PATIENCE)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def __enter__(self) -> HoldingProxy:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


def _handler_for(proxy: HoldingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _proxy(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if proxy.holds({k.lower(): v for k, v in headers.items()}, body):
                proxy.release.wait(PATIENCE)
                self.close_connection = True  # dropped undone: the client, if still there, sees the connection end
                return
            status, answer_headers, data = proxy.forward(self.command, self.path, headers, body)
            self.send_response(status)
            for key, value in answer_headers:
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _proxy

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
