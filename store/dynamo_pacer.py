"""DynamoPacer: the GitHub pace (core.ports.Pacer) on AWS, one item of the table per key.

Locally a file under a lock serialises every run of the machine; on AWS the runs are Batch
containers on many machines, so the pace lives in the table and conditional updates do what
the lock does: a turn is taken only if nobody took it since it was read.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from core.ports import PaceWait
from store import dynamo_table as table
from store.dynamo_table import ItemType

RETRY_TURN_SECONDS = 0.05
"""How soon to ask again after another run took the turn first."""


def _number(seconds: float) -> dict[str, str]:
    return {"N": str(Decimal(f"{seconds:.3f}"))}


class DynamoPacer:
    """A Pacer over one item per key (`pk = PACE#<key>`); boto3 client handed in."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name

    def _key(self, key: str) -> dict[str, dict[str, str]]:
        return {name: {"S": value} for name, value in table.pace_key(key).items()}

    def _update(self, key: str, expression: str, values: dict[str, Any], condition: str | None = None) -> bool:
        """One UpdateItem on the key's item; False when its condition failed."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(key),
            "UpdateExpression": f"SET {table.ITEM_TYPE} = :type, {expression}",
            "ExpressionAttributeValues": {":type": {"S": ItemType.PACE}, **values},
        }
        if condition:
            request["ConditionExpression"] = condition
        try:
            self.dynamodb.update_item(**request)
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def reserve(self, key: str, hold: float) -> PaceWait:
        """Ask to send a request under `key` (taking the turn for `hold` seconds when ready and `hold` > 0)."""
        found = self.dynamodb.get_item(TableName=self.table_name, Key=self._key(key), ConsistentRead=True)
        item = found.get("Item", {})
        blocked_until = float(item.get("blocked_until", {}).get("N", 0))
        next_write = item.get("next_write", {}).get("N")
        now = time.time()
        wait = PaceWait(
            backoff=blocked_until - now, turn=(float(next_write) if next_write else 0.0) - now if hold > 0 else 0.0
        )
        if not wait.ready or hold <= 0:
            return wait
        # Take the turn only if nobody moved it since the read: what the local file lock does.
        seen = (
            ("next_write = :seen", {":seen": {"N": next_write}})
            if next_write
            else ("attribute_not_exists(next_write)", {})
        )
        taken = self._update(key, "next_write = :until", {":until": _number(now + hold), **seen[1]}, seen[0])
        return wait if taken else PaceWait(turn=RETRY_TURN_SECONDS)

    def release(self, key: str, spacing: float) -> None:
        """The next content-creating request goes `spacing` seconds from now."""
        self._update(key, "next_write = :until", {":until": _number(time.time() + spacing)})

    def block(self, key: str, until: float) -> None:
        """No request under `key` before `until` (a later window already set is kept)."""
        self._update(
            key,
            "blocked_until = :until",
            {":until": _number(until)},
            "attribute_not_exists(blocked_until) OR blocked_until < :until",
        )
