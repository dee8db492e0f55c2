"""stream_handler: job events from the table's stream pushed to subscribers as `next` frames."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.models import Job, RunStatus
from core.services.jobs import JobRequest, create_job
from core.services.progress import RunProgress
from core.settings import Settings
from server.aws.lambda_runtime import AwsRuntime
from server.aws.registry import StoredSubscription, topic_of
from server.aws.stream import StreamFanout
from tests.fakes.connections_server import FakeConnections
from tests.integration.aws.conftest import aws_client
from tests.integration.aws.socket_client import SocketClient
from tests.integration.aws.stream_records import StreamReader, events_only
from tests.integration.aws.test_websocket_handler import JOB_UPDATED, JOBS_UPDATED, items

MakeRepo = Callable[..., Path]


class Scene:
    """A job, the stream drained so far, and two subscribers: one to the job, one to every job."""

    def __init__(self, runtime: AwsRuntime, connections: FakeConnections, job: Job) -> None:
        self.runtime = runtime
        self.job = job
        self.reader = StreamReader()
        self.fanout = StreamFanout(runtime)
        self.one = SocketClient(runtime, connections, "one")
        self.every = SocketClient(runtime, connections, "every")

    async def subscribe(self) -> None:
        self.reader.read()  # what happened before the subscriptions is not theirs
        await self.one.open()
        await self.one.subscribe("s1", JOB_UPDATED, {"id": self.job.id})
        await self.every.open()
        await self.every.subscribe("s2", JOBS_UPDATED)

    def advance(self, index: int, *statuses: RunStatus) -> None:
        run = self.runtime.store.get_runs([self.job.id])[self.job.id][index]
        for status in statuses:
            RunProgress(self.runtime.store, run.id).advance(status)

    async def push(self, records: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The stream handler over `records` (default: everything new on the stream), in a thread as
        Lambda runs it (synchronous, no event loop of the caller's)."""
        batch = {"Records": self.reader.read() if records is None else records}
        return await asyncio.to_thread(self.fanout.handle, batch)


def job_frames(client: SocketClient) -> list[dict[str, Any]]:
    return [f["payload"]["data"]["jobUpdated"] for f in client.frames if f.get("type") == "next"]


@pytest.fixture
async def scene(
    runtime: AwsRuntime, connections: FakeConnections, make_repo: MakeRepo, aws_settings: Settings
) -> Scene:
    request = JobRequest(prompt="fix", repositories=[str(make_repo("a")), str(make_repo("b"))])
    made = Scene(runtime, connections, create_job(runtime.store, runtime.dispatcher, aws_settings, request))
    await made.subscribe()
    return made


async def test_each_change_reaches_both_subscribers_in_order_and_none_twice(scene: Scene) -> None:
    # WHEN the runs move on, the stream handler running after each change
    answers = []
    for index, status in [(0, RunStatus.CLONING), (0, RunStatus.RUNNING_AGENT), (1, RunStatus.CLONING)]:
        scene.advance(index, status)
        answers.append(await scene.push())
    scene.advance(0, RunStatus.SUCCEEDED)
    scene.advance(1, RunStatus.RUNNING_AGENT, RunStatus.SUCCEEDED)
    answers.append(await scene.push())
    # THEN no record failed
    assert all(answer == {"batchItemFailures": []} for answer in answers)
    # AND the job's subscriber saw each state once, newest last, ending SUCCEEDED
    states = job_frames(scene.one)
    cursors = [s["cursor"] for s in states]
    assert cursors == sorted(set(cursors)) and len(states) == 5
    assert [s["status"] for s in states] == ["QUEUED", "RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert [r["status"] for r in states[2]["repositories"]] == ["RUNNING_AGENT", "PENDING"]
    # AND the every-job subscriber got each change too (the burst at the end as one state)
    every = [f["payload"]["data"]["jobsUpdated"] for f in scene.every.frames if f.get("type") == "next"]
    assert [j["status"] for j in every] == ["RUNNING", "RUNNING", "RUNNING", "SUCCEEDED"]
    assert {j["id"] for j in every} == {scene.job.id}


async def test_redelivered_and_reordered_records_never_send_an_older_state(scene: Scene) -> None:
    # GIVEN two changes, each pushed as its own batch
    scene.advance(0, RunStatus.CLONING)
    older = scene.reader.read()
    await scene.push(older)
    scene.advance(0, RunStatus.RUNNING_AGENT)
    newer = scene.reader.read()
    await scene.push(newer)
    sent = list(scene.one.frames), list(scene.every.frames)
    # WHEN the stream delivers both again, the newer first
    assert await scene.push(newer) == {"batchItemFailures": []}
    assert await scene.push(older) == {"batchItemFailures": []}
    assert await scene.push(older + newer) == {"batchItemFailures": []}
    # THEN nobody got anything more
    assert (scene.one.frames, scene.every.frames) == sent


async def test_a_gone_client_is_forgotten_while_the_others_still_get_the_change(
    scene: Scene, connections: FakeConnections
) -> None:
    # GIVEN the job's subscriber left without a $disconnect reaching us
    connections.gone.add("one")
    before = len(scene.one.frames)
    # WHEN the job changes
    scene.advance(0, RunStatus.CLONING)
    answer = await scene.push()
    # THEN its connection and subscriptions are deleted, the other client got the change, nothing failed
    assert answer == {"batchItemFailures": []}
    assert items("CONN#one") == [] and items(f"TOPIC#JOB#{scene.job.id}") == []
    assert len(scene.one.frames) == before
    assert scene.every.frames[-1]["payload"]["data"]["jobsUpdated"]["status"] == "RUNNING"


async def test_a_failed_post_fails_only_its_record_and_its_retry_sends_it_once(
    scene: Scene, connections: FakeConnections
) -> None:
    # GIVEN posts to the job's subscriber fail for now (not a 410)
    connections.failing.add("one")
    scene.advance(0, RunStatus.CLONING)
    records = events_only(scene.reader.read())
    # WHEN the batch is handled
    answer = await scene.push(records)
    # THEN the record is reported for a retry (not the whole batch), and the other client got the change
    failed = [f["itemIdentifier"] for f in answer["batchItemFailures"]]
    assert failed and set(failed) <= {r["dynamodb"]["SequenceNumber"] for r in records}
    assert job_frames(scene.one)[-1]["status"] == "QUEUED"
    every = list(scene.every.frames)
    # WHEN the retry comes once the client is reachable again
    connections.failing.clear()
    retry = [r for r in records if r["dynamodb"]["SequenceNumber"] in failed]
    assert await scene.push(retry) == {"batchItemFailures": []}
    # THEN the job's subscriber now has the change, and the other got nothing twice
    assert job_frames(scene.one)[-1]["status"] == "RUNNING"
    assert scene.every.frames == every


async def test_subscribers_are_found_by_query_never_by_scan(scene: Scene) -> None:
    # GIVEN the operations the table's client makes are counted
    calls: list[str] = []
    client = scene.runtime.registry.dynamodb
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    # WHEN a change is pushed
    scene.advance(0, RunStatus.CLONING)
    await scene.push()
    # THEN subscribers came from Query, and nothing scanned the table
    assert "Query" in calls and "Scan" not in calls


async def test_records_other_than_new_events_are_ignored(scene: Scene) -> None:
    # GIVEN the stream's records of a change, with the event inserts left out
    scene.advance(0, RunStatus.CLONING)
    others = [r for r in scene.reader.read() if r not in events_only([r])]
    assert others  # the job and run items changed too
    # WHEN only those are handled THEN nothing is sent and nothing fails
    before = list(scene.one.frames)
    assert await scene.push(others) == {"batchItemFailures": []}
    assert scene.one.frames == before


def test_a_stream_is_read_through_moto(mocked_aws: None) -> None:
    # GIVEN nothing but the moto mock WHEN a client lists streams THEN moto answers (the helper's premise)
    assert aws_client("dynamodbstreams").list_streams()["Streams"] == []


async def test_a_stored_document_the_schema_no_longer_accepts_ends_with_an_error(scene: Scene) -> None:
    # GIVEN a subscription stored under an earlier schema, whose field is gone now
    stale = StoredSubscription(
        topic=topic_of(scene.job.id),
        connection_id="one",
        subscription_id="old",
        query="subscription ($id: ID!) { jobUpdated(id: $id) { id retiredField } }",
        variables={"id": scene.job.id},
        operation_name=None,
    )
    scene.runtime.registry.add(stale)
    # WHEN the job changes
    scene.advance(0, RunStatus.CLONING)
    assert await scene.push() == {"batchItemFailures": []}
    # THEN that subscription ends with an error and is gone; the connection's other one got the change
    errors = [f for f in scene.one.frames if f.get("id") == "old"]
    assert [f["type"] for f in errors] == ["error"] and "retiredField" in errors[0]["payload"][0]["message"]
    assert {i["sk"]["S"] for i in items("CONN#one")} == {"CONN", "SUB#s1"}
    assert job_frames(scene.one)[-1]["status"] == "RUNNING"
