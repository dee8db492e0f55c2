"""The one DynamoDB table of the AWS backend, as data: keys, indexes, TTL and stream.

`DynamoStore`, the stream and WebSocket handlers, `cody-batch aws bootstrap` and the CDK
stack all read these definitions, so the table is described in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

PK: Final = "pk"
SK: Final = "sk"
TTL_ATTRIBUTE: Final = "expires_at"
"""Epoch seconds; DynamoDB deletes the item some time after (readers still check it)."""
ITEM_TYPE: Final = "item_type"
"""On every item: job, run, event, connection, subscription, cache, artifact, pace."""
STREAM_VIEW: Final = "NEW_AND_OLD_IMAGES"


class ItemType:
    """Values of `item_type`; the stream filter matches `event`."""

    JOB: Final = "job"
    RUN: Final = "run"
    EVENT: Final = "event"
    CONNECTION: Final = "connection"
    SUBSCRIPTION: Final = "subscription"
    CACHE: Final = "cache"
    ARTIFACT: Final = "artifact"
    PACE: Final = "pace"


@dataclass(frozen=True)
class Index:
    """A global secondary index: its name, string keys, and what it projects."""

    name: str
    partition_key: str
    sort_key: str
    projection: str = "ALL"


# Every job item carries both indexes' keys. Job ids are ULIDs, so sorting on the id
# (descending) is newest first: a page is one Query, whatever the number of jobs.
JOBS_BY_TIME: Final = Index(name="jobs_by_time", partition_key="gsi1pk", sort_key="gsi1sk")
"""`gsi1pk` = "JOBS" on every job, `gsi1sk` = the job id."""
JOBS_BY_STATUS: Final = Index(name="jobs_by_status", partition_key="gsi2pk", sort_key="gsi2sk")
"""`gsi2pk` = "STATUS#<status>", `gsi2sk` = the job id."""
INDEXES: Final = (JOBS_BY_TIME, JOBS_BY_STATUS)

JOBS_PARTITION: Final = "JOBS"


# Key layout (pk, sk). Connection and subscription items belong to the WebSocket side,
# which picks its own prefixes (`CONN#...`) in the same table.
def job_key(job_id: str) -> dict[str, str]:
    """The job item: one per job, in the same partition as its events."""
    return {PK: f"JOB#{job_id}", SK: "JOB"}


def run_key(run_id: str) -> dict[str, str]:
    """A run item, read by id; its job item lists its runs' ids (`run_ids`)."""
    return {PK: f"RUN#{run_id}", SK: "RUN"}


MAX_SEQ: Final = 10**12 - 1
"""Largest event sequence the sort key's 12 digits hold."""


def event_key(job_id: str, seq: int) -> dict[str, str]:
    """An event item, sorted by sequence under its job."""
    return {PK: f"JOB#{job_id}", SK: f"EVENT#{seq:012d}"}


def cache_key(key: str) -> dict[str, str]:
    return {PK: f"CACHE#{key}", SK: "CACHE"}


def artifact_key(key: str) -> dict[str, str]:
    return {PK: f"ARTIFACT#{key}", SK: "ARTIFACT"}


def pace_key(key: str) -> dict[str, str]:
    """The GitHub pace of one token digest, shared by every Batch child (store/dynamo_pacer.py)."""
    return {PK: f"PACE#{key}", SK: "PACE"}


def status_partition(status: str) -> str:
    return f"STATUS#{status}"


def _attribute_names() -> list[str]:
    names = [PK, SK]
    for index in INDEXES:
        names += [index.partition_key, index.sort_key]
    return names


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Keyword arguments for boto3 `create_table` (on-demand billing, stream on)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in _attribute_names()],
        "KeySchema": [{"AttributeName": PK, "KeyType": "HASH"}, {"AttributeName": SK, "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": index.projection},
            }
            for index in INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW},
    }


def time_to_live_kwargs(table_name: str) -> dict[str, Any]:
    """Keyword arguments for boto3 `update_time_to_live` (TTL cannot be set at creation)."""
    return {"TableName": table_name, "TimeToLiveSpecification": {"Enabled": True, "AttributeName": TTL_ATTRIBUTE}}


def create_table(client: Any, table_name: str) -> None:
    """Create the table, wait until it is active, and turn TTL on; a table already there is kept."""
    try:
        client.create_table(**create_table_kwargs(table_name))
    except client.exceptions.ResourceInUseException:
        return
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    client.update_time_to_live(**time_to_live_kwargs(table_name))


STREAM_FILTER: Final = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {ITEM_TYPE: {"S": [ItemType.EVENT]}}}}
"""The stream handler's event filter pattern (Lambda event filtering syntax): new event items only."""
