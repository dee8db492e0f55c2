"""The change feed of the local server: one task tails the `events` table and fans out.

Polling `PRAGMA data_version` costs one cheap statement and changes only when another
connection (any process: a worker, a mutation's thread) commits, so the table itself is
read only when something happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from core.models import Event

logger = logging.getLogger("cody_batch.event_tail")

POLL_SECONDS = 0.075
BATCH = 500


class FeedStore(Protocol):
    """What the tail needs from the store (SqliteStore has it)."""

    def feed_since(self, after_id: int, limit: int = 500) -> list[tuple[int, Event]]: ...

    def last_feed_id(self) -> int: ...

    def data_version(self) -> int: ...


class TailSubscription:
    """One subscriber's queue of events; `close` stops delivery."""

    def __init__(self, tail: EventTail) -> None:
        self._tail = tail
        self._queue: asyncio.Queue[Event] = asyncio.Queue()

    def deliver(self, event: Event) -> None:
        self._queue.put_nowait(event)

    async def next(self) -> Event:
        """The next event; waits until one is committed."""
        return await self._queue.get()

    def close(self) -> None:
        """Stop receiving events."""
        self._tail.unsubscribe(self)


class EventTail:
    """Tails the store's event feed in one background task; subscribers get every new event."""

    def __init__(self, store: FeedStore, poll_seconds: float = POLL_SECONDS, batch: int = BATCH) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._subscribers: set[TailSubscription] = set()
        self._task: asyncio.Task[None] | None = None
        self.last_id = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self, job_id: str | None = None) -> TailSubscription:
        """Start receiving every event the tail reads from now on (of every job: subscribers filter)."""
        self._ensure_running()
        subscription = TailSubscription(self)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: TailSubscription) -> None:
        self._subscribers.discard(subscription)

    def start(self) -> None:
        """Start the tail task (subscribing starts it too)."""
        self._ensure_running()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            # Where the feed ends, read before the first subscriber is added so it misses
            # nothing; the version first, so a commit in between is drained, not skipped.
            version = self.store.data_version()
            self.last_id = self.store.last_feed_id()
            self._task = asyncio.get_running_loop().create_task(self._run(version), name="event-tail")

    async def stop(self) -> None:
        """Stop the tail task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, version: int) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                current = await asyncio.to_thread(self.store.data_version)
                if current == version:
                    continue
                version = current
                await self._drain()
            except Exception:
                # A locked or briefly unavailable database must not end every subscription.
                logger.exception("event tail: reading the feed failed; retrying")

    async def _drain(self) -> None:
        while True:
            batch = await asyncio.to_thread(self.store.feed_since, self.last_id, self.batch)
            for feed_id, event in batch:
                self.last_id = feed_id
                for subscriber in list(self._subscribers):
                    subscriber.deliver(event)
            if len(batch) < self.batch:
                return
