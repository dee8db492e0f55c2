"""Reads the table's stream from moto and shapes the records as Lambda's event source mapping delivers them."""

from __future__ import annotations

from typing import Any

from server.aws.emulator.stream_poller import lambda_record
from tests.integration.aws.conftest import TABLE, aws_client


class StreamReader:
    """Every record since the last read, from each shard of the table's stream, in order.

    Each read starts after the last record seen with a fresh iterator, as the emulator's poller
    does: moto replaces the shard when it rolls a failed transaction back, and an old iterator
    would never see another record.
    """

    def __init__(self) -> None:
        self.streams = aws_client("dynamodbstreams")
        self.arn = aws_client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        self._last: dict[str, str] = {}

    def read(self) -> list[dict[str, Any]]:
        """New records, Lambda-shaped."""
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            last = self._last.get(shard_id)
            position = (
                {"ShardIteratorType": "TRIM_HORIZON"}
                if last is None
                else {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
            )
            iterator = self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id, **position)
            raw = self.streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
            records += [lambda_record(r, self.arn) for r in raw]
            if raw:
                self._last[shard_id] = raw[-1]["dynamodb"]["SequenceNumber"]
        return records


def events_only(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the CDK filter lets through: INSERTs of `event` items."""
    return [r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"]["item_type"]["S"] == "event"]
