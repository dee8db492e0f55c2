"""DNS rebinding: HTTP and WebSocket answer only to the names the server is known by.

A page whose name its owner points at 127.0.0.1 sends `Host: evil.example:PORT` and a matching
Origin; nothing it asks for may be answered or done."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from core.settings import Settings
from server.runtime.container import Container
from server.web.allowed_hosts import AllowedHosts, allowed_host_names
from server.web.app import create_app
from tests.fakes.dispatcher import RecordingDispatcher
from tests.integration.api.conftest import GraphQLWS
from tests.unit.api.conftest import job_count

CREATE = """mutation($input: CreateJobInput!) { createJob(input: $input) { ... on Job { id } } }"""
PROMPTS = "{ jobs(first: 10) { nodes { prompt } } }"
SECRET_PROMPT = "Rotate the staging credentials in deploy.yml"


@pytest.mark.parametrize(
    "host",
    [
        "evil.example:8000",
        "evil.example",
        "localhost.evil.example:8000",
        "127.0.0.1.nip.example",
        "0.0.0.0:8000",
        "evil@127.0.0.1",
        "127.0.0.1/graphql",
        "127.0.0.1 :8000",
        "[::1",
        "::1",  # an IPv6 host must be bracketed
        "[::1]x",
        "127.0.0.1:8000:8000",
        "",
    ],
)
async def test_a_request_naming_another_host_is_refused_and_reads_nothing(
    client: httpx.AsyncClient, seed_job: Callable[..., Any], host: str
) -> None:
    # GIVEN a stored job whose prompt is private
    seed_job(prompt=SECRET_PROMPT)
    # WHEN a query for every prompt arrives naming another host
    response = await client.post("/graphql", json={"query": PROMPTS}, headers={"host": host})
    # THEN it is a 400 saying why, and no prompt is in the answer
    assert response.status_code == 400
    assert "Host header" in response.json()["errors"][0]["message"]
    assert SECRET_PROMPT not in response.text


async def test_a_mutation_naming_another_host_does_nothing(
    client: httpx.AsyncClient, store: Any, make_repo: Callable[..., Path]
) -> None:
    # WHEN createJob arrives from a rebound page (Host and Origin both its own name)
    variables = {"input": {"prompt": "Add a backdoor", "repositories": [str(make_repo("a"))]}}
    headers = {"host": "evil.example:8000", "origin": "http://evil.example:8000"}
    response = await client.post("/graphql", json={"query": CREATE, "variables": variables}, headers=headers)
    # THEN it is refused and no job exists
    assert response.status_code == 400
    assert job_count(store) == 0


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LocalHost", "localhost"])
async def test_the_loopback_names_are_served(client: httpx.AsyncClient, host: str) -> None:
    response = await client.post("/graphql", json={"query": "{ settings { backend } }"}, headers={"host": host})
    assert response.status_code == 200 and response.json() == {"data": {"settings": {"backend": "local"}}}


@pytest.mark.parametrize(
    "origin", ["http://evil.example:8000", "null", "http://localhost@evil.example", "file://", "localhost"]
)
async def test_an_origin_naming_another_host_is_refused(client: httpx.AsyncClient, origin: str) -> None:
    # WHEN a request to the right host comes from a page elsewhere
    response = await client.post(
        "/graphql", json={"query": "{ settings { backend } }"}, headers={"host": "127.0.0.1:8000", "origin": origin}
    )
    # THEN it is refused, naming the Origin
    assert response.status_code == 400
    assert "Origin" in response.json()["errors"][0]["message"]


async def test_pages_of_this_server_and_graphiql_are_served(client: httpx.AsyncClient) -> None:
    # A page served from the server itself (or a dev server on another local port) sends its Origin
    for origin in ("http://127.0.0.1:8000", "http://localhost:5173"):
        response = await client.post(
            "/graphql", json={"query": "{ settings { backend } }"}, headers={"host": "127.0.0.1:8000", "origin": origin}
        )
        assert response.status_code == 200
    graphiql = await client.get("/graphql", headers={"accept": "text/html", "host": "localhost:8000"})
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()


async def test_the_public_url_and_extra_names_are_served_when_configured(
    settings: Settings, store: Any, tmp_path: Path
) -> None:
    # GIVEN a server with a public URL and one more allowed name
    configured = settings.model_copy(
        update={"public_url": "https://cody.example.com/", "allowed_hosts": ["build-box.lan"]}
    )
    app = create_app(
        Container(settings=configured, store=store, dispatcher=RecordingDispatcher(), feed=store), spa_dir=None
    )
    query = {"query": "{ settings { backend } }"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
        # WHEN requests name those hosts (or yet another) THEN the configured ones are served
        statuses = [
            (await client.post("/graphql", json=query, headers={"host": host})).status_code
            for host in ("cody.example.com", "Build-Box.lan:8000", "evil.example")
        ]
    assert statuses == [200, 200, 400]


async def test_a_request_without_a_host_header_is_refused(live_server: str) -> None:
    # GIVEN the real server WHEN an HTTP/1.0 request comes without a Host header
    host, port = live_server.split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"GET /healthz HTTP/1.0\r\n\r\n")
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 15)
    writer.close()
    # THEN it is refused
    assert status_line.split()[1] == b"400"


async def _handshake(live_server: str, url_host: str, origin: str | None = None) -> int:
    """Open a graphql-transport-ws connection to the live server under another name; the HTTP status
    of a refused handshake, or 101 once acknowledged."""
    host, port = live_server.split(":")
    sock = socket.create_connection((host, int(port)))
    try:
        connection = await connect(
            f"ws://{url_host}/graphql",
            sock=sock,
            origin=origin,  # type: ignore[arg-type]
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        )
    except InvalidStatus as refused:
        sock.close()
        return refused.response.status_code
    ws = GraphQLWS(connection)
    await ws.send({"type": "connection_init", "payload": {}})
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.close()
    return 101


async def test_a_websocket_from_a_rebound_name_is_refused(live_server: str) -> None:
    port = live_server.split(":")[1]
    # WHEN a rebound page opens the subscription endpoint under its own name THEN the handshake fails
    assert await _handshake(live_server, f"evil.example:{port}", f"http://evil.example:{port}") == 400
    # AND a page elsewhere cannot open it under the right name either
    assert await _handshake(live_server, f"127.0.0.1:{port}", "http://evil.example") == 400
    # AND the loopback names still connect
    assert await _handshake(live_server, f"localhost:{port}", f"http://localhost:{port}") == 101
    assert await _handshake(live_server, f"127.0.0.1:{port}") == 101


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ([("host", "127.0.0.1:8000"), ("host", "evil.example:8000")], "2 Host headers"),
        ([("host", "evil.example:8000"), ("host", "127.0.0.1:8000")], "2 Host headers"),
        ([("host", "127.0.0.1"), ("origin", "http://127.0.0.1"), ("origin", "http://evil.example")], "several Origin"),
        ([("host", "évil.example")], "does not name this server"),
        ([("host", "localhost" + "x" * 5000)], "does not name this server"),
    ],
)
async def test_odd_host_and_origin_headers_are_refused(
    client: httpx.AsyncClient, seed_job: Callable[..., Any], headers: list[tuple[str, str]], said: str
) -> None:
    # GIVEN a stored job WHEN its prompt is asked for with doubled, non-ASCII or oversized headers
    seed_job(prompt=SECRET_PROMPT)
    body = json.dumps({"query": PROMPTS}).encode()
    sent = [(name.encode(), value.encode()) for name, value in [*headers, ("content-type", "application/json")]]
    response = await client.send(httpx.Request("POST", "http://localhost/graphql", headers=sent, content=body))
    # THEN the request is refused before anything is read, saying why
    assert response.status_code == 400
    assert said in response.json()["errors"][0]["message"]
    assert SECRET_PROMPT not in response.text


async def test_a_websocket_refused_where_the_server_cannot_answer_with_http_is_closed() -> None:
    # GIVEN the middleware in front of an app, on an ASGI server without the denial-response extension
    reached: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope["type"])

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    scope = {"type": "websocket", "path": "/graphql", "headers": [(b"host", b"evil.example:8000")]}
    # WHEN a handshake names another host
    await AllowedHosts(app, allowed_host_names(Settings()))(scope, receive, send)
    # THEN it is closed as a policy violation, saying why, and the app never sees it
    assert [(m["type"], m["code"]) for m in sent] == [("websocket.close", 1008)]
    assert "evil.example" in sent[0]["reason"]
    assert reached == []
