"""The event source mapping from the table's stream to the stream handler, on one machine.

Like Lambda's mapping it reads each shard in order, drops records the filter does not
match, hands the rest over in batches, and with ReportBatchItemFailures retries a batch
from its first failed record (the whole batch when the handler raises), a bounded number
of times, before it moves on.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from store.dynamo_table import STREAM_FILTER

logger = logging.getLogger("cody_batch.emulator.stream")

BATCH_SIZE = 100
MAX_RETRIES = 3
POLL_SECONDS = 0.25
"""Lambda polls a shard four times a second; more only loads moto, which answers one call at a time."""
# New shards appear rarely (every few hours on AWS); describing the stream each poll is waste.
DISCOVER_SECONDS = 5.0


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A DynamoDB Streams record as Lambda delivers it (JSON: epoch seconds, base64 binaries)."""
    data = dict(record["dynamodb"])
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in data:
            data[image] = _json_attributes(data[image])
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", "us-east-1"),
        "dynamodb": data,
        "eventSourceARN": stream_arn,
    }


def _json_attributes(value: Any) -> Any:
    """boto3 hands binaries as bytes; Lambda's JSON carries them base64-encoded."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _json_attributes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_attributes(v) for v in value]
    if isinstance(value, set):
        return [_json_attributes(v) for v in sorted(value)]
    return value


def _confirmed(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records both reads returned, up to the first difference.

    moto answers GetShardIterator and GetRecords one request at a time, not the pair: a
    transaction that fails between them writes its records into the shard the iterator holds,
    then rolls the table back to a copy without them, so that read returns records of writes
    that never happened (and their sequence numbers go to later writes). A record is real when
    an iterator made after the first read returns it too: each record has its own `eventID`.
    """
    agreed = []
    for one, other in zip(first, second, strict=False):
        if one["eventID"] != other["eventID"]:
            break
        agreed.append(one)
    return agreed


def matches_filter(pattern: Any, value: Any) -> bool:
    """Lambda event filtering for the patterns used here: nested keys, each a list of exact values."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches_filter(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return value in pattern
    return bool(pattern == value)


@dataclass
class Shard:
    """Where reading one shard stands."""

    shard_id: str
    checkpoint: str | None = None
    """Sequence number of the last record read (delivered or filtered out)."""
    pending: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    closed: bool = False


class StreamPoller:
    """Reads the table's stream and invokes `handler` with filtered batches until stopped."""

    def __init__(
        self,
        streams: Any,
        stream_arn: str,
        handler: Callable[[dict[str, Any]], Any],
        batch_size: int = BATCH_SIZE,
        max_retries: int = MAX_RETRIES,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.streams = streams
        self.stream_arn = stream_arn
        self.handler = handler
        self.batch_size = batch_size
        self.max_retries = max_retries
        self.poll_seconds = poll_seconds
        self.shards: dict[str, Shard] = {}
        self.dropped = 0
        """Records given up on after the retries (Lambda would send them to an on-failure destination)."""
        self._discovered = -DISCOVER_SECONDS
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Poll in a background thread, from the oldest record the stream holds (a replayed
        record is harmless: the stream handler never sends a subscriber an older state)."""
        self._discover()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.poll_once()
            except Exception:
                logger.exception("reading the stream failed; trying again")
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)

    def _discover(self) -> None:
        now = time.monotonic()
        if now - self._discovered < DISCOVER_SECONDS:
            return
        self._discovered = now
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            self.shards.setdefault(shard["ShardId"], Shard(shard["ShardId"]))

    def poll_once(self) -> bool:
        """One pass over every shard; whether any records were handled."""
        self._discover()
        busy = False
        for shard in self.shards.values():
            if not shard.pending and not shard.closed:
                # Filtered-out records count as progress: more may follow at once.
                busy = self._read(shard) > 0 or busy
            if shard.pending:
                busy = True
                self._deliver(shard)
        return busy

    def _read(self, shard: Shard) -> int:
        """Read the shard's next records into `pending` (filtered); how many were read.

        Each read starts from the checkpoint with a fresh iterator, as a mapping resumes:
        moto replaces a table's stream shard when it rolls a failed transaction back, and an
        old iterator would never see another record. Records are taken only once a second
        read agrees on them (`_confirmed`).
        """
        raw, more = self._fetch(shard)
        if raw:
            raw = _confirmed(raw, self._fetch(shard)[0])
        if not raw and not more:
            shard.closed = True
        if raw:
            shard.checkpoint = raw[-1]["dynamodb"]["SequenceNumber"]
        records = [lambda_record(r, self.stream_arn) for r in raw]
        shard.pending = [r for r in records if matches_filter(STREAM_FILTER, r)]
        return len(records)

    def _fetch(self, shard: Shard) -> tuple[list[dict[str, Any]], bool]:
        """The records after the checkpoint, and whether the shard is still open."""
        if shard.checkpoint is None:
            position: dict[str, str] = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": shard.checkpoint}
        iterator = self.streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard.shard_id, **position)
        answer = self.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=self.batch_size)
        return answer.get("Records", []), answer.get("NextShardIterator") is not None

    def _deliver(self, shard: Shard) -> None:
        batch = shard.pending[: self.batch_size]
        logger.debug("%d stream record(s) to the stream handler", len(batch))
        failed_from = self._invoke(batch)
        logger.debug("stream handler answered; first failure: %s", failed_from)
        if failed_from is None:
            shard.pending = shard.pending[len(batch) :]
            shard.retries = 0
            return
        shard.retries += 1
        if shard.retries > self.max_retries:
            logger.error("dropping %d stream record(s) after %d retries", len(batch) - failed_from, self.max_retries)
            self.dropped += len(batch) - failed_from
            shard.pending = shard.pending[len(batch) :]
            shard.retries = 0
            return
        # Checkpoint before the first failure: the retry starts there, as the mapping's does.
        shard.pending = shard.pending[failed_from:]

    def _invoke(self, batch: list[dict[str, Any]]) -> int | None:
        """Hand a batch to the handler; the index of the first failed record, None when all went through."""
        try:
            answer = self.handler({"Records": batch})
        except Exception:
            logger.exception("the stream handler failed; the whole batch is retried")
            return 0
        failures = (answer or {}).get("batchItemFailures") or [] if isinstance(answer, dict) else []
        failed_ids = {str(f.get("itemIdentifier")) for f in failures}
        for position, record in enumerate(batch):
            if record["dynamodb"].get("SequenceNumber") in failed_ids:
                return position
        if failed_ids:
            # An identifier naming no record of the batch: Lambda retries the whole batch.
            logger.error("the stream handler reported unknown failures %s", sorted(failed_ids))
            return 0
        return None
