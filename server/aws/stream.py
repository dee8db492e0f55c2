"""The stream handler's work: each new event item pushes the job to its subscribers.

For each record (an `event` item INSERT), the job's subscriptions and those of every job are
read with one Query per topic; each stored document is executed once over that event, exactly
as the local server would for the change, and the `next` frame is posted to its connection.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from core.models import Event
from server.aws.callbacks import ConnectionGone
from server.aws.lambda_runtime import AwsRuntime
from server.aws.operations import ReplayFeed, payload, run_operation
from server.aws.registry import StoredSubscription
from store.dynamo_table import ITEM_TYPE, ItemType
from store.dynamodb import event_from_item

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """Some subscribers of a record could not be reached; the record is reported for a retry."""


def job_event(record: DynamoDBRecord) -> Event | None:
    """The job event a stream record inserted, or None for any other record."""
    if record.event_name is not DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return None
    image = record.dynamodb.new_image
    if image.get(ITEM_TYPE) != ItemType.EVENT:
        return None
    return event_from_item(image)


class StreamFanout:
    """One batch of DynamoDB stream records in, `batchItemFailures` out (never a failed batch)."""

    def __init__(self, runtime: AwsRuntime) -> None:
        self.runtime = runtime
        # Per batch: the newest state of each job already pushed to all its subscribers, so the
        # later records of a burst cost no query (their state went out with the first).
        self._pushed: dict[str, int] = {}

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        """Process a batch; failed records come back in `batchItemFailures` and are retried."""
        self._pushed.clear()
        if not event.get("Records"):
            return {"batchItemFailures": []}  # Lambda sends none empty; Powertools refuses them
        processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        with asyncio.Runner() as runner:
            answer = process_partial_response(
                event=event,
                record_handler=lambda record: runner.run(self.record(record)),
                processor=processor,
                context=context,
            )
        return dict(answer)

    async def record(self, record: DynamoDBRecord) -> None:
        """Push one record's job to every subscriber; DeliveryFailed when some could not be reached."""
        event = job_event(record)
        if event is None or event.seq <= self._pushed.get(event.job_id, 0):
            return
        failed = 0
        newest = event.seq
        for subscription in self.runtime.registry.subscribers(event.job_id):
            try:
                newest = max(newest, await self.deliver(subscription, event))
            except ConnectionGone:
                # The client went without $disconnect reaching us: forget it, serve the others.
                self.runtime.registry.drop(subscription.connection_id)
            except Exception:
                logger.exception("could not push job %s to %s", event.job_id, subscription.connection_id)
                failed += 1
        if failed:
            raise DeliveryFailed(f"{failed} subscriber(s) of job {event.job_id} missed event {event.seq}")
        self._pushed[event.job_id] = newest

    async def deliver(self, subscription: StoredSubscription, event: Event) -> int:
        """Run the subscription over the event and post what it yields; the job state it read."""
        outcome = await run_operation(
            self.runtime.schema,
            self.runtime.ports,
            ReplayFeed([event]),
            subscription.query,
            subscription.variables,
            subscription.operation_name,
        )
        seq = outcome.seen.get(event.job_id, 0)
        registry = self.runtime.registry
        refused = outcome.pre_execution_error
        if refused is not None:
            # A document stored under an earlier schema that no longer validates: it can never
            # run again, so it ends with an `error`, as it would have at subscribe time.
            registry.remove(subscription.connection_id, subscription.subscription_id)
            errors = [error.formatted for error in refused.errors or ()]
            ended: dict[str, Any] = {"id": subscription.subscription_id, "type": "error", "payload": errors}
            self.runtime.connections().send(subscription.connection_id, ended)
            return seq
        # Only the last result shows the state at `seq`: a job that changed between the
        # resolver's reads (its snapshot, then the read after a newer event) yields the older
        # state first, and that one went out already or is superseded.
        newest = outcome.results[-1:]
        # Claim the state first: a redelivered or reordered record then finds a newer cursor
        # and sends nothing, so no client gets a state twice or an older one after a newer one.
        before = registry.sent.claim(subscription, event.job_id, seq) if newest else None
        if before is None:
            return seq
        message = {"id": subscription.subscription_id, "type": "next", "payload": payload(newest[0])}
        try:
            self.runtime.connections().send(subscription.connection_id, message)
        except ConnectionGone:
            raise
        except Exception:
            registry.sent.release(subscription, event.job_id, seq, before)
            raise
        return seq
