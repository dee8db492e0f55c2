"""Malformed graphql-transport-ws traffic: a 4400 close with a reason, and the server keeps serving."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from core.services.jobs import JobRequest, create_job
from tests.integration.api.conftest import GraphQLWS
from tests.integration.cli.live_server import free_port
from tests.security.serve_process import start_serve

JOB_UPDATED = "subscription($id: ID!, $after: String) { jobUpdated(id: $id, after: $after) { id status } }"


@pytest.fixture
def job(store: Any, settings: Any, dispatcher: Any, make_repo: Any) -> Any:
    return create_job(store, dispatcher, settings, JobRequest(prompt="Add hints", repositories=[str(make_repo("a"))]))


async def _closed_with(ws: GraphQLWS, raw: str) -> tuple[int, str]:
    """Send one raw frame after the ack; the close code and reason the server answers with."""
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.connection.send(raw)
    with pytest.raises(ConnectionClosed) as closed:
        await ws.receive()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("[1, 2]", "a message must be a JSON object"),
        ('{"id": "1"}', "a message needs a string type"),
        ('{"id": "1", "type": "subscribe", "payload": 5}', "a subscribe message needs a payload object"),
        ('{"type": "subscribe", "payload": {"query": "{ settings { demo } }"}}', "non-empty string id"),
        ('{"id": "1", "type": "subscribe", "payload": {"query": 7}}', "a subscribe payload needs a query string"),
        ('{"id": "1", "type": "subscribe", "payload": {"query": "{ x }", "variables": []}}', "variables must be"),
        ('{"type": "complete", "id": 3}', "non-empty string id"),
        (
            '{"id": "1", "type": "subscribe", "payload": {"query": "{ job(id: $i) { id } }", "variables": '
            '{"i": "\\ud800"}}}',
            "must be valid JSON",
        ),
        ('{"id": "1", "type": "subscribe", "payload": {"query": "{ x }", "variables": {"n": NaN}}}', "valid JSON"),
        ('{"id": "1", "type": "ping", "payload": {"n": ' + "9" * 5000 + "}}", "must be valid JSON"),
        ('{"type": "ping", "payload": ' + "[" * 5000 + "]" * 5000 + "}", "must be valid JSON"),
    ],
)
async def test_a_malformed_message_closes_with_4400_and_a_reason(live_server: str, raw: str, reason: str) -> None:
    # GIVEN an acknowledged connection WHEN a malformed message arrives
    code, said = await _closed_with(await GraphQLWS.open(live_server), raw)
    # THEN the server closes it as the protocol asks (4400), saying what was wrong
    assert code == 4400 and reason in said
    # AND it still serves the next client
    ws = await GraphQLWS.open(live_server)
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.close()


async def test_a_cursor_too_large_for_the_store_is_a_field_error(live_server: str, job: Any) -> None:
    # GIVEN an acknowledged connection
    ws = await GraphQLWS.open(live_server)
    assert (await ws.receive())["type"] == "connection_ack"
    # WHEN a subscription resumes after a cursor whose number no store integer holds
    op_id = await ws.subscribe(JOB_UPDATED, {"id": job.id, "after": "e" + "9" * 30})
    message = await ws.next_payload(op_id)
    # THEN the subscription ends with a bad-input error, not silence or an internal error
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    await ws.close()


async def test_several_operations_without_a_name_fail_that_subscription_only(live_server: str) -> None:
    # GIVEN an acknowledged connection
    ws = await GraphQLWS.open(live_server)
    assert (await ws.receive())["type"] == "connection_ack"
    # WHEN a document with two operations arrives without operationName
    op_id = await ws.subscribe("query A { settings { demo } } query B { settings { backend } }")
    message = await ws.next_payload(op_id)
    # THEN that operation fails saying what to do, and the connection still serves the next one
    assert message["type"] == "error" and "operationName" in message["payload"][0]["message"]
    again = await ws.subscribe("{ settings { backend } }")
    assert (await ws.next_payload(again))["payload"] == {"data": {"settings": {"backend": "local"}}}
    await ws.close()


async def test_a_message_over_the_body_limit_closes_the_connection(tmp_path: Path) -> None:
    # GIVEN `serve` with a 10 kB request limit
    served = start_serve(tmp_path, tmp_path / "data", free_port(), CODY_BATCH_MAX_BODY_BYTES="10000")
    try:
        host = f"127.0.0.1:{served.port}"
        ws = await GraphQLWS.open(host)
        assert (await ws.receive())["type"] == "connection_ack"
        # WHEN a subscribe message of 20 kB arrives
        padding = {"pad": "x" * 20_000}
        await ws.send(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ settings { demo } }", "variables": padding}}
        )
        # THEN the connection is closed as "message too big", without an answer
        with pytest.raises(ConnectionClosed) as closed:
            await ws.receive()
        assert (closed.value.sent is not None and closed.value.sent.code == 1009) or (
            closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        )
        # AND the server still serves the next client
        again = await GraphQLWS.open(host)
        assert (await again.receive())["type"] == "connection_ack"
        await again.close()
    finally:
        served.kill()
