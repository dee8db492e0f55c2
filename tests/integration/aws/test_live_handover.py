"""Exactly once and in order on AWS: the subscribe-time snapshot against the stream handler, a post
without an answer, and records the stream delivers again — each race held still by the `@connections`
stand-in, on moto."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.models import EventKind, Job, NewEvent, RunStatus
from core.ports import Change
from core.services.progress import RunProgress
from core.settings import Settings
from server.aws.clients import connections_client
from server.aws.lambda_runtime import MAX_SUBSCRIPTIONS_PER_CONNECTION, AwsRuntime
from server.aws.registry import SubscriptionRegistry
from server.aws.sent_cursors import HANDOVER_DEADLINE_SECONDS
from server.aws.stream import StreamFanout
from server.aws.websocket import Registration
from tests.fakes.connections_server import FakeConnections
from tests.integration.aws.conftest import REGION, TABLE, aws_client
from tests.integration.aws.socket_client import SocketClient
from tests.integration.aws.stream_records import StreamReader, events_only
from tests.integration.aws.test_websocket_handler import JOB_UPDATED, JOBS_UPDATED, new_job
from tests.integration.worker.conftest import wait_for
from tests.patience import PATIENCE

MakeRepo = Callable[..., Path]


class Scene:
    """A queued job, the stream read past its creation, and one acknowledged client."""

    def __init__(self, runtime: AwsRuntime, connections: FakeConnections, job: Job) -> None:
        self.job = job
        self.reader = StreamReader()
        self.reader.read()
        self.client = SocketClient(runtime, connections, "client")


@pytest.fixture
async def scene(
    runtime: AwsRuntime, connections: FakeConnections, make_repo: MakeRepo, aws_settings: Settings
) -> Scene:
    made = Scene(runtime, connections, new_job(runtime, make_repo, aws_settings))
    await made.client.open()
    return made


def _advance(runtime: AwsRuntime, job: Job, index: int, status: RunStatus) -> None:
    run = runtime.store.get_runs([job.id])[job.id][index]
    RunProgress(runtime.store, run.id).advance(status)


def _states(client: SocketClient, field: str = "jobUpdated") -> list[dict[str, Any]]:
    return [f["payload"]["data"][field] for f in client.frames if f.get("type") == "next"]


def _subscribe_in_the_background(
    client: SocketClient, query: str, variables: dict[str, Any] | None
) -> threading.Thread:
    """The WebSocket function's invocation, on a thread of its own as a second Lambda would be."""
    thread = threading.Thread(target=asyncio.run, args=(client.subscribe("s1", query, variables),))
    thread.start()
    return thread


async def _push(runtime: AwsRuntime, records: list[dict[str, Any]]) -> dict[str, Any]:
    return await asyncio.to_thread(StreamFanout(runtime).handle, {"Records": records})


async def test_a_change_while_the_snapshot_is_on_its_way_reaches_the_client_after_it_once(
    runtime: AwsRuntime, connections: FakeConnections, scene: Scene
) -> None:
    # GIVEN a queued job, and a client whose subscribe-time snapshot is held on its way to it
    job, reader, client = scene.job, scene.reader, scene.client
    held = connections.hold_next("client")
    subscribing = _subscribe_in_the_background(client, JOB_UPDATED, {"id": job.id})
    assert held.arrived.wait(timeout=PATIENCE)
    # WHEN the job changes and the stream handler runs before that snapshot has arrived
    _advance(runtime, job, 0, RunStatus.CLONING)
    answer = await _push(runtime, reader.read())
    held.released.set()
    subscribing.join(timeout=PATIENCE)
    # THEN the client got the snapshot, then the change: in order, each once, nothing failed
    assert answer == {"batchItemFailures": []}
    states = _states(client)
    assert [s["status"] for s in states] == ["QUEUED", "RUNNING"], states
    assert states[-1]["cursor"] == runtime.store.get_job(job.id).cursor  # type: ignore[union-attr]
    # AND later changes come from the stream handler, once each, even when the stream delivers them again
    _advance(runtime, job, 1, RunStatus.CLONING)
    records = reader.read()
    for _ in range(2):
        assert await _push(runtime, records) == {"batchItemFailures": []}
    cursors = [s["cursor"] for s in _states(client)]
    assert len(cursors) == 3 and cursors == sorted(set(cursors))


async def test_a_subscription_to_every_job_is_pushed_to_at_once(runtime: AwsRuntime, scene: Scene) -> None:
    # GIVEN a job and a subscriber to every job (it has no snapshot to wait for)
    job, reader, client = scene.job, scene.reader, scene.client
    await client.subscribe("s1", JOBS_UPDATED)
    # WHEN the job changes
    _advance(runtime, job, 0, RunStatus.CLONING)
    assert await _push(runtime, events_only(reader.read())) == {"batchItemFailures": []}
    # THEN the change reached it
    assert [s["status"] for s in _states(client, "jobsUpdated")] == ["RUNNING"]


async def test_a_post_whose_answer_never_comes_is_not_sent_again(
    connections: FakeConnections, scene: Scene, aws_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a subscriber, and posts that give up waiting for an answer after a moment
    job, reader, client = scene.job, scene.reader, scene.client
    await client.subscribe("s1", JOB_UPDATED, {"id": job.id})
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)  # a Lambda's environment names its region
    impatient = _runtime_over(aws_settings, connections_client(connections.url, read_timeout=0.5))
    # WHEN a change is pushed and its post reaches the client, but the answer does not come in time
    held = connections.hold_next("client")
    _advance(impatient, job, 0, RunStatus.CLONING)
    records = events_only(reader.read())
    answer = await _push(impatient, records)
    # (the post that gave up may reach the stand-in only now, on a loaded machine)
    assert held.arrived.wait(timeout=PATIENCE)
    held.released.set()
    # AND the stream delivers the record again
    again = await _push(impatient, records)
    # THEN the client has the change exactly once, and no record was failed for a retry
    assert answer == again == {"batchItemFailures": []}
    # (the released post is recorded by its handler thread, which runs on after the caller gave up)
    await asyncio.to_thread(wait_for, lambda: len(connections.sent("client")) >= 3)
    assert [s["status"] for s in _states(client)] == ["QUEUED", "RUNNING"]


async def test_a_record_of_a_write_that_never_happened_sends_the_job_as_it_is_once(
    runtime: AwsRuntime, scene: Scene
) -> None:
    # GIVEN a subscriber that has the job's state, and a record of an event the job does not hold:
    # moto's stream shows a failed transaction's writes to an iterator made before it ran
    job, reader, client = scene.job, scene.reader, scene.client
    await client.subscribe("s1", JOB_UPDATED, {"id": job.id})
    stored = runtime.store.get_job(job.id)
    assert stored is not None
    writes, _ = runtime.store.writes_for(
        Change(job=stored, job_version=stored.version, events=[NewEvent(kind=EventKind.STEP, new_value="never")])
    )
    absent = {"pk": {"S": "NOTHING"}, "sk": {"S": "NOTHING"}}
    failing = [
        *writes,
        {"ConditionCheck": {"TableName": TABLE, "Key": absent, "ConditionExpression": "attribute_exists(pk)"}},
    ]
    _once(reader.streams, "before-call.dynamodbstreams.GetRecords", lambda: _fails(runtime, failing))
    phantom = events_only(reader.read())
    assert [r["dynamodb"]["NewImage"]["new_value"]["S"] for r in phantom] == ["never"]
    # WHEN the job really changes between the stream handler's two reads of it (its snapshot, and
    # the read after that newer event)
    _once(runtime.store.dynamodb, "after-call.dynamodb.GetItem", lambda: _advance(runtime, job, 0, RunStatus.CLONING))
    assert await _push(runtime, phantom) == {"batchItemFailures": []}
    # THEN the client got the job as it is now, and no state twice
    cursors = [s["cursor"] for s in _states(client)]
    assert cursors == sorted(set(cursors)) and len(cursors) == 2
    assert cursors[-1] == runtime.store.get_job(job.id).cursor  # type: ignore[union-attr]


def _runtime_over(settings: Settings, connections: Any) -> AwsRuntime:
    """A runtime on the moto table whose `@connections` client is the one given."""
    dynamodb, s3, batch = aws_client("dynamodb"), aws_client("s3"), aws_client("batch")
    return AwsRuntime.from_clients(settings, dynamodb=dynamodb, s3=s3, batch=batch, connections=connections)


def _once(client: Any, event_name: str, action: Callable[[], None]) -> None:
    """Run `action` when the boto3 client next emits `event_name` (the moment a race needs)."""

    def hook(**_: Any) -> None:
        client.meta.events.unregister(event_name, hook)
        action()

    client.meta.events.register(event_name, hook)


def _fails(runtime: AwsRuntime, writes: list[dict[str, Any]]) -> None:
    client = runtime.store.dynamodb
    try:
        client.transact_write_items(TransactItems=writes)
    except client.exceptions.TransactionCanceledException:
        return
    raise AssertionError("the transaction was meant to fail")


async def test_a_post_whose_connection_closes_unanswered_is_sent_again_once(
    connections: FakeConnections, scene: Scene, aws_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a subscriber, and the @connections client as the Lambdas make it (no SDK retries)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)  # a Lambda's environment names its region
    runtime = _runtime_over(aws_settings, connections_client(connections.url))
    job, reader, client = scene.job, scene.reader, scene.client
    await client.subscribe("s1", JOB_UPDATED, {"id": job.id})
    # WHEN a change is pushed and its first post's connection closes before any answer
    connections.dropping.add("client")
    _advance(runtime, job, 0, RunStatus.CLONING)
    answer = await _push(runtime, events_only(reader.read()))
    # THEN the post went again on a new connection: the client has the change once, nothing failed
    assert answer == {"batchItemFailures": []}
    assert "client" not in connections.dropping
    assert [s["status"] for s in _states(client)] == ["QUEUED", "RUNNING"]


async def test_a_snapshot_that_could_not_be_sent_leaves_the_subscription_to_the_stream_handler(
    runtime: AwsRuntime, connections: FakeConnections, scene: Scene
) -> None:
    # GIVEN posts to the client fail for now (not a 410) while it subscribes
    job, reader, client = scene.job, scene.reader, scene.client
    connections.failing.add("client")
    with pytest.raises(runtime.connections().client.exceptions.ForbiddenException):
        await client.subscribe("s1", JOB_UPDATED, {"id": job.id})
    # WHEN the client is reachable again and the job changes
    connections.failing.clear()
    _advance(runtime, job, 0, RunStatus.CLONING)
    assert await _push(runtime, events_only(reader.read())) == {"batchItemFailures": []}
    # THEN the stream handler pushed the change to it
    assert [s["status"] for s in _states(client)] == ["RUNNING"]


async def test_a_subscription_whose_function_died_before_its_snapshot_is_taken_over_after_the_deadline(
    runtime: AwsRuntime, scene: Scene
) -> None:
    # GIVEN a subscription its WebSocket function stored and then died before sending any snapshot
    job, reader, client = scene.job, scene.reader, scene.client
    message = {"id": "s1", "type": "subscribe", "payload": {"query": JOB_UPDATED, "variables": {"id": job.id}}}
    Registration(runtime, client.connection_id, message)(job.id)
    # WHEN the job changes before the handover deadline
    _advance(runtime, job, 0, RunStatus.CLONING)
    early = events_only(reader.read())
    assert await _push(runtime, early) == {"batchItemFailures": []}
    # THEN the stream handler still leaves it to its subscribe path
    assert _states(client) == []
    # WHEN the job changes again once the deadline has passed, and the stream delivers that record twice
    later = _stream_side(runtime, clock=lambda: time.time() + HANDOVER_DEADLINE_SECONDS + 1)
    _advance(runtime, job, 1, RunStatus.CLONING)
    records = events_only(reader.read())
    for _ in range(2):
        assert await _push(later, records) == {"batchItemFailures": []}
    # THEN the client got the job's whole state as its snapshot, once, with the change the stream skipped
    states = _states(client)
    assert [s["cursor"] for s in states] == [runtime.store.get_job(job.id).cursor]  # type: ignore[union-attr]
    assert [r["status"] for r in states[0]["repositories"]] == ["CLONING", "CLONING"]
    # AND the next change goes out as an update, and the older record delivered again sends nothing
    _advance(runtime, job, 0, RunStatus.RUNNING_AGENT)
    assert await _push(later, events_only(reader.read())) == {"batchItemFailures": []}
    assert await _push(later, early) == {"batchItemFailures": []}
    cursors = [s["cursor"] for s in _states(client)]
    assert len(cursors) == 2 and cursors == sorted(set(cursors))
    assert cursors[-1] == runtime.store.get_job(job.id).cursor  # type: ignore[union-attr]


def _stream_side(runtime: AwsRuntime, clock: Callable[[], float]) -> AwsRuntime:
    """The stream handler's runtime on the same table, reading the time from `clock`."""
    registry = SubscriptionRegistry(runtime.registry.dynamodb, TABLE, MAX_SUBSCRIPTIONS_PER_CONNECTION, clock)
    return dataclasses.replace(runtime, registry=registry)
