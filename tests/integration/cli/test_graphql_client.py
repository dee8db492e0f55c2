"""The GraphQL client against a real Strawberry server over HTTP and graphql-transport-ws."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterator

import pytest
import strawberry
from strawberry.asgi import GraphQL

from server.cli.graphql_client import GraphQLClient, GraphQLResponseError, ServerUnreachable, websocket_url
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
