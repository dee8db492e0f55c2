"""Store reads on the server's event loop: no thread hop for the small reads of a live update.

Each frame of a subscription reads the feed, the job and its runs. Sent to a thread and back,
each read waited twice for the scheduler (and for the GIL), and under load those waits were
most of a frame's tail. The reads of a live update take well under a millisecond each (a primary
key or an indexed batch of a few rows), so the loop makes them itself over a connection that
never waits for a lock; a read that would wait, or that may be large, is made in a thread as
before (store/sqlite_reads.py decides which).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, TypeVar

from store.sqlite_reads import NonWaitingReads, ReadRefused, SqliteReads

T = TypeVar("T")


class LoopReadable(Protocol):
    """A store whose reads an event loop may make itself (SqliteStore)."""

    def non_waiting_reads(self) -> NonWaitingReads: ...


class LoopReader:
    """Makes a read on the calling event loop when the store answers it at once, else in a thread."""

    def __init__(self, store: LoopReadable) -> None:
        self.store = store
        self._reads: NonWaitingReads | None = None
        self.on_loop = 0  # reads answered on the loop
        self.in_thread = 0  # reads refused there and made in a thread

    async def __call__(self, read: Callable[[SqliteReads], T]) -> T:
        """`read` applied to the store's reads: on this thread if it needs no wait, else in a thread."""
        if self._reads is None:
            # Made on first use, by the loop: the connection serves this one thread.
            self._reads = self.store.non_waiting_reads()
        try:
            result = read(self._reads)
        except ReadRefused:
            self.in_thread += 1
            return await asyncio.to_thread(read, self._reads.store)
        self.on_loop += 1
        return result
