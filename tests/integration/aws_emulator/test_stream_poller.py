"""The stream poller feeds a handler the way Lambda's event source mapping does, from a real moto stream."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.errors import ConflictError
from core.models import EventKind, Job, NewEvent
from core.ports import Change
from server.aws.emulator.stream_poller import StreamPoller, matches_filter
from store.dynamo_table import STREAM_FILTER
from store.dynamodb import DynamoStore
from tests.fakes import moto_aws


@pytest.fixture
def store() -> Iterator[DynamoStore]:
    with moto_aws.dynamo_store() as adapter:
        yield adapter


class Handler:
    """A stream handler that records each batch and fails the records it is told to, a number of times."""

    def __init__(self, fail_seq: set[str] | None = None, failures: int = 0, raises: int = 0) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail_seq = fail_seq or set()
        self.failures = failures
        self.raises = raises

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.batches.append(event["Records"])
        if self.raises:
            self.raises -= 1
            raise RuntimeError("handler crashed")
        failed = []
        if self.failures:
            self.failures -= 1
            failed = [
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r in event["Records"]
                if r["dynamodb"]["NewImage"]["new_value"]["S"] in self.fail_seq
            ]
        return {"batchItemFailures": failed}


def _values(batch: list[dict[str, Any]]) -> list[str]:
    return [r["dynamodb"]["NewImage"]["new_value"]["S"] for r in batch]


def _job_with_events(store: DynamoStore, values: list[str]) -> None:
    job = Job(title="t", prompt="p", model="claude-sonnet-5-5")
    store.commit(Change(job=job, job_version=None, events=[NewEvent(kind=EventKind.STEP, new_value=v) for v in values]))
    store.cache_put("not-an-event", "v", 60)


def _poller(store: DynamoStore, handler: Handler, batch_size: int = 100, max_retries: int = 3) -> StreamPoller:
    arn = store.dynamodb.describe_table(TableName=store.table_name)["Table"]["LatestStreamArn"]
    streams = moto_aws.client("dynamodbstreams")
    poller = StreamPoller(streams, arn, handler, batch_size=batch_size, max_retries=max_retries)
    return poller


def _drain(poller: StreamPoller) -> None:
    for _ in range(20):
        if not poller.poll_once():
            return


def test_only_new_event_items_reach_the_handler_in_order_as_lambda_records(store: DynamoStore) -> None:
    # GIVEN a job written with three events, and a cache item beside it
    _job_with_events(store, ["a", "b", "c"])
    handler = Handler()
    # WHEN the stream is polled
    _drain(_poller(store, handler))
    # THEN the handler got the three event inserts, in order, shaped as Lambda delivers them
    assert [_values(b) for b in handler.batches] == [["a", "b", "c"]]
    record = handler.batches[0][0]
    assert record["eventSource"] == "aws:dynamodb" and record["eventName"] == "INSERT"
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert "/stream/" in record["eventSourceARN"]
    assert all(matches_filter(STREAM_FILTER, r) for r in handler.batches[0])


def test_a_reported_failure_retries_the_batch_from_that_record(store: DynamoStore) -> None:
    # GIVEN a handler that fails record "b" once
    _job_with_events(store, ["a", "b", "c"])
    handler = Handler(fail_seq={"b"}, failures=1)
    # WHEN the stream is polled
    _drain(_poller(store, handler))
    # THEN the retry starts at "b": "a" is not delivered twice
    assert [_values(b) for b in handler.batches] == [["a", "b", "c"], ["b", "c"]]


def test_a_crashing_handler_gets_the_whole_batch_again(store: DynamoStore) -> None:
    _job_with_events(store, ["a", "b"])
    handler = Handler(raises=1)
    _drain(_poller(store, handler))
    assert [_values(b) for b in handler.batches] == [["a", "b"], ["a", "b"]]


def test_a_record_failing_past_the_retries_is_dropped_and_the_stream_moves_on(store: DynamoStore) -> None:
    # GIVEN a handler that always fails "a", with batches of one record
    _job_with_events(store, ["a", "b"])
    handler = Handler(fail_seq={"a"}, failures=100)
    poller = _poller(store, handler, batch_size=1, max_retries=2)
    _drain(poller)
    # THEN "a" was tried three times, then dropped, and "b" still went through
    assert [_values(b) for b in handler.batches] == [["a"], ["a"], ["a"], ["b"]]
    assert poller.dropped == 1


def _read_first_event(store: DynamoStore) -> tuple[Job, Handler, StreamPoller]:
    """A job with one event, and a poller that has handed it over."""
    job = Job(title="t", prompt="p", model="claude-sonnet-5-5")
    store.commit(Change(job=job, job_version=None, events=[NewEvent(kind=EventKind.STEP, new_value="a")]))
    handler = Handler()
    poller = _poller(store, handler)
    _drain(poller)
    return job, handler, poller


def test_records_written_after_a_failed_transaction_still_arrive(store: DynamoStore) -> None:
    # GIVEN a poller that has read a job's first event
    job, handler, poller = _read_first_event(store)
    # WHEN a stale writer's transaction fails (moto rolls the tables back) and another commit follows
    with pytest.raises(ConflictError):
        store.commit(Change(job=job, job_version=None, events=[NewEvent(kind=EventKind.STEP, new_value="lost")]))
    current = store.get_job(job.id)
    assert current is not None
    later = [NewEvent(kind=EventKind.STEP, new_value="b")]
    store.commit(Change(job=current, job_version=current.version, events=later))
    _drain(poller)
    # THEN the poller still sees the new event, and never the lost one
    assert [_values(b) for b in handler.batches] == [["a"], ["b"]]


def test_a_transaction_failing_between_the_iterator_and_the_read_delivers_nothing_of_it(store: DynamoStore) -> None:
    # GIVEN a poller that has read a job's first event
    job, handler, poller = _read_first_event(store)
    current = store.get_job(job.id)
    assert current is not None
    # AND a transaction writing an event that fails on its last condition, run by moto after the
    # poller's next GetShardIterator and before its GetRecords
    writes, _ = store.writes_for(
        Change(job=current, job_version=current.version, events=[NewEvent(kind=EventKind.STEP, new_value="lost")])
    )
    absent = {"pk": {"S": "NOTHING"}, "sk": {"S": "NOTHING"}}
    stale = {"TableName": store.table_name, "Key": absent, "ConditionExpression": "attribute_exists(pk)"}
    failing = [*writes, {"ConditionCheck": stale}]

    def fail_a_transaction(**_: Any) -> None:
        poller.streams.meta.events.unregister("before-call.dynamodbstreams.GetRecords", fail_a_transaction)
        with pytest.raises(store.dynamodb.exceptions.TransactionCanceledException):
            store.dynamodb.transact_write_items(TransactItems=failing)

    poller.streams.meta.events.register("before-call.dynamodbstreams.GetRecords", fail_a_transaction)
    # WHEN the poller reads, and then a real commit follows
    _drain(poller)
    store.commit(
        Change(job=current, job_version=current.version, events=[NewEvent(kind=EventKind.STEP, new_value="b")])
    )
    _drain(poller)
    # THEN the handler never got the event of the failed transaction, and got the real one
    assert [_values(b) for b in handler.batches] == [["a"], ["b"]]


def test_the_filter_matches_event_inserts_only() -> None:
    insert = {"eventName": "INSERT", "dynamodb": {"NewImage": {"item_type": {"S": "event"}}}}
    assert matches_filter(STREAM_FILTER, insert)
    assert not matches_filter(STREAM_FILTER, {**insert, "eventName": "MODIFY"})
    job_insert = {"eventName": "INSERT", "dynamodb": {"NewImage": {"item_type": {"S": "job"}}}}
    assert not matches_filter(STREAM_FILTER, job_insert)
    assert not matches_filter(STREAM_FILTER, {"eventName": "REMOVE", "dynamodb": {"OldImage": {}}})
