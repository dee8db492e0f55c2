"""The table definition creates a real table (moto) with the keys, indexes, TTL and stream it declares."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from store import dynamo_table
from store.dynamo_table import INDEXES, STREAM_VIEW, TTL_ATTRIBUTE, create_table


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name="us-east-1")


def test_created_table_has_the_declared_keys_indexes_stream_and_ttl(dynamodb: Any) -> None:
    # WHEN the table is created from its definition
    create_table(dynamodb, "cody")
    # THEN it has pk/sk, both job indexes, a new-and-old-image stream and TTL on expires_at
    table = dynamodb.describe_table(TableName="cody")["Table"]
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("pk", "HASH"), ("sk", "RANGE")]
    indexes = {i["IndexName"]: [k["AttributeName"] for k in i["KeySchema"]] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {i.name: [i.partition_key, i.sort_key] for i in INDEXES}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": STREAM_VIEW}
    ttl = dynamodb.describe_time_to_live(TableName="cody")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", TTL_ATTRIBUTE)


def test_creating_it_twice_keeps_the_table(dynamodb: Any) -> None:
    create_table(dynamodb, "cody")
    dynamodb.put_item(TableName="cody", Item={"pk": {"S": "x"}, "sk": {"S": "y"}, "item_type": {"S": "cache"}})
    create_table(dynamodb, "cody")
    assert dynamodb.scan(TableName="cody")["Count"] == 1


def test_a_job_and_its_events_share_a_partition_and_events_sort_by_sequence() -> None:
    job = dynamo_table.job_key("J")
    events = [dynamo_table.event_key("J", s) for s in (1, 9, 10, 100)]
    assert {k["pk"] for k in [job, *events]} == {"JOB#J"}
    assert sorted(e["sk"] for e in events) == [e["sk"] for e in events]
