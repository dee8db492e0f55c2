"""JsonEndpoint: the base of the small HTTP endpoints tests and benchmarks stand up, answering JSON."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any


class JsonEndpoint(BaseHTTPRequestHandler):
    """A request handler with one way to answer (a JSON body) and no log lines."""

    def read_json(self) -> Any:
        """The request's JSON body."""
        return json.loads(self.rfile.read(int(self.headers["content-length"])))

    def reply_json(self, data: Any, status: int = 200) -> None:
        """Answer with `data` as a JSON body."""
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None
