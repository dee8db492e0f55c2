"""API Gateway's Lambda events, built from a request as API Gateway builds them.

HTTP APIs send payload format 2.0; WebSocket APIs send `$connect`, `$default` and
`$disconnect` events. The shapes follow AWS's documentation, so the handlers see here
exactly what they see behind API Gateway.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"
HTTP_API_ID = "emulatorhttp"
WEBSOCKET_API_ID = "emulatorws"
STAGE = "$default"
WEBSOCKET_STAGE = "live"


@dataclass
class LambdaContext:
    """The context object a Lambda handler gets (what Mangum and Powertools read of it)."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1024
    timeout_ms: int = 30_000
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.timeout_ms - int((time.monotonic() - self._started) * 1000))


def _request_time(now: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))


def _joined_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """API Gateway lowercases names and joins repeated headers with commas."""
    joined: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def _query_parameters(pairs: Iterable[tuple[str, str]]) -> dict[str, str] | None:
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined or None


def _body(body: bytes) -> tuple[str | None, bool]:
    """The body as API Gateway passes it: text as is, anything else base64-encoded."""
    if not body:
        return None, False
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(body).decode(), True


def http_event(
    method: str,
    path: str,
    query_string: str,
    query_pairs: Iterable[tuple[str, str]],
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str,
    scheme: str = "https",
    port: int = 443,
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event for one request."""
    joined = _joined_headers(headers)
    # API Gateway says how the client reached it; Mangum builds the request URL from these.
    joined["x-forwarded-for"] = source_ip
    joined["x-forwarded-proto"] = scheme
    joined["x-forwarded-port"] = str(port)
    cookies = [c.strip() for c in joined.pop("cookie", "").split(";") if c.strip()]
    now = time.time()
    text, encoded = _body(body)
    host = joined.get("host", "localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query_string,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": HTTP_API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": STAGE,
            "time": _request_time(now),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    parameters = _query_parameters(query_pairs)
    if parameters:
        event["queryStringParameters"] = parameters
    if text is not None:
        event["body"] = text
    return event


@dataclass(frozen=True)
class WebSocketPeer:
    """What API Gateway knows of one connection."""

    connection_id: str
    host: str
    source_ip: str
    connected_at: int


def _websocket_context(route: str, event_type: str, peer: WebSocketPeer) -> dict[str, Any]:
    now = time.time()
    return {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": str(uuid.uuid4()),
        "requestTime": _request_time(now),
        "messageDirection": "IN",
        "stage": WEBSOCKET_STAGE,
        "connectedAt": peer.connected_at,
        "requestTimeEpoch": int(now * 1000),
        "identity": {"sourceIp": peer.source_ip},
        "requestId": str(uuid.uuid4()),
        "domainName": peer.host,
        "connectionId": peer.connection_id,
        "apiId": WEBSOCKET_API_ID,
    }


def connect_event(
    peer: WebSocketPeer, headers: Iterable[tuple[str, str]], query_pairs: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    """`$connect`: the handshake's headers and query; the handler's answer accepts or refuses it."""
    pairs = list(headers)
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        # WebSocket events keep header names as the client sent them.
        multi.setdefault(name, []).append(value)
    event: dict[str, Any] = {
        "headers": {name: ",".join(values) for name, values in multi.items()},
        "multiValueHeaders": multi,
        "requestContext": _websocket_context("$connect", "CONNECT", peer),
        "isBase64Encoded": False,
    }
    parameters = _query_parameters(query_pairs)
    if parameters:
        event["queryStringParameters"] = parameters
        event["multiValueQueryStringParameters"] = {k: v.split(",") for k, v in parameters.items()}
    return event


def message_event(peer: WebSocketPeer, message: str | bytes) -> dict[str, Any]:
    """`$default`: one message from the client."""
    if isinstance(message, bytes):
        body, encoded = base64.b64encode(message).decode(), True
    else:
        body, encoded = message, False
    context = _websocket_context("$default", "MESSAGE", peer)
    context["messageId"] = base64.b64encode(uuid.uuid4().bytes[:10]).decode()
    return {
        "requestContext": context,
        "body": body,
        "isBase64Encoded": encoded,
    }


def disconnect_event(peer: WebSocketPeer, status_code: int, reason: str = "") -> dict[str, Any]:
    """`$disconnect`: the connection is gone (client close, server delete, or idle)."""
    context = _websocket_context("$disconnect", "DISCONNECT", peer)
    context["disconnectStatusCode"] = status_code
    context["disconnectReason"] = reason
    return {
        "headers": {"Host": peer.host},
        "multiValueHeaders": {"Host": [peer.host]},
        "requestContext": context,
        "isBase64Encoded": False,
    }
