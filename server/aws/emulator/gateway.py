"""API Gateway on one port: the HTTP API and the WebSocket API in front of the Lambda handlers.

HTTP requests become payload-2.0 events for the HTTP handler; WebSocket connections
become `$connect` / `$default` / `$disconnect` events for the WebSocket handler; the
`@connections` callback the handlers post to (POST, GET, DELETE) reaches the open sockets.
The built SPA is served from the same port, as CloudFront serves it beside the API.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from server.aws.emulator import gateway_events as events
from server.aws.emulator.gateway_events import LambdaContext, WebSocketPeer

if TYPE_CHECKING:
    from server.aws.emulator.lambda_invoke import LambdaInvokeApi

logger = logging.getLogger("cody_batch.emulator.gateway")

Handler = Callable[[dict[str, Any], Any], Any]
CONNECTIONS_METHODS = ["GET", "POST", "DELETE"]
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# The HTTP API's routes (the rest of the site is the SPA, which CloudFront serves from S3).
API_PATHS = ("/graphql", "/config.json", "/jobs/{job_id}/runs/{run_id}/patch", "/webhooks/github")
# API Gateway's close code when the server side deletes a connection.
DELETED_CLOSE_CODE = 1000


class LambdaFunction:
    """One warm Lambda instance: its invocations run one at a time on its own thread.

    Lambda calls a handler on its runtime's main thread, where `asyncio.get_event_loop()`
    (Mangum) finds a loop; each instance here keeps one thread and gives it a loop again
    whenever a handler's `asyncio.run` has closed it.
    """

    def __init__(self, name: str, handler: Handler) -> None:
        self.name = name
        self.handler = handler
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lambda-{name}")

    def _call(self, event: dict[str, Any]) -> Any:
        try:
            loop = asyncio.get_event_loop_policy().get_event_loop()
        except RuntimeError:
            loop = None
        if loop is None or loop.is_closed():
            asyncio.set_event_loop(asyncio.new_event_loop())
        return self.handler(event, LambdaContext(function_name=self.name))

    def invoke(self, event: dict[str, Any]) -> Any:
        """Run the handler on `event`, as Lambda would (blocking)."""
        return self._thread.submit(self._call, event).result()

    async def invoke_async(self, event: dict[str, Any]) -> Any:
        return await asyncio.wrap_future(self._thread.submit(self._call, event))


@dataclass
class Connection:
    """An open socket as API Gateway tracks it."""

    peer: WebSocketPeer
    socket: WebSocket
    user_agent: str
    last_active: float
    lock: asyncio.Lock


def _connection_id() -> str:
    # API Gateway's ids look like `L0SM9cOFvHcCIhw=`: 12 characters ending in `=`.
    return base64.urlsafe_b64encode(secrets.token_bytes(10)).decode().replace("=", "") + "="


def _health(request: Request) -> JSONResponse:
    # The emulator's own liveness: it answers once moto, the tables and the handlers are ready.
    return JSONResponse({"status": "ok"})


def _gone(connection_id: str) -> Response:
    body = {"message": f"connection {connection_id} is gone"}
    return JSONResponse(body, status_code=410, headers={"x-amzn-ErrorType": "GoneException"})


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


class ApiGateway:
    """The Starlette app standing in for both APIs, their Lambda integrations and the SPA's CDN."""

    def __init__(
        self,
        http: LambdaFunction,
        websocket: LambdaFunction,
        spa_app: Any = None,
        invoke: LambdaInvokeApi | None = None,
    ) -> None:
        self.http = http
        self.websocket = websocket
        self.spa_app = spa_app
        self.invoke = invoke  # Lambda's Invoke API for the functions the others call
        self.connections: dict[str, Connection] = {}

    def app(self) -> Starlette:
        """The ASGI app: API routes, the WebSocket API, `@connections`, Lambda's Invoke, then the SPA."""
        routes: list[BaseRoute] = [
            Route("/healthz", _health),
            WebSocketRoute("/graphql", self.websocket_endpoint),
            Route("/@connections/{connection_id}", self.connections_endpoint, methods=CONNECTIONS_METHODS),
            # A callback URL with the stage in it, as API Gateway gives it.
            Route("/{stage}/@connections/{connection_id}", self.connections_endpoint, methods=CONNECTIONS_METHODS),
        ]
        routes += [Route(path, self.http_endpoint, methods=ALL_METHODS) for path in API_PATHS]
        if self.invoke is not None:
            routes += self.invoke.routes()
        if self.spa_app is not None:
            routes.append(Mount("/", self.spa_app, name="spa"))
        return Starlette(routes=routes)

    # -- HTTP API ------------------------------------------------------------------------

    async def http_endpoint(self, request: Request) -> Response:
        """One request through the HTTP handler, as an HTTP API with a Lambda proxy integration."""
        event = events.http_event(
            request.method,
            request.url.path,
            request.url.query,
            request.query_params.multi_items(),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw],
            await request.body(),
            request.client.host if request.client else "127.0.0.1",
            request.url.scheme,
            request.url.port or (443 if request.url.scheme == "https" else 80),
        )
        try:
            answer = await self.http.invoke_async(event)
        except Exception:
            logger.exception("the HTTP handler failed")
            return JSONResponse({"message": "Internal Server Error"}, status_code=500)
        return _http_response(answer)

    # -- WebSocket API -------------------------------------------------------------------

    async def websocket_endpoint(self, socket: WebSocket) -> None:
        """A connection's life: `$connect` decides the handshake, each frame is a `$default`, then `$disconnect`."""
        peer = WebSocketPeer(
            connection_id=_connection_id(),
            host=socket.headers.get("host", "localhost"),
            source_ip=socket.client.host if socket.client else "127.0.0.1",
            connected_at=int(time.time() * 1000),
        )
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in socket.headers.raw]
        try:
            answer = await self.websocket.invoke_async(
                events.connect_event(peer, headers, socket.query_params.multi_items())
            )
        except Exception:
            logger.exception("the WebSocket handler failed on $connect")
            answer = {"statusCode": 500}
        status = int(answer.get("statusCode", 200)) if isinstance(answer, dict) else 200
        if not 200 <= status < 300:
            # API Gateway answers the handshake with the handler's status; the socket never opens.
            await socket.send_denial_response(Response(status_code=status))
            return
        await socket.accept(subprotocol=_subprotocol(answer))
        connection = Connection(peer, socket, socket.headers.get("user-agent", ""), time.time(), asyncio.Lock())
        self.connections[peer.connection_id] = connection
        code, reason = 1005, ""
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    code, reason = int(message.get("code") or 1005), str(message.get("reason") or "")
                    break
                connection.last_active = time.time()
                data = message.get("text")
                await self._message(peer, data if data is not None else message.get("bytes") or b"")
        except WebSocketDisconnect as gone:
            code, reason = gone.code, gone.reason or ""
        finally:
            self.connections.pop(peer.connection_id, None)
            try:
                await self.websocket.invoke_async(events.disconnect_event(peer, code, reason))
            except Exception:
                logger.exception("the WebSocket handler failed on $disconnect")

    async def _message(self, peer: WebSocketPeer, data: str | bytes) -> None:
        # No route responses are configured: whatever the handler returns is not sent back,
        # everything the client gets goes through @connections.
        try:
            await self.websocket.invoke_async(events.message_event(peer, data))
        except Exception:
            logger.exception("the WebSocket handler failed on $default")

    # -- @connections (the management API the handlers call) -----------------------------

    async def connections_endpoint(self, request: Request) -> Response:
        """PostToConnection, GetConnection and DeleteConnection for one connection id."""
        # The real API takes only SigV4-signed calls; a page in a browser cannot sign, so a
        # cross-site request never reaches a socket.
        if not request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            return JSONResponse({"message": "Missing Authentication Token"}, status_code=403)
        connection_id = request.path_params["connection_id"]
        connection = self.connections.get(connection_id)
        if connection is None:
            return _gone(connection_id)
        if request.method == "GET":
            return JSONResponse(
                {
                    "ConnectedAt": _iso(connection.peer.connected_at / 1000),
                    "Identity": {"SourceIp": connection.peer.source_ip, "UserAgent": connection.user_agent},
                    "LastActiveAt": _iso(connection.last_active),
                }
            )
        try:
            async with connection.lock:
                if request.method == "DELETE":
                    await connection.socket.close(code=DELETED_CLOSE_CODE)
                    return Response(status_code=204)
                data = await request.body()
                try:
                    await connection.socket.send_text(data.decode("utf-8"))
                except UnicodeDecodeError:
                    await connection.socket.send_bytes(data)
        except (RuntimeError, WebSocketDisconnect):
            # The socket closed between the lookup and the send.
            return _gone(connection_id)
        return Response(status_code=200)


def _subprotocol(answer: Any) -> str | None:
    """The `Sec-WebSocket-Protocol` the `$connect` handler chose to echo, if any."""
    headers = answer.get("headers") if isinstance(answer, dict) else None
    for name, value in (headers or {}).items():
        if name.lower() == "sec-websocket-protocol":
            return str(value)
    return None


def _http_response(answer: Any) -> Response:
    """The HTTP response API Gateway makes of a payload-2.0 handler result."""
    if not isinstance(answer, dict) or "statusCode" not in answer:
        # Format 2.0: anything without a statusCode is a 200 JSON body.
        return Response(json.dumps(answer), media_type="application/json")
    body = answer.get("body") or ""
    content = base64.b64decode(body) if answer.get("isBase64Encoded") else str(body).encode()
    response = Response(content, status_code=int(answer["statusCode"]))
    for name, value in (answer.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(name, str(value))
    for cookie in answer.get("cookies") or []:
        response.headers.append("set-cookie", cookie)
    return response
