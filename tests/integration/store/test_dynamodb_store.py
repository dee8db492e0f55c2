"""What only the DynamoDB store has to get right: S3 for large artifacts, TTL on read, index reads."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest

from core.models import (
    Checkpoint,
    EventKind,
    Job,
    JobStatus,
    Message,
    NewEvent,
    RepositoryRun,
    Thread,
    checkpoint_key,
    thread_key,
)
from core.ports import Change
from core.services.progress import RunProgress, WorkspaceState
from store import dynamo_table as table
from store.dynamodb import DynamoStore
from store.s3_artifacts import INLINE_LIMIT, ArtifactCorrupted
from tests.fakes import moto_aws


@pytest.fixture
def store() -> Iterator[DynamoStore]:
    with moto_aws.dynamo_store() as adapter:
        yield adapter


def _item(store: DynamoStore, key: dict[str, str]) -> dict:
    return store.dynamodb.get_item(TableName=store.table_name, Key={k: {"S": v} for k, v in key.items()})["Item"]


def _new_job(store: DynamoStore) -> tuple[Job, RepositoryRun]:
    job = Job(title="t", prompt="p", model="claude-sonnet-5-5")
    run = RepositoryRun(job_id=job.id, index=0, location="/r/0")
    store.commit(Change(job=job, job_version=None, runs=[(run, None)]))
    return job, run


def test_a_one_megabyte_patch_goes_to_s3_by_content_and_reads_back_intact(store: DynamoStore) -> None:
    # GIVEN a 1 MB patch of arbitrary bytes
    patch = os.urandom(1024 * 1024)
    # WHEN it is stored
    store.put_artifact("patches/run1/1.diff", patch)
    # THEN the item holds a pointer and the sha256, the body sits in S3 under its digest
    item = _item(store, table.artifact_key("patches/run1/1.diff"))
    digest = hashlib.sha256(patch).hexdigest()
    assert "data" not in item and item["sha256"]["S"] == digest
    assert item["s3_key"]["S"].endswith(digest)
    # AND it reads back byte for byte
    assert store.get_artifact("patches/run1/1.diff") == patch


def test_a_300_turn_thread_saved_with_its_turn_round_trips(store: DynamoStore) -> None:
    # GIVEN a run whose thread has 300 turns, saved in the same commit as its TURN event
    job, run = _new_job(store)
    messages = []
    for turn in range(300):
        messages.append(
            Message(index=2 * turn, role="assistant", content=[{"type": "text", "text": f"turn {turn} " * 200}])
        )
        messages.append(Message(index=2 * turn + 1, role="user", content=[{"type": "text", "text": "ok"}]))
    thread = Thread(run_id=run.id, model="claude-sonnet-5-5", messages=messages)
    stored = store.get_job(job.id)
    assert stored is not None
    store.commit(
        Change(
            job=stored,
            job_version=stored.version,
            events=[NewEvent(run_id=run.id, kind=EventKind.TURN, new_value="300")],
            artifacts={thread_key(run.id, 1): thread.model_dump_json().encode()},
        )
    )
    # THEN it is larger than an item may be, and still reads back equal
    data = store.get_artifact(thread_key(run.id, 1))
    assert data is not None and len(data) > 400 * 1024
    assert Thread.model_validate_json(data) == thread
    assert thread.turns == 300


def test_small_artifacts_stay_on_their_item(store: DynamoStore) -> None:
    store.put_artifact("small", b"x" * INLINE_LIMIT)
    assert _item(store, table.artifact_key("small"))["data"]["B"] == b"x" * INLINE_LIMIT


def test_an_s3_body_that_no_longer_matches_its_sha256_is_refused(store: DynamoStore) -> None:
    # GIVEN a large artifact whose S3 object was overwritten behind the store's back
    store.put_artifact("big", b"a" * (INLINE_LIMIT + 1))
    s3_key = _item(store, table.artifact_key("big"))["s3_key"]["S"]
    store.artifacts.s3.put_object(Bucket=store.artifacts.bucket, Key=s3_key, Body=b"tampered")
    # WHEN it is read THEN the store refuses it
    with pytest.raises(ArtifactCorrupted):
        store.get_artifact("big")


def test_an_expired_cache_entry_still_in_the_table_is_not_returned(store: DynamoStore) -> None:
    # GIVEN an entry past its TTL that DynamoDB has not deleted yet (it deletes late)
    store.cache_put("meta", "value", -5)
    assert _item(store, table.cache_key("meta"))["value"]["S"] == "value"
    # THEN reading it gives nothing
    assert store.cache_get("meta") is None


def test_every_item_carries_its_type_and_events_their_job(store: DynamoStore) -> None:
    job, _ = _new_job(store)
    stored = store.get_job(job.id)
    assert stored is not None
    store.commit(
        Change(
            job=stored.model_copy(update={"status": JobStatus.RUNNING}),
            job_version=stored.version,
            events=[NewEvent(kind=EventKind.STATUS, new_value="RUNNING")],
        )
    )
    store.cache_put("k", "v", 60)
    items = store.dynamodb.scan(TableName=store.table_name)["Items"]
    types = sorted(i["item_type"]["S"] for i in items)
    assert types == ["cache", "event", "job", "run"]
    event = next(i for i in items if i["item_type"]["S"] == "event")
    assert event["job_id"]["S"] == job.id


def test_listing_jobs_queries_an_index_and_never_scans(store: DynamoStore) -> None:
    # GIVEN jobs in two statuses
    for _ in range(3):
        _new_job(store)
    calls: list[str] = []
    store.dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    # WHEN listing all and by status
    store.list_jobs(2)
    store.list_jobs(2, status=JobStatus.QUEUED)
    # THEN each page is one Query
    assert calls == ["Query", "Query"]


def test_a_large_binary_checkpoint_is_saved_with_its_thread_and_recorded_on_the_run(store: DynamoStore) -> None:
    # GIVEN a run whose turn left a 1 MB binary workspace diff
    job, run = _new_job(store)
    diff = os.urandom(1024 * 1024)
    checkpoint = Checkpoint(artifact_key=checkpoint_key(run.id, 1), base_commit="a" * 40, turn=1, size_bytes=len(diff))
    thread = Thread(run_id=run.id, model="claude-sonnet-5-5", messages=[])
    # WHEN the worker saves the turn with it, as one write
    RunProgress(store, run.id).save_thread(thread, WorkspaceState(checkpoint, diff))
    # THEN the run records the checkpoint and the diff reads back byte for byte (from S3)
    stored = store.get_run(run.id)
    assert stored is not None and stored.checkpoint == checkpoint
    assert store.get_artifact(checkpoint.artifact_key) == diff
    assert "data" not in _item(store, table.artifact_key(checkpoint.artifact_key))
    assert store.get_artifact(thread_key(run.id, 1)) is not None
    assert job.id == stored.job_id
