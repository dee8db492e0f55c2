"""websocket_handler: graphql-transport-ws on API Gateway's $connect / $default / $disconnect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.models import Job
from core.services.jobs import JobRequest, create_job
from core.settings import Settings
from server.aws.lambda_runtime import AwsRuntime
from tests.fakes.connections_server import FakeConnections
from tests.integration.aws.conftest import TABLE, aws_client, make_runtime
from tests.integration.aws.socket_client import SocketClient

MakeRepo = Callable[..., Path]
JOB_UPDATED = "subscription ($id: ID!) { jobUpdated(id: $id) { id status cursor repositories { status } } }"
JOBS_UPDATED = "subscription { jobsUpdated { id status } }"


def new_job(runtime: AwsRuntime, make_repo: MakeRepo, settings: Settings) -> Job:
    request = JobRequest(prompt="fix", repositories=[str(make_repo("a")), str(make_repo("b"))])
    return create_job(runtime.store, runtime.dispatcher, settings, request)


@pytest.fixture
async def job_client(
    runtime: AwsRuntime, connections: FakeConnections, make_repo: MakeRepo, aws_settings: Settings
) -> tuple[Job, SocketClient]:
    """A job, and an acknowledged client "c1" subscribed to it as "s1"."""
    job = new_job(runtime, make_repo, aws_settings)
    client = SocketClient(runtime, connections, "c1")
    await client.open()
    await client.subscribe("s1", JOB_UPDATED, {"id": job.id})
    return job, client


def items(partition: str) -> list[dict[str, Any]]:
    answer = aws_client("dynamodb").query(
        TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": partition}}
    )
    return answer["Items"]


async def test_connect_echoes_the_protocol_only_when_offered(runtime: AwsRuntime, connections: FakeConnections) -> None:
    # GIVEN three clients: offering graphql-transport-ws, offering nothing, offering only another protocol
    offered = await SocketClient(runtime, connections, "c1").connect()
    silent = await SocketClient(runtime, connections, "c2").connect(headers={})
    other = await SocketClient(runtime, connections, "c3").connect(headers={"Sec-WebSocket-Protocol": "graphql-ws"})
    # THEN the first gets the protocol echoed, the second is accepted without it, the third is refused
    assert offered == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "graphql-transport-ws"}}
    assert silent == {"statusCode": 200}
    assert other["statusCode"] == 400
    # AND nothing was posted at $connect: the socket is not open yet
    assert connections.frames == {}


async def test_connection_init_is_acked_from_default_and_ping_gets_pong(
    runtime: AwsRuntime, connections: FakeConnections
) -> None:
    client = SocketClient(runtime, connections, "c1")
    # WHEN a client connects, initialises and pings
    await client.connect()
    await client.send({"type": "connection_init"})
    await client.send({"type": "ping"})
    await client.send({"type": "pong"})
    # THEN it gets exactly connection_ack then pong
    assert client.frames == [{"type": "connection_ack"}, {"type": "pong"}]
    assert not client.closed


async def test_the_api_token_is_checked_at_connection_init(
    aws_settings: Settings, connections: FakeConnections, batch: Any
) -> None:
    # GIVEN a server with a token
    runtime = make_runtime(aws_settings.model_copy(update={"api_token": SecretStr("s3cret")}), connections)
    good, bad = SocketClient(runtime, connections, "good"), SocketClient(runtime, connections, "bad")
    # WHEN one client sends it and another a wrong one
    await good.open({"Authorization": "Bearer s3cret"})
    await bad.open({"Authorization": "Bearer guess"})
    # THEN the first is acknowledged; the second is disconnected (4403) with nothing left in the table
    assert good.frames == [{"type": "connection_ack"}] and not good.closed
    assert bad.frames == [] and bad.closed
    assert items("CONN#bad") == []


async def test_a_second_connection_init_disconnects(runtime: AwsRuntime, connections: FakeConnections) -> None:
    client = SocketClient(runtime, connections, "c1")
    await client.open()
    # WHEN connection_init comes again (the protocol closes with 4429)
    await client.send({"type": "connection_init"})
    # THEN the connection is deleted after the one ack
    assert client.frames == [{"type": "connection_ack"}]
    assert client.closed


async def test_subscribe_before_init_disconnects(runtime: AwsRuntime, connections: FakeConnections) -> None:
    client = SocketClient(runtime, connections, "c1")
    await client.connect()
    # WHEN a client subscribes without connection_init (4401 in the protocol)
    await client.subscribe("1", JOBS_UPDATED)
    # THEN it is disconnected and nothing is stored
    assert client.closed and client.frames == []
    assert items("TOPIC#JOBS") == []


async def test_malformed_messages_disconnect(runtime: AwsRuntime, connections: FakeConnections) -> None:
    # GIVEN acknowledged clients WHEN they send what is not a protocol message (4400)
    bodies: list[Any] = [
        "not json",
        {"type": "subscribe", "id": "", "payload": {}},
        {"type": "nope"},
        "[1]",
        b"\xff\xfe",
    ]
    for n, body in enumerate(bodies):
        client = SocketClient(runtime, connections, f"c{n}")
        await client.open()
        answer = await client.send(body)
        # THEN each is disconnected, and the handler answers normally (no Lambda error)
        assert answer == {"statusCode": 200}
        assert client.closed, body


async def test_subscribe_stores_the_subscription_and_sends_the_job_once(job_client: tuple[Job, SocketClient]) -> None:
    # GIVEN a job and an acknowledged client WHEN it subscribes to the job
    job, client = job_client
    # THEN it gets the job's current state once, as a `next` for its id, and no complete
    _ack, first = client.frames
    assert first["id"] == "s1" and first["type"] == "next"
    assert first["payload"]["data"]["jobUpdated"]["id"] == job.id
    assert first["payload"]["data"]["jobUpdated"]["cursor"] == job.cursor
    # AND the subscription is stored under the job's topic and the connection
    (stored,) = items(f"TOPIC#JOB#{job.id}")
    assert stored["sk"]["S"] == "SUB#c1#s1" and stored["query"]["S"] == JOB_UPDATED
    assert {i["sk"]["S"] for i in items("CONN#c1")} == {"CONN", "SUB#s1"}


async def test_a_duplicate_subscription_id_disconnects(job_client: tuple[Job, SocketClient]) -> None:
    job, client = job_client
    # WHEN the same id is subscribed again (4409 in the protocol)
    await client.subscribe("s1", JOBS_UPDATED)
    # THEN the connection is deleted with all its items; only the first subscription ever answered
    assert client.closed
    assert [f["type"] for f in client.frames] == ["connection_ack", "next"]
    assert items("CONN#c1") == [] and items(f"TOPIC#JOB#{job.id}") == [] and items("TOPIC#JOBS") == []


async def test_an_invalid_subscription_is_an_error_and_a_syntax_error_also_disconnects(
    runtime: AwsRuntime, connections: FakeConnections
) -> None:
    client = SocketClient(runtime, connections, "c1")
    await client.open()
    # WHEN a document fails validation
    await client.subscribe("bad", "subscription { noSuchField }")
    # THEN an `error` for it comes back, nothing is stored and the socket stays
    error = client.frames[-1]
    assert error["type"] == "error" and error["id"] == "bad"
    assert "noSuchField" in error["payload"][0]["message"]
    assert not client.closed and items("TOPIC#JOBS") == []
    # WHEN a document does not parse (4400 in the protocol)
    await client.subscribe("broken", "subscription {")
    # THEN the error says why, and the connection is deleted
    assert client.frames[-1]["type"] == "error" and client.frames[-1]["id"] == "broken"
    assert client.closed


async def test_an_unknown_job_is_an_error_and_nothing_stays_stored(
    runtime: AwsRuntime, connections: FakeConnections
) -> None:
    client = SocketClient(runtime, connections, "c1")
    await client.open()
    await client.subscribe("s1", JOB_UPDATED, {"id": "nope"})
    error = client.frames[-1]
    assert error["type"] == "error" and error["id"] == "s1"
    assert "no job with id nope" in error["payload"][0]["message"]
    assert error["payload"][0]["extensions"]["code"] == "NOT_FOUND"
    assert items("TOPIC#JOB#nope") == []
    assert {i["sk"]["S"] for i in items("CONN#c1")} == {"CONN"}


async def test_complete_deletes_the_subscription(job_client: tuple[Job, SocketClient]) -> None:
    job, client = job_client
    await client.subscribe("s2", JOBS_UPDATED)
    # WHEN the client completes the first
    await client.send({"id": "s1", "type": "complete"})
    # THEN only the second remains stored
    assert items(f"TOPIC#JOB#{job.id}") == []
    assert len(items("TOPIC#JOBS")) == 1
    assert {i["sk"]["S"] for i in items("CONN#c1")} == {"CONN", "SUB#s2"}


async def test_subscriptions_per_connection_are_capped(
    aws_settings: Settings, connections: FakeConnections, batch: Any
) -> None:
    # GIVEN a cap of two subscriptions per connection
    runtime = make_runtime(aws_settings, connections, max_subscriptions=2)
    client = SocketClient(runtime, connections, "c1")
    await client.open()
    # WHEN a third is asked for
    for n in range(3):
        await client.subscribe(f"s{n}", JOBS_UPDATED)
    # THEN it gets an error, the socket stays, and two are stored
    error = client.frames[-1]
    assert error == {"id": "s2", "type": "error", "payload": [{"message": "Subscription limit reached"}]}
    assert not client.closed
    assert len(items("TOPIC#JOBS")) == 2
    # AND after one completes, a new one fits
    await client.send({"id": "s0", "type": "complete"})
    await client.subscribe("s3", JOBS_UPDATED)
    assert len(items("TOPIC#JOBS")) == 2 and client.frames[-1]["id"] == "s2"


async def test_disconnect_deletes_the_connection_and_its_subscriptions(
    runtime: AwsRuntime, connections: FakeConnections, make_repo: MakeRepo, aws_settings: Settings
) -> None:
    job = new_job(runtime, make_repo, aws_settings)
    client, other = SocketClient(runtime, connections, "c1"), SocketClient(runtime, connections, "c2")
    for c in (client, other):
        await c.open()
        await c.subscribe("s1", JOB_UPDATED, {"id": job.id})
    await client.subscribe("s2", JOBS_UPDATED)
    # WHEN the first disconnects
    await client.disconnect()
    # THEN none of its items remain; the other client's subscription does
    assert items("CONN#c1") == [] and items("TOPIC#JOBS") == []
    assert [i["sk"]["S"] for i in items(f"TOPIC#JOB#{job.id}")] == ["SUB#c2#s1"]


async def test_queries_and_mutations_answer_once_then_complete(
    runtime: AwsRuntime, connections: FakeConnections
) -> None:
    client = SocketClient(runtime, connections, "c1")
    await client.open()
    await client.subscribe("q", "{ settings { backend maxRepositories } }")
    _, result, complete = client.frames
    assert result == {
        "id": "q",
        "type": "next",
        "payload": {"data": {"settings": {"backend": "aws", "maxRepositories": 5}}},
    }
    assert complete == {"id": "q", "type": "complete"}
