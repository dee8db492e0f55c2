"""SentCursors on moto: a subscription to every job keeps a bounded `sent` map and still refuses repeats."""

from __future__ import annotations

from typing import Any

from server.aws.lambda_runtime import AwsRuntime
from server.aws.registry import ALL_JOBS_TOPIC, StoredSubscription
from server.aws.sent_cursors import STALE_CLAIM_SECONDS, SentCursors

PRUNE_FROM = 8  # jobs in the map before it is pruned (64 by default: the same logic, more calls)
JOBS = 3 * PRUNE_FROM
STEP = STALE_CLAIM_SECONDS // 4  # seconds between two jobs' claims


class Clock:
    """Seconds since the epoch, moved on by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def every_job_subscription(runtime: AwsRuntime) -> StoredSubscription:
    registry = runtime.registry
    registry.open("c1")
    registry.acknowledge("c1")
    subscription = StoredSubscription(ALL_JOBS_TOPIC, "c1", "s1", "subscription { jobsUpdated { id } }", None, None)
    registry.add(subscription)
    return subscription


def sent_map(runtime: AwsRuntime, subscription: StoredSubscription) -> dict[str, Any]:
    key = {name: {"S": value} for name, value in subscription.key.items()}
    item = runtime.registry.dynamodb.get_item(TableName=runtime.registry.table_name, Key=key)["Item"]
    return dict(item["sent"]["M"])


def test_a_subscription_to_every_job_keeps_a_bounded_sent_map_and_still_refuses_repeats(runtime: AwsRuntime) -> None:
    # GIVEN a subscription to every job, and claims made through a clock the test moves
    subscription = every_job_subscription(runtime)
    clock = Clock()
    cursors = SentCursors(runtime.registry.dynamodb, runtime.registry.table_name, clock=clock, prune_from=PRUNE_FROM)
    sizes = []
    # WHEN many jobs each show a state, one after another
    for n in range(JOBS):
        assert cursors.claim(subscription, f"JOB{n:05d}", 2) == 0
        sizes.append(len(sent_map(runtime, subscription)))
        clock.now += STEP
    # THEN the map never held more than the pruning threshold's jobs (an entry and its time each), far
    # from one per job ever shown
    assert max(sizes) == 2 * PRUNE_FROM
    assert len(sizes) == JOBS
    # AND a record of a recent job that comes again, or an older one of it, is still refused
    last = f"JOB{JOBS - 1:05d}"
    assert cursors.claim(subscription, last, 2) is None
    assert cursors.claim(subscription, last, 1) is None
    # AND a newer state of it goes through, claimed over the one before
    assert cursors.claim(subscription, last, 3) == 2


def test_only_entries_claimed_longer_ago_than_a_record_can_come_back_are_pruned(runtime: AwsRuntime) -> None:
    # GIVEN a subscription to every job with as many old entries as are pruned, one of them claimed again since
    subscription = every_job_subscription(runtime)
    clock = Clock()
    cursors = SentCursors(runtime.registry.dynamodb, runtime.registry.table_name, clock=clock, prune_from=PRUNE_FROM)
    for n in range(PRUNE_FROM):
        cursors.claim(subscription, f"OLD{n:05d}", 1)
    clock.now += STALE_CLAIM_SECONDS + 1
    cursors.claim(subscription, "OLD00000", 2)
    # WHEN a new job's state is claimed, which prunes the stale entries
    cursors.claim(subscription, "NEW", 1)
    # THEN the entry claimed again stays, so a repeat of its record is still refused; the stale ones are gone
    jobs = {key for key in sent_map(runtime, subscription) if not key.startswith("at#")}
    assert jobs == {"OLD00000", "NEW"}
    assert cursors.claim(subscription, "OLD00000", 2) is None
