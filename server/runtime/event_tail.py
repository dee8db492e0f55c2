"""The change feed of the local server: one task tails the `events` table and fans out.

The tail reads the table when woken: a commit in this process calls it back, and a commit
in any other process (a run, the CLI) pokes its socket (`store/commit_wake.py`). As a
fallback it polls `PRAGMA data_version`, one cheap statement that changes only when another
connection commits, so the table itself is read only when something happened. Each event
goes only to the subscribers of its job and to those of every job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

from core.models import Event
from server.runtime.loop_reads import LoopReader
from server.runtime.mailbox import Mailbox
from store.sqlite_reads import NonWaitingReads

logger = logging.getLogger("cody_batch.event_tail")

POLL_SECONDS = 0.5  # the fallback only (CODY_BATCH_FEED_POLL_SECONDS): commits wake the tail at once
BATCH = 500


class WakeSocket(Protocol):
    """A socket that becomes readable when another process commits."""

    def fileno(self) -> int: ...

    def drain(self) -> int: ...

    def close(self) -> None: ...


class FeedStore(Protocol):
    """What the tail needs from the store (SqliteStore has it)."""

    def feed_since(self, after_id: int, limit: int = 500) -> list[tuple[int, Event]]: ...

    def last_feed_id(self) -> int: ...

    def data_version(self) -> int: ...

    def add_commit_listener(self, listener: Callable[[], None]) -> None: ...

    def remove_commit_listener(self, listener: Callable[[], None]) -> None: ...

    def listen_for_commits(self) -> WakeSocket | None: ...

    def non_waiting_reads(self) -> NonWaitingReads: ...


class TailSubscription(Mailbox[Event]):
    """One subscriber's events, of its job (or of every job); `close` stops delivery."""

    def __init__(self, tail: EventTail, job_id: str | None) -> None:
        super().__init__(lambda: tail.unsubscribe(self))
        self.job_id = job_id


class EventTail:
    """Tails the store's event feed in one background task; subscribers get every new event of their job."""

    def __init__(
        self,
        store: FeedStore,
        poll_seconds: float = POLL_SECONDS,
        batch: int = BATCH,
        reader: LoopReader | None = None,
    ) -> None:
        self.store = store
        self.reader = reader  # reads the feed on the loop itself; None: in a thread
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._by_job: dict[str | None, set[TailSubscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()
        self._wake_socket: WakeSocket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.last_id = 0

    @property
    def subscriber_count(self) -> int:
        return sum(len(group) for group in self._by_job.values())

    def subscribe(self, job_id: str | None = None) -> TailSubscription:
        """Start receiving the events of `job_id` (None: of every job) that the tail reads from now on."""
        self._ensure_running()
        subscription = TailSubscription(self, job_id)
        self._by_job.setdefault(job_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: TailSubscription) -> None:
        group = self._by_job.get(subscription.job_id)
        if group is not None:
            group.discard(subscription)
            if not group:
                del self._by_job[subscription.job_id]

    def start(self) -> None:
        """Start the tail task (subscribing starts it too)."""
        self._ensure_running()

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._listen()
            # Where the feed ends, read before the first subscriber is added so it misses
            # nothing; the version first, so a commit in between is drained, not skipped.
            version = self.store.data_version()
            self.last_id = self.store.last_feed_id()
            self._task = asyncio.get_running_loop().create_task(self._run(version), name="event-tail")

    def _listen(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        self.store.add_commit_listener(self._wake_from_any_thread)
        self._wake_socket = self.store.listen_for_commits()
        if self._wake_socket is not None:
            self._loop.add_reader(self._wake_socket.fileno(), self._on_poke)

    def _wake_from_any_thread(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._woken.set)

    def _on_poke(self) -> None:
        if self._wake_socket is not None and self._wake_socket.drain():
            self._woken.set()

    async def stop(self) -> None:
        """Stop the tail task and stop listening for commits."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._loop is not None:
            self.store.remove_commit_listener(self._wake_from_any_thread)
            if self._wake_socket is not None:
                self._loop.remove_reader(self._wake_socket.fileno())
                self._wake_socket.close()
                self._wake_socket = None
            self._loop = None

    async def _woken_within(self, seconds: float) -> bool:
        # asyncio.timeout, not wait_for: in Python 3.11 wait_for swallows a cancellation that
        # arrives as the event is set, and stop() would then wait a whole poll interval.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._woken.wait()
        woken = self._woken.is_set()
        # Cleared before the read, so a commit during it wakes the tail again.
        self._woken.clear()
        return woken

    async def _run(self, version: int) -> None:
        while True:
            woken = await self._woken_within(self.poll_seconds)
            try:
                if not woken:
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
            batch = await self._feed_since(self.last_id)
            for feed_id, event in batch:
                self.last_id = feed_id
                for subscriber in (*self._by_job.get(event.job_id, ()), *self._by_job.get(None, ())):
                    subscriber.deliver(event)
            if len(batch) < self.batch:
                return

    async def _feed_since(self, after_id: int) -> list[tuple[int, Event]]:
        if self.reader is None:
            return await asyncio.to_thread(self.store.feed_since, after_id, self.batch)
        return await self.reader(lambda reads: reads.feed_since(after_id, self.batch))
