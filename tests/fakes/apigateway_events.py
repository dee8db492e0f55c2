"""Lambda events shaped as API Gateway sends them (WebSocket API; HTTP API payload 2.0)."""

from __future__ import annotations

import time
from typing import Any

from core.ids import new_id

API_ID = "abc123"
DOMAIN = f"{API_ID}.execute-api.us-east-1.amazonaws.com"


def websocket_event(
    route: str, connection_id: str, body: str | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A WebSocket API event for `$connect`, `$disconnect` or `$default`."""
    event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
    now = int(time.time() * 1000)
    context: dict[str, Any] = {
        "routeKey": route,
        "eventType": event_type,
        "extendedRequestId": new_id(),
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
        "messageDirection": "IN",
        "stage": "test",
        "connectedAt": now,
        "requestTimeEpoch": now,
        "identity": {"sourceIp": "127.0.0.1", "userAgent": "test"},
        "requestId": new_id(),
        "domainName": DOMAIN,
        "connectionId": connection_id,
        "apiId": API_ID,
    }
    event: dict[str, Any] = {"requestContext": context, "isBase64Encoded": False}
    if route == "$default":
        context["messageId"] = new_id()
        event["body"] = body
    if route == "$disconnect":
        context["disconnectStatusCode"] = 1000
        context["disconnectReason"] = "Client-side close frame status code"
    if route == "$connect":
        all_headers = {"Host": DOMAIN, "Sec-WebSocket-Version": "13", **(headers or {})}
        event["headers"] = all_headers
        event["multiValueHeaders"] = {k: [v] for k, v in all_headers.items()}
    return event
