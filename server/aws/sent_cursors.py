"""What each stored subscription has been sent: the attributes that make a push exactly-once and in order.

The stream delivers a record at least once, shards and retries may reorder records, and the
subscribe path and the stream handler run in different Lambdas. Two attributes of the
subscription item settle who sends what (docs/DESIGN.md, "Live updates on AWS"):

- `sent.<job id>`: the newest job state (event sequence) claimed for the client. A frame goes
  out only after a conditional update raised it, so a state goes out once and never after a
  newer one from the same sender.
- `live`: until it is true only the subscribe path sends (its snapshots); from then on only the
  stream handler. The subscribe path sets it in one transaction with a check that the job is
  still at the state it sent, so no change falls between the two senders and none of the
  snapshot's frames can arrive after a pushed one.
- `live_by`: when the stream handler takes over a subscription still not live. Past it the
  function that stored the subscription has certainly ended (killed at its timeout, or crashed),
  so no snapshot of its can still arrive: the stream handler's first claim sets `live` and its
  frame, the job's whole state, is the client's snapshot.

A subscription to every job claims a `sent` entry per job it ever showed; next to each, `sent.at#<job
id>` holds when it was claimed, so entries no record can still need are dropped (`_prune`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from store.dynamodb import job_state_check

if TYPE_CHECKING:
    from server.aws.registry import StoredSubscription

# Items stored before `live` existed carry no such attribute: they were live from the start.
_LIVE = "(attribute_not_exists(live) OR live = :yes OR live_by < :now)"
# The WebSocket function's timeout (infra/api.py): Lambda stops an invocation by then.
WEBSOCKET_TIMEOUT_SECONDS = 29
# A subscription not live this long after it was stored lost its subscribe path: past the timeout,
# with as much again for clock skew between functions and the item's write.
HANDOVER_DEADLINE_SECONDS = 2 * WEBSOCKET_TIMEOUT_SECONDS + 2
_NEWER = "(attribute_not_exists(sent.#job) OR sent.#job < :seq)"
# The stream's event source mapping hands a function no record older than this (infra/api.py).
STREAM_RECORD_MAX_AGE_SECONDS = 600
# Records of a job claimed at T were all written before T, so after T plus the age limit (and the
# function's run time, and clock skew: twice the limit covers both) none of them can come again and
# the job's entry is no longer needed to refuse them; the job's newer records need none.
STALE_CLAIM_SECONDS = 2 * STREAM_RECORD_MAX_AGE_SECONDS
# Pruning costs a write: only items with this many jobs are pruned, at most this many at a time (the
# limits of one update expression).
PRUNE_FROM_JOBS = 64
PRUNE_AT_MOST = 64
_STAMP = "at#"


class GoLive(Enum):
    """How handing a subscription over to the stream handler went."""

    LIVE = "live"
    """The stream handler sends from now on."""
    MOVED = "moved"
    """The job changed since the state read: send a newer snapshot and try again."""
    GONE = "gone"
    """The subscription was removed meanwhile (`complete`, `$disconnect`, a 410)."""


class SentCursors:
    """Claims on the subscription items of the one table (boto3 DynamoDB client handed in)."""

    def __init__(
        self,
        dynamodb: Any,
        table_name: str,
        clock: Callable[[], float] = time.time,
        prune_from: int = PRUNE_FROM_JOBS,
    ) -> None:
        self.dynamodb = dynamodb
        self.table_name = table_name
        self.clock = clock
        self.prune_from = prune_from

    def _key(self, subscription: StoredSubscription) -> dict[str, Any]:
        return {name: {"S": value} for name, value in subscription.key.items()}

    def claim(self, subscription: StoredSubscription, job_id: str, seq: int) -> int | None:
        """Record that the job's state at `seq` goes out on this live subscription: the cursor sent
        before it (0 for none), or None when a state as new or newer already went (a redelivered
        or reordered record), the subscription is not live yet (its snapshot covers the change)
        or it is gone. A subscription past its `live_by` goes live with this claim."""
        now = int(self.clock())
        try:
            answer = self.dynamodb.update_item(
                TableName=self.table_name,
                Key=self._key(subscription),
                UpdateExpression="SET sent.#job = :seq, sent.#at = :now, live = :yes",
                ConditionExpression=f"attribute_exists(pk) AND {_LIVE} AND {_NEWER}",
                ExpressionAttributeNames={"#job": job_id, "#at": _STAMP + job_id},
                ExpressionAttributeValues={":seq": {"N": str(seq)}, ":yes": {"BOOL": True}, ":now": {"N": str(now)}},
                # The whole map before: which other jobs' entries have gone stale.
                ReturnValues="ALL_OLD",
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return None
        sent = answer.get("Attributes", {}).get("sent", {}).get("M", {})
        self._prune(subscription, sent, now)
        return int(sent.get(job_id, {}).get("N", "0"))

    def _prune(self, subscription: StoredSubscription, sent: dict[str, Any], now: int) -> None:
        """Drop the entries of jobs last claimed longer ago than any record can come back, once there are many."""
        stamps = {key.removeprefix(_STAMP): value for key, value in sent.items() if key.startswith(_STAMP)}
        if len(sent) - len(stamps) < self.prune_from:
            return
        stale = [job for job, at in stamps.items() if int(at["N"]) < now - STALE_CLAIM_SECONDS][:PRUNE_AT_MOST]
        if not stale:
            return
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        unchanged = []
        for i, job in enumerate(stale):
            names[f"#j{i}"], names[f"#a{i}"] = job, _STAMP + job
            values[f":a{i}"] = stamps[job]
            unchanged.append(f"sent.#a{i} = :a{i}")  # claimed again meanwhile: kept, pruned another time
        removed = ", ".join(f"sent.#j{i}, sent.#a{i}" for i in range(len(stale)))
        self._update_if(subscription, f"REMOVE {removed}", " AND ".join(unchanged), values=values, names=names)

    def release(self, subscription: StoredSubscription, job_id: str, seq: int, before: int) -> None:
        """Undo a claim whose frame certainly did not go out, so a retry of the record sends it."""
        # When the condition fails a newer state was claimed since: nothing to undo.
        self._update_if(
            subscription,
            "SET sent.#job = :before",
            "sent.#job = :seq",
            names={"#job": job_id},
            values={":seq": {"N": str(seq)}, ":before": {"N": str(before)}},
        )

    def _update_if(
        self,
        subscription: StoredSubscription,
        update: str,
        condition: str,
        values: dict[str, Any],
        names: dict[str, str] | None = None,
    ) -> bool:
        """One conditional UpdateItem of the subscription item; whether the condition held."""
        try:
            self.dynamodb.update_item(
                TableName=self.table_name,
                Key=self._key(subscription),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except self.dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def go_live(self, subscription: StoredSubscription, job_id: str, seq: int) -> GoLive:
        """Hand the subscription to the stream handler, if the job is still at `seq` (the state the
        client has now); the state is recorded as sent."""
        try:
            self.dynamodb.transact_write_items(
                TransactItems=[
                    job_state_check(self.table_name, job_id, seq),
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": self._key(subscription),
                            "UpdateExpression": "SET live = :yes, sent.#job = :seq, sent.#at = :now",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeNames": {"#job": job_id, "#at": _STAMP + job_id},
                            "ExpressionAttributeValues": {
                                ":yes": {"BOOL": True},
                                ":seq": {"N": str(seq)},
                                ":now": {"N": str(int(self.clock()))},
                            },
                        }
                    },
                ]
            )
        except self.dynamodb.exceptions.TransactionCanceledException as error:
            codes = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return GoLive.GONE
            # A TransactionConflict is a write to the job (a commit) at this instant: it moved.
            if {"ConditionalCheckFailed", "TransactionConflict"} & set(codes):
                return GoLive.MOVED
            raise
        return GoLive.LIVE

    def force_live(self, subscription: StoredSubscription) -> None:
        """Hand the subscription over whatever the job's state (a job that would not hold still)."""
        # When the condition fails the subscription was removed meanwhile: nothing to hand over.
        self._update_if(subscription, "SET live = :yes", "attribute_exists(pk)", values={":yes": {"BOOL": True}})
