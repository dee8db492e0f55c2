"""Mailbox: one subscriber's items in order, filled by whatever fans out to it.

The local event tail fills one per subscription with events, the shared subscriptions one per
member with frames; closing a mailbox hands it back to its sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Mailbox(Generic[T]):
    """Items delivered to one subscriber, read in order; `close` stops delivery."""

    def __init__(self, on_close: Callable[[], None]) -> None:
        self._on_close = on_close
        self._items: asyncio.Queue[T] = asyncio.Queue()

    def deliver(self, item: T) -> None:
        """Queue an item (never blocks: a subscriber reads at its own pace)."""
        self._items.put_nowait(item)

    async def next(self) -> T:
        """The next item; waits until one is delivered."""
        return await self._items.get()

    def close(self) -> None:
        """Stop receiving: the sender forgets this mailbox."""
        self._on_close()
