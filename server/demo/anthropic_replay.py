"""A local HTTP endpoint speaking the Anthropic Messages API, answering with replayed turns.

The core of both the test fake (scripted turns and faults) and the demo (a recorded
session). A *turn* is a dict: a reply ``{"content": [...], "stop_reason": "tool_use"}``
or a fault ``{"status": 529, "error": {"type": ..., "message": ...}, "headers": {...}}``;
either may carry ``"delay"`` (seconds to wait before answering) and ``"cut": true`` (the
connection is closed halfway through the body, as a dropped connection leaves it). Usage is reported like
the API's, cache reads and writes derived from the request's cache_control breakpoints.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

MESSAGES_PATH = "/v1/messages"


@dataclass
class RecordedRequest:
    """One request as the endpoint received it."""

    body: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Reply:
    """What the endpoint sends back for one request."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: bool = False  # close the connection halfway through the body


Responder = Callable[[RecordedRequest], Reply]


def estimate_tokens(value: object) -> int:
    """A stand-in tokenizer: a quarter of the JSON length."""
    return max(1, len(json.dumps(value, sort_keys=True)) // 4)


def _segments(body: dict[str, Any]) -> list[tuple[object, bool]]:
    """The prompt in cache order (tools, system, messages), block by block, with breakpoint flags."""
    segments: list[tuple[object, bool]] = []

    def add(block: Any, prefix: object = None) -> None:
        marked = isinstance(block, dict) and "cache_control" in block
        clean = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
        segments.append(((prefix, clean), marked))

    for tool in body.get("tools") or []:
        add(tool, "tool")
    system = body.get("system") or []
    for block in [{"type": "text", "text": system}] if isinstance(system, str) else system:
        add(block, "system")
    for message in body.get("messages") or []:
        content = message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
        for position, block in enumerate(blocks):
            add(block, message.get("role") if position == 0 else None)
    return segments


class CacheMeter:
    """Prompt-cache accounting: prefixes written at breakpoints are read back by later requests."""

    def __init__(self) -> None:
        self._written: set[str] = set()
        self._lock = threading.Lock()

    def usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, int]:
        """The `usage` of a reply with `content` to request `body`."""
        segments = _segments(body)
        digests, totals, digest, total = [], [], hashlib.sha256(), 0
        for value, _ in segments:
            digest.update(json.dumps(value, sort_keys=True).encode())
            total += estimate_tokens(value)
            digests.append(digest.copy().hexdigest())
            totals.append(total)
        breakpoints = [i for i, (_, marked) in enumerate(segments) if marked]
        read = write = 0
        if breakpoints:
            last = breakpoints[-1]
            with self._lock:
                hit = next((i for i in range(last, -1, -1) if digests[i] in self._written), None)
                read = totals[hit] if hit is not None else 0
                write = totals[last] - read
                self._written.update(digests[i] for i in breakpoints)
        return {
            "input_tokens": total - read - write,
            "output_tokens": estimate_tokens(content),
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
        }


_ids = count(1)


def error_reply(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An API error response."""
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return Reply(status=status, body=body, headers=dict(headers or {}))


def turn_reply(turn: dict[str, Any], request: RecordedRequest, meter: CacheMeter) -> Reply:
    """The Reply for one turn dict (a message or a fault) answering `request`."""
    delay, cut = float(turn.get("delay", 0.0)), bool(turn.get("cut", False))
    if "error" in turn:
        error = turn["error"]
        reply = error_reply(int(turn.get("status", 500)), error["type"], error["message"], turn.get("headers"))
        reply.delay, reply.cut = delay, cut
        return reply
    content = [dict(block) for block in turn.get("content", [])]
    for block in content:
        if block.get("type") == "tool_use":
            block.setdefault("id", f"toolu_replay_{next(_ids):06d}")
    body = {
        "id": f"msg_replay_{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": request.body.get("model", "unknown"),
        "content": content,
        "stop_reason": turn.get("stop_reason", "end_turn"),
        "stop_sequence": None,
        "usage": meter.usage(request.body, content),
    }
    return Reply(status=200, body=body, delay=delay, cut=cut)


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 answering POST /v1/messages with `responder`."""

    def __init__(self, responder: Responder, host: str = "127.0.0.1", port: int = 0) -> None:
        self.responder = responder
        self.requests: list[RecordedRequest] = []
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="anthropic-replay", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ReplayServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and free the port."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def handle(self, request: RecordedRequest) -> Reply:
        """Record `request` and answer it; a failing responder is a 500 the client won't retry."""
        self.requests.append(request)
        try:
            return self.responder(request)
        except Exception as error:  # the test or demo script is broken: say so, don't hang
            return error_reply(500, "api_error", f"replay failed: {error!r}", {"x-should-retry": "false"})


def _handler_for(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body are separate writes: with Nagle on, a kept-alive connection waits
        # for the client's delayed ACK (~40 ms) before the body goes out.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            if len(raw) < length:
                # The client went away mid-request (a killed worker): no request to answer, nor anyone to answer.
                self.close_connection = True
                return
            if self.path.split("?")[0] != MESSAGES_PATH:
                self._send(error_reply(404, "not_found_error", f"no endpoint {self.path}"))
                return
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._send(error_reply(400, "invalid_request_error", "the body is not JSON"))
                return
            if body.get("stream"):
                self._send(error_reply(400, "invalid_request_error", "this endpoint does not stream"))
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            self._send(server.handle(RecordedRequest(body=body, headers=headers)))

        def do_GET(self) -> None:
            self._send(error_reply(404, "not_found_error", f"no endpoint {self.path}"))

        def _send(self, reply: Reply) -> None:
            if reply.delay:
                time.sleep(reply.delay)
            data = json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("request-id", f"req_replay_{next(_ids):06d}")
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if reply.cut:
                    # The full length was promised: the client sees the body end early, not a short reply.
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. timed out on a slow reply) and will retry

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the tests and the server log say what matters

    return Handler
