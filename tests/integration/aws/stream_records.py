"""Reads the table's stream from moto and shapes the records as Lambda's event source mapping delivers them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.integration.aws.conftest import REGION, TABLE, aws_client


def _lambda_shape(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    body = dict(record["dynamodb"])
    created = body.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        body["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": body, "eventSourceARN": stream_arn, "awsRegion": REGION}


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
            records += [_lambda_shape(r, self.arn) for r in answer["Records"]]
            self._iterators[shard_id] = answer["NextShardIterator"]
        return records


def events_only(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the CDK filter lets through: INSERTs of `event` items."""
    return [r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"]["item_type"]["S"] == "event"]
