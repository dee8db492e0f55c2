"""A small GraphQL client: HTTP POST for queries and mutations, graphql-transport-ws for subscriptions.

A query is one POST with the standard library's urllib: importing httpx (which also loads its own
command line when click and rich are installed) and building its TLS context took longer than
the 0.3 s a command may take to start. urllib is told not to follow redirects, as httpx does not,
and an https endpoint gets httpx's own TLS context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), so
what is trusted has not changed.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from http.client import HTTPException
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

SUBPROTOCOL = "graphql-transport-ws"
ACCEPT = "application/graphql-response+json, application/json;q=0.9"
# Close codes 4400-4499 mean the server refused the operation; anything else may be transient.
_REFUSED_CLOSE_CODES = range(4400, 4500)


class GraphQLClientError(Exception):
    """Base of the errors a caller may show to a user as they are."""


class ServerUnreachable(GraphQLClientError):
    """Nothing answered at the URL."""

    def __init__(self, url: str) -> None:
        super().__init__(f"cannot reach the Cody Batch server at {url}; start it with `make run` or `cody-batch serve`")
        self.url = url


class GraphQLResponseError(GraphQLClientError):
    """The server answered with GraphQL errors (or refused the request)."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class ConnectionLost(GraphQLClientError):
    """A subscription's socket dropped; reconnecting may help."""


def _errors_message(errors: list[dict[str, Any]]) -> str:
    return "; ".join(str(e.get("message", e)) for e in errors) or "unknown GraphQL error"


def websocket_url(url: str) -> str:
    """The ws:// (or wss://) URL of an http(s):// GraphQL endpoint."""
    if url.startswith("https://"):
        return "wss://" + url[len("https://") :]
    if url.startswith("http://"):
        return "ws://" + url[len("http://") :]
    return url


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is the answer (its status shows in the error), as with httpx: a POST is never re-sent as a GET."""

    def redirect_request(self, *args: Any) -> None:
        return None


def _tls_context() -> ssl.SSLContext:
    import httpx  # only for https: the context it builds is what the client trusted before

    return httpx.create_ssl_context()


def _post(request: urllib.request.Request, timeout: float) -> tuple[int, bytes]:
    """The status and body of the answer to `request`, whatever the status."""
    if request.type not in ("http", "https"):  # urllib would also read file:// and ftp:// URLs
        raise ValueError(f"the URL's scheme is not http or https: {request.full_url!r}")
    handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
    if request.type == "https":
        handlers.append(urllib.request.HTTPSHandler(context=_tls_context()))
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:  # an answer all the same: the caller reads its status and body
        with err:
            return err.code, err.read()


@dataclass
class GraphQLClient:
    """Talks to one GraphQL endpoint, with an optional bearer token."""

    url: str
    token: str | None = None
    timeout: float = 30.0
    ws_url: str | None = None
    """Where subscriptions go when not on `url` (API Gateway's WebSocket API has its own)."""

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": ACCEPT}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a query or mutation; its `data`, or GraphQLResponseError."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        headers = {**self._headers(), "Content-Type": "application/json"}
        try:
            request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            status, answer = _post(request, self.timeout)
        except urllib.error.URLError as err:
            if isinstance(err.reason, OSError):  # refused, no such host, connect timeout, TLS handshake
                raise ServerUnreachable(self.url) from err
            raise GraphQLClientError(f"request to {self.url} failed: {err.reason}") from err
        except (OSError, HTTPException, ValueError) as err:  # read timeout, dropped connection, not a URL
            raise GraphQLClientError(f"request to {self.url} failed: {err}") from err
        return self._data(status, answer)

    def _data(self, status: int, answer: bytes) -> dict[str, Any]:
        if status in (401, 403):
            raise GraphQLResponseError(
                f"the server at {self.url} refused the request (HTTP {status}); "
                "set CODY_BATCH_API_TOKEN to its API token"
            )
        try:
            payload = json.loads(answer)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise GraphQLResponseError(
                f"{self.url} did not answer like a GraphQL server (HTTP {status}); check CODY_BATCH_URL"
            )
        errors = payload.get("errors")
        if errors:
            raise GraphQLResponseError(_errors_message(errors), errors)
        data = payload.get("data")
        if not isinstance(data, dict):
            raise GraphQLResponseError(f"no data in the answer (HTTP {status})")
        return data

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield the `data` of each result of a subscription until the server completes it.

        Raises ServerUnreachable when no connection opens, ConnectionLost when an open one
        drops, and GraphQLResponseError when the server refuses or reports errors.
        """
        import websockets  # only subscriptions need it: commands that only query start without it
        from websockets.asyncio.client import connect

        init_payload = {"authorization": f"Bearer {self.token}"} if self.token else {}
        ws_url = self.ws_url or websocket_url(self.url)
        try:
            socket = await connect(
                ws_url,
                subprotocols=[websockets.Subprotocol(SUBPROTOCOL)],
                additional_headers=self._headers(),
                open_timeout=self.timeout,
                max_size=16 * 1024 * 1024,
            )
        except (OSError, TimeoutError, websockets.InvalidHandshake) as err:
            raise ServerUnreachable(self.ws_url or self.url) from err
        try:
            async with socket:
                await socket.send(json.dumps({"type": "connection_init", "payload": init_payload}))
                await self._await_ack(socket)
                op_id = uuid.uuid4().hex
                payload = {"query": query, "variables": variables or {}}
                await socket.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
                async for data in self._results(socket, op_id):
                    yield data
        except websockets.ConnectionClosed as err:
            code = err.rcvd.code if err.rcvd is not None else None
            if code in _REFUSED_CLOSE_CODES:
                reason = err.rcvd.reason if err.rcvd is not None else ""
                raise GraphQLResponseError(f"the server closed the subscription: {reason or code}") from err
            raise ConnectionLost(f"the connection to {ws_url} dropped") from err

    async def _await_ack(self, socket: Any) -> None:
        while True:
            message = json.loads(await socket.recv())
            if message.get("type") == "connection_ack":
                return
            if message.get("type") == "ping":
                await socket.send(json.dumps({"type": "pong"}))

    async def _results(self, socket: Any, op_id: str) -> AsyncIterator[dict[str, Any]]:
        async for raw in socket:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await socket.send(json.dumps({"type": "pong"}))
                continue
            if message.get("id") != op_id:
                continue
            if kind == "next":
                result = message.get("payload") or {}
                if result.get("errors"):
                    raise GraphQLResponseError(_errors_message(result["errors"]), result["errors"])
                yield result.get("data") or {}
            elif kind == "error":
                errors = message.get("payload") or []
                raise GraphQLResponseError(_errors_message(errors), errors)
            elif kind == "complete":
                return
        raise ConnectionLost("the server closed the connection")
