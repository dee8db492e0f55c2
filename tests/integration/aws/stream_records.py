"""Reads the table's stream from moto and shapes the records as Lambda's event source mapping delivers them."""

from __future__ import annotations

from typing import Any

from server.aws.emulator.stream_poller import lambda_record
from tests.integration.aws.conftest import TABLE, aws_client


class StreamReader:
    """Every record since the last read, from each shard of the table's stream, in order."""

    def __init__(self) -> None:
        self.streams = aws_client("dynamodbstreams")
        self.arn = aws_client("dynamodb").describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str] = {}

    def read(self) -> list[dict[str, Any]]:
        """New records, Lambda-shaped."""
        shards = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self.streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            answer = self.streams.get_records(ShardIterator=iterator)
            records += [lambda_record(r, self.arn) for r in answer["Records"]]
            self._iterators[shard_id] = answer["NextShardIterator"]
        return records


def events_only(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the CDK filter lets through: INSERTs of `event` items."""
    return [r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"]["item_type"]["S"] == "event"]
