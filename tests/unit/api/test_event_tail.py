"""The event tail: one poller over the store's feed, fanning events out to subscribers."""

from __future__ import annotations

import asyncio
from typing import Any

from core.models import RunStatus
from core.services.progress import RunProgress
from server.runtime.event_tail import EventTail

GUARD = 10  # seconds; only a deadlock guard, never a speed assertion


async def test_subscribers_get_events_committed_after_they_subscribed(store: Any, seed_job) -> None:
    # GIVEN a job that existed before the tail started, and two subscribers
    job = seed_job(1)
    run_id = store.get_runs([job.id])[job.id][0].id
    tail = EventTail(store, poll_seconds=0.01)
    first, second = tail.subscribe(), tail.subscribe()
    try:
        # WHEN the run changes (committed from another thread, like a mutation)
        await asyncio.to_thread(RunProgress(store, run_id).advance, status=RunStatus.CLONING)
        # THEN both see the new events, in order, and none from before they subscribed
        got = [await asyncio.wait_for(first.next(), GUARD) for _ in range(2)]
        assert [(e.job_id, e.kind.value, e.new_value) for e in got] == [
            (job.id, "STATUS", "CLONING"),
            (job.id, "STATUS", "RUNNING"),
        ]
        assert (await asyncio.wait_for(second.next(), GUARD)).seq == got[0].seq
    finally:
        await tail.stop()


async def test_closed_subscription_is_forgotten(store: Any) -> None:
    tail = EventTail(store, poll_seconds=0.01)
    subscription = tail.subscribe()
    assert tail.subscriber_count == 1
    subscription.close()
    assert tail.subscriber_count == 0
    await tail.stop()


async def test_a_burst_larger_than_one_batch_is_delivered_whole(store: Any, seed_job) -> None:
    # GIVEN a subscriber of a tail that reads two events at a time
    tail = EventTail(store, poll_seconds=0.01, batch=2)
    subscription = tail.subscribe()
    try:
        # WHEN more jobs are created at once than one feed read returns
        jobs = await asyncio.to_thread(lambda: [seed_job(1, prompt=f"job {i}") for i in range(5)])
        # THEN every creation event arrives
        events = [await asyncio.wait_for(subscription.next(), GUARD) for _ in range(5)]
        assert [e.job_id for e in events] == [j.id for j in jobs]
    finally:
        await tail.stop()


async def test_a_commit_wakes_the_tail_without_waiting_for_its_poll(store: Any, seed_job) -> None:
    # GIVEN a tail whose fallback poll is an hour away
    tail = EventTail(store, poll_seconds=3600)
    subscription = tail.subscribe()
    try:
        # WHEN a job is created (committed from another thread, like a mutation)
        job = await asyncio.to_thread(seed_job, 1)
        # THEN its event arrives: the commit woke the tail
        assert (await asyncio.wait_for(subscription.next(), GUARD)).job_id == job.id
    finally:
        await tail.stop()


async def test_a_subscriber_of_one_job_gets_only_that_jobs_events(store: Any, seed_job) -> None:
    # GIVEN two jobs, a subscriber of the second and one of every job
    first, second = seed_job(1), seed_job(1)
    tail = EventTail(store, poll_seconds=0.01)
    one, every = tail.subscribe(second.id), tail.subscribe(None)
    try:
        # WHEN the first job's run changes, then the second's
        for job in (first, second):
            run_id = store.get_runs([job.id])[job.id][0].id
            await asyncio.to_thread(RunProgress(store, run_id).advance, status=RunStatus.CLONING)
        # THEN the job's subscriber sees only the second job's events; the other sees both jobs'
        assert {(await asyncio.wait_for(one.next(), GUARD)).job_id for _ in range(2)} == {second.id}
        assert [(await asyncio.wait_for(every.next(), GUARD)).job_id for _ in range(4)] == [first.id] * 2 + [
            second.id
        ] * 2
    finally:
        await tail.stop()
