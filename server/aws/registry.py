"""WebSocket connections and their subscriptions as items of the one table.

Key layout (docs/DESIGN.md, "WebSocket items"):

- connection   `CONN#<connection id>` / `CONN`: acknowledged?, subscription count, TTL
- its refs     `CONN#<connection id>` / `SUB#<subscription id>`: where each subscription lives,
               so `$disconnect` and a 410 find all of a connection's items with one Query
- subscription `TOPIC#JOB#<job id>` or `TOPIC#JOBS` / `SUB#<connection id>#<subscription id>`:
               the document, its variables, the last cursor sent per job and whether the stream
               handler sends yet (server/aws/sent_cursors.py); the stream handler finds a job's
               subscribers with one Query per topic, never a scan
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from core.errors import CodyBatchError
from server.aws.sent_cursors import HANDOVER_DEADLINE_SECONDS, SentCursors
from store.dynamo_table import ITEM_TYPE, PK, SK, TTL_ATTRIBUTE, ItemType

# API Gateway closes a WebSocket after two hours at most; items outlive that a little, and TTL
# clears those a lost $disconnect left behind.
CONNECTION_TTL_SECONDS = 2 * 3600 + 600
ALL_JOBS_TOPIC = "TOPIC#JOBS"
_BATCH_WRITE = 25
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class SubscriptionRefused(CodyBatchError):
    """The subscription was not stored; `reason` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


NOT_ACKNOWLEDGED = "not_acknowledged"
DUPLICATE = "duplicate"
LIMIT = "limit"


def topic_of(job_id: str | None) -> str:
    """The partition of a job's subscribers (None: subscribers of every job)."""
    return ALL_JOBS_TOPIC if job_id is None else f"TOPIC#JOB#{job_id}"


def connection_key(connection_id: str) -> dict[str, str]:
    return {PK: f"CONN#{connection_id}", SK: "CONN"}


def ref_key(connection_id: str, subscription_id: str) -> dict[str, str]:
    return {PK: f"CONN#{connection_id}", SK: f"SUB#{subscription_id}"}


def subscription_key(topic: str, connection_id: str, subscription_id: str) -> dict[str, str]:
    return {PK: topic, SK: f"SUB#{connection_id}#{subscription_id}"}


@dataclass(frozen=True)
class StoredSubscription:
    """A subscription as stored: who gets it, and the operation to run on each change."""

    topic: str
    connection_id: str
    subscription_id: str
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None

    @property
    def key(self) -> dict[str, str]:
        return subscription_key(self.topic, self.connection_id, self.subscription_id)


def _dump(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in item.items() if v is not None}


def _load(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _s(key: dict[str, str]) -> dict[str, Any]:
    return {name: {"S": value} for name, value in key.items()}


class SubscriptionRegistry:
    """Connection and subscription items in the shared table (boto3 DynamoDB client handed in)."""

    def __init__(
        self, dynamodb: Any, table_name: str, max_subscriptions: int, clock: Callable[[], float] = time.time
    ) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.max_subscriptions = max_subscriptions
        self.clock = clock
        self.sent = SentCursors(dynamodb, table_name, clock)

    def _expires(self) -> int:
        return int(self.clock()) + CONNECTION_TTL_SECONDS

    # -- connections ---------------------------------------------------------------------

    def open(self, connection_id: str) -> None:
        """Record a new connection, not yet acknowledged."""
        item = {
            **connection_key(connection_id),
            ITEM_TYPE: ItemType.CONNECTION,
            "acknowledged": False,
            "subscriptions": 0,
            TTL_ATTRIBUTE: self._expires(),
        }
        self.dynamodb.put_item(TableName=self.table_name, Item=_dump(item))

    def acknowledge(self, connection_id: str) -> bool:
        """Mark the connection acknowledged; False when it already was (or is unknown)."""
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=_s(connection_key(connection_id)),
                UpdateExpression="SET acknowledged = :yes",
                ConditionExpression="attribute_exists(pk) AND acknowledged = :no",
                ExpressionAttributeValues={":yes": {"BOOL": True}, ":no": {"BOOL": False}},
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def connection(self, connection_id: str) -> dict[str, Any] | None:
        """The connection item, or None."""
        answer = self.dynamodb.get_item(
            TableName=self.table_name, Key=_s(connection_key(connection_id)), ConsistentRead=True
        )
        return _load(answer["Item"]) if "Item" in answer else None

    def drop(self, connection_id: str) -> int:
        """Delete the connection and every subscription of it; how many subscriptions went."""
        items = self._query(f"CONN#{connection_id}")
        keys = [{PK: item[PK], SK: item[SK]} for item in items]
        refs = [item for item in items if item[SK].startswith("SUB#")]
        keys += [subscription_key(ref["topic"], connection_id, ref["subscription_id"]) for ref in refs]
        for start in range(0, len(keys), _BATCH_WRITE):
            requests = [{"DeleteRequest": {"Key": _s(key)}} for key in keys[start : start + _BATCH_WRITE]]
            self._batch_write(requests)
        return len(refs)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table_name: requests}
        while pending:
            answer = self.dynamodb.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}

    # -- subscriptions -------------------------------------------------------------------

    def add(self, subscription: StoredSubscription, live: bool = True) -> None:
        """Store a subscription (`live`: the stream handler may push to it at once, else from its
        `live_by` on if its subscribe path has not handed it over by then); SubscriptionRefused
        when the connection is not acknowledged, the id is taken, or the connection is at its limit.
        All three items or none."""
        connection_id, subscription_id = subscription.connection_id, subscription.subscription_id
        expires = self._expires()
        ref = {
            **ref_key(connection_id, subscription_id),
            ITEM_TYPE: ItemType.CONNECTION,
            "topic": subscription.topic,
            "subscription_id": subscription_id,
            TTL_ATTRIBUTE: expires,
        }
        item: dict[str, Any] = {
            **subscription.key,
            ITEM_TYPE: ItemType.SUBSCRIPTION,
            "connection_id": connection_id,
            "subscription_id": subscription_id,
            "query": subscription.query,
            "variables": None if subscription.variables is None else json.dumps(subscription.variables),
            "operation_name": subscription.operation_name,
            "sent": {},
            "live": live,
            "live_by": int(self.clock()) + HANDOVER_DEADLINE_SECONDS,
            TTL_ATTRIBUTE: expires,
        }
        absent = "attribute_not_exists(pk)"
        try:
            self.dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": _s(connection_key(connection_id)),
                            "UpdateExpression": "ADD subscriptions :one",
                            "ConditionExpression": "acknowledged = :yes AND subscriptions < :limit",
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"},
                                ":yes": {"BOOL": True},
                                ":limit": {"N": str(self.max_subscriptions)},
                            },
                        }
                    },
                    {"Put": {"TableName": self.table_name, "Item": _dump(ref), "ConditionExpression": absent}},
                    {"Put": {"TableName": self.table_name, "Item": _dump(item), "ConditionExpression": absent}},
                ]
            )
        except self.dynamodb.exceptions.TransactionCanceledException as err:
            raise self._refusal(err, connection_id, subscription_id) from None

    def _refusal(self, err: Any, connection_id: str, subscription_id: str) -> SubscriptionRefused:
        codes = [reason.get("Code") for reason in err.response.get("CancellationReasons", [])]
        if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
            return SubscriptionRefused(DUPLICATE, f"Subscriber for {subscription_id} already exists")
        connection = self.connection(connection_id)
        if connection is None or not connection.get("acknowledged"):
            return SubscriptionRefused(NOT_ACKNOWLEDGED, "Unauthorized")
        if int(connection.get("subscriptions", 0)) >= self.max_subscriptions:
            return SubscriptionRefused(LIMIT, "Subscription limit reached")
        # Lost a race with the same id, or the connection went meanwhile.
        return SubscriptionRefused(DUPLICATE, f"Subscriber for {subscription_id} already exists")

    def remove(self, connection_id: str, subscription_id: str) -> bool:
        """Delete one subscription of a connection; False when it does not exist."""
        answer = self.dynamodb.get_item(
            TableName=self.table_name, Key=_s(ref_key(connection_id, subscription_id)), ConsistentRead=True
        )
        if "Item" not in answer:
            return False
        topic = _load(answer["Item"])["topic"]
        try:
            self.dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": self.table_name,
                            "Key": _s(ref_key(connection_id, subscription_id)),
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self.table_name,
                            "Key": _s(subscription_key(topic, connection_id, subscription_id)),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": _s(connection_key(connection_id)),
                            "UpdateExpression": "ADD subscriptions :minus",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":minus": {"N": "-1"}},
                        }
                    },
                ]
            )
        except self.dynamodb.exceptions.TransactionCanceledException:
            return False  # removed meanwhile (a second complete, or the connection went)
        return True

    def subscribers(self, job_id: str) -> Iterator[StoredSubscription]:
        """Every subscription a change of `job_id` concerns: the job's own and those of every job."""
        for topic in (topic_of(job_id), ALL_JOBS_TOPIC):
            for item in self._query(topic):
                variables = item.get("variables")
                yield StoredSubscription(
                    topic=topic,
                    connection_id=item["connection_id"],
                    subscription_id=item["subscription_id"],
                    query=item["query"],
                    variables=None if variables is None else json.loads(variables),
                    operation_name=item.get("operation_name"),
                )

    def _query(self, partition: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ConsistentRead": True,
        }
        while True:
            answer = self.dynamodb.query(**kwargs)
            items += [_load(item) for item in answer.get("Items", [])]
            if "LastEvaluatedKey" not in answer:
                return items
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
