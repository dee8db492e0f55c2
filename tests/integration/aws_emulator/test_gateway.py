"""The API Gateway stand-in: real-shaped events to the handlers, and a real `@connections` API for their posts."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
import websockets
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)

from server.aws.emulator.gateway import ApiGateway, LambdaFunction
from tests.integration.cli.live_server import LiveServer
from tests.integration.worker.conftest import wait_for


class Handlers:
    """Lambda handlers for the test: the HTTP one echoes, the WebSocket one echoes through @connections."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.callback_url = ""

    def http(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return {
            "statusCode": 201,
            "headers": {"content-type": "application/octet-stream", "x-seen-path": event["rawPath"]},
            "cookies": ["a=1; Path=/"],
            "body": base64.b64encode(b"\x00\xffbinary").decode(),
            "isBase64Encoded": True,
        }

    def websocket(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        route = event["requestContext"]["routeKey"]
        if route == "$connect":
            if (event.get("queryStringParameters") or {}).get("deny"):
                return {"statusCode": 401}
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "graphql-transport-ws"}}
        if route == "$default":
            client = boto3.client(
                "apigatewaymanagementapi",
                endpoint_url=self.callback_url,
                region_name="us-east-1",
                aws_access_key_id="x",
                aws_secret_access_key="x",
            )
            connection = event["requestContext"]["connectionId"]
            if event["body"] == "bye":
                client.delete_connection(ConnectionId=connection)
            else:
                client.post_to_connection(ConnectionId=connection, Data=f"echo {event['body']}".encode())
        return {"statusCode": 200}


@pytest.fixture
def gateway() -> Iterator[tuple[str, Handlers, ApiGateway]]:
    handlers = Handlers()
    api = ApiGateway(LambdaFunction("http", handlers.http), LambdaFunction("websocket", handlers.websocket))
    with LiveServer(api.app()) as server:
        url = f"http://127.0.0.1:{server.port}"
        handlers.callback_url = url
        yield url, handlers, api


def test_an_http_request_reaches_the_handler_as_a_payload_2_event_and_its_answer_comes_back(
    gateway: tuple[str, Handlers, ApiGateway],
) -> None:
    url, handlers, _ = gateway
    # WHEN a client posts to /graphql with a query string, a cookie and a repeated header
    answer = httpx.post(
        f"{url}/graphql?a=1&a=2&b=x",
        content=b'{"query": "{ __typename }"}',
        headers=[("X-Two", "one"), ("X-Two", "two"), ("Cookie", "s=1; t=2")],
    )
    # THEN the handler saw a valid HTTP API event, as API Gateway builds it
    event = handlers.events[-1]
    APIGatewayProxyEventV2Model.model_validate(event)
    assert (event["version"], event["rawPath"], event["rawQueryString"]) == ("2.0", "/graphql", "a=1&a=2&b=x")
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["headers"]["x-two"] == "one,two" and "cookie" not in event["headers"]
    assert event["cookies"] == ["s=1", "t=2"]
    assert json.loads(event["body"]) == {"query": "{ __typename }"} and event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    # AND the client got the handler's status, headers, cookies and (base64-decoded) body
    assert answer.status_code == 201 and answer.content == b"\x00\xffbinary"
    assert answer.headers["x-seen-path"] == "/graphql" and answer.cookies["a"] == "1"


def test_a_socket_lives_through_connect_default_and_disconnect_with_posts_through_connections(
    gateway: tuple[str, Handlers, ApiGateway],
) -> None:
    url, handlers, api = gateway
    ws_url = url.replace("http", "ws") + "/graphql"

    async def talk() -> tuple[str | None, list[str], int | None]:
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send("hello")
            first = str(await socket.recv())
            await socket.send("again")
            second = str(await socket.recv())
            await socket.send("bye")
            await socket.wait_closed()
            return socket.subprotocol, [first, second], socket.close_code

    subprotocol, frames, close_code = asyncio.run(talk())
    # THEN the subprotocol the $connect handler echoed was chosen, each message was echoed via @connections
    assert subprotocol == "graphql-transport-ws"
    assert frames == ["echo hello", "echo again"]
    # AND DeleteConnection closed the socket, which the handler heard of as $disconnect
    assert close_code == 1000
    wait_for(lambda: handlers.events[-1]["requestContext"]["routeKey"] == "$disconnect")
    routes = [e["requestContext"]["routeKey"] for e in handlers.events]
    assert routes == ["$connect", "$default", "$default", "$default", "$disconnect"]
    APIGatewayWebSocketConnectEventModel.model_validate(handlers.events[0])
    APIGatewayWebSocketMessageEventModel.model_validate(handlers.events[1])
    APIGatewayWebSocketDisconnectEventModel.model_validate(handlers.events[-1])
    assert len({e["requestContext"]["connectionId"] for e in handlers.events}) == 1
    assert api.connections == {}


def test_a_connect_the_handler_refuses_never_opens(gateway: tuple[str, Handlers, ApiGateway]) -> None:
    url, _, _ = gateway

    async def connect() -> None:
        async with websockets.connect(url.replace("http", "ws") + "/graphql?deny=1"):
            pass

    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(connect())
    assert refused.value.response.status_code == 401


def test_posting_to_a_connection_that_is_gone_is_a_410_gone_exception(
    gateway: tuple[str, Handlers, ApiGateway],
) -> None:
    url, _, _ = gateway
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="L0SM9cOFvHcCIhw=", Data=b"x")


def test_an_unsigned_callback_is_refused(gateway: tuple[str, Handlers, ApiGateway]) -> None:
    url, _, _ = gateway
    assert httpx.post(f"{url}/@connections/abc", content=b"x").status_code == 403
