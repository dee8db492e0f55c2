"""The GraphQL client against a real Strawberry server over HTTP and graphql-transport-ws."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator
from typing import Any

import pytest
import strawberry
from strawberry.asgi import GraphQL

from server.cli.graphql_client import (
    GraphQLClient,
    GraphQLClientError,
    GraphQLResponseError,
    ServerUnreachable,
    websocket_url,
)
from tests.integration.cli.live_server import LiveServer, free_port


@strawberry.type
class Query:
    @strawberry.field
    def hello(self, name: str) -> str:
        return f"hello {name}"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("this field always fails")


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def count(self, up_to: int) -> AsyncGenerator[int, None]:
        for i in range(up_to):
            yield i
            await asyncio.sleep(0)

    @strawberry.subscription
    async def forever(self) -> AsyncGenerator[int, None]:
        i = 0
        while True:
            yield i
            i += 1
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    schema = strawberry.Schema(query=Query, subscription=Subscription)
    with LiveServer(GraphQL(schema)) as live:
        yield live


def test_execute_returns_data(server: LiveServer) -> None:
    # GIVEN a client of a live server WHEN a query runs THEN its data comes back
    data = GraphQLClient(server.url).execute("query($n: String!) { hello(name: $n) }", {"n": "Ada"})
    assert data == {"hello": "hello Ada"}


def test_graphql_errors_are_raised_with_their_message(server: LiveServer) -> None:
    # GIVEN a field that fails WHEN queried THEN the error carries the server's message
    with pytest.raises(GraphQLResponseError, match="this field always fails"):
        GraphQLClient(server.url).execute("{ broken }")


def test_invalid_query_is_an_error_not_a_crash(server: LiveServer) -> None:
    # GIVEN a query naming no field of the schema WHEN sent THEN it is a GraphQLResponseError
    with pytest.raises(GraphQLResponseError, match="nope"):
        GraphQLClient(server.url).execute("{ nope }")


async def test_subscription_yields_each_result_then_ends(server: LiveServer) -> None:
    # GIVEN a subscription that yields three values
    client = GraphQLClient(server.url)
    # WHEN it is consumed to the end
    seen = [data["count"] async for data in client.subscribe("subscription { count(upTo: 3) }")]
    # THEN every value arrived in order
    assert seen == [0, 1, 2]


async def test_leaving_a_subscription_early_closes_it(server: LiveServer) -> None:
    # GIVEN an endless subscription
    client = GraphQLClient(server.url)
    updates = client.subscribe("subscription { forever }")
    # WHEN the consumer takes two values and closes
    first = [await anext(updates), await anext(updates)]
    await updates.aclose()
    # THEN it got them, and the client can still subscribe again
    assert [d["forever"] for d in first] == [0, 1]
    again = [d["count"] async for d in client.subscribe("subscription { count(upTo: 1) }")]
    assert again == [0]


async def test_subscribing_to_nothing_is_server_unreachable() -> None:
    # GIVEN no server WHEN subscribing THEN the error says the server cannot be reached
    url = f"http://127.0.0.1:{free_port()}/graphql"
    with pytest.raises(ServerUnreachable, match="cannot reach"):
        async for _ in GraphQLClient(url).subscribe("subscription { forever }"):
            pass


def test_websocket_url_follows_the_http_scheme() -> None:
    assert websocket_url("http://h:1/graphql") == "ws://h:1/graphql"
    assert websocket_url("https://h/graphql") == "wss://h/graphql"


async def test_subscription_errors_are_raised(server: LiveServer) -> None:
    # GIVEN a subscription naming no field WHEN subscribed THEN the server's error is raised
    with pytest.raises(GraphQLResponseError, match="nope"):
        async for _ in GraphQLClient(server.url).subscribe("subscription { nope }"):
            pass


class Answers:
    """An ASGI app answering each path with a fixed status, headers and body; counts the requests it got."""

    def __init__(self, routes: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]]) -> None:
        self.routes = routes
        self.hits: dict[str, int] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        self.hits[path] = self.hits.get(path, 0) + 1
        status, headers, body = self.routes.get(path, (404, [], b"not found"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


GRAPHQL_ANSWER = (200, [(b"content-type", b"application/json")], b'{"data": {"hello": "hi"}}')


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_the_answer_and_is_not_followed(status: int) -> None:
    # GIVEN an endpoint that redirects to a working GraphQL endpoint
    app = Answers({"/moved": (status, [(b"location", b"/graphql")], b""), "/graphql": GRAPHQL_ANSWER})
    with LiveServer(app) as live:
        moved = live.url.replace("/graphql", "/moved")
        # WHEN a query is sent to it THEN the redirect is reported, and the query is sent nowhere else
        with pytest.raises(GraphQLResponseError, match=f"did not answer like a GraphQL server \\(HTTP {status}\\)"):
            GraphQLClient(moved).execute("{ hello }")
    assert app.hits == {"/moved": 1}


@pytest.mark.parametrize("status", [401, 403])
def test_a_refusal_asks_for_the_api_token(status: int) -> None:
    # GIVEN an endpoint that refuses the request
    app = Answers({"/graphql": (status, [], b'{"detail": "no"}')})
    refused = f"refused the request \\(HTTP {status}\\).*CODY_BATCH_API_TOKEN"
    # WHEN a query is sent THEN the error names the setting that fixes it
    with LiveServer(app) as live, pytest.raises(GraphQLResponseError, match=refused):
        GraphQLClient(live.url).execute("{ hello }")


def test_an_error_status_with_a_graphql_body_reports_its_errors() -> None:
    # GIVEN a server answering 400 with GraphQL errors (as Strawberry does for a bad document)
    body = b'{"data": null, "errors": [{"message": "Syntax Error: unexpected }"}]}'
    app = Answers({"/graphql": (400, [(b"content-type", b"application/json")], body)})
    # WHEN a query is sent THEN the server's message is the error
    with LiveServer(app) as live, pytest.raises(GraphQLResponseError, match="Syntax Error"):
        GraphQLClient(live.url).execute("{ hello }")


@pytest.mark.parametrize("url", ["file:///etc/hostname", "ftp://127.0.0.1/graphql", "127.0.0.1:8000/graphql"])
def test_an_endpoint_that_is_not_http_is_refused_without_reading_it(url: str) -> None:
    # GIVEN a URL with another scheme, or none WHEN a query is sent THEN it fails as a request, reading nothing
    with pytest.raises(GraphQLClientError, match="failed") as raised:
        GraphQLClient(url).execute("{ hello }")
    assert not isinstance(raised.value, ServerUnreachable)
