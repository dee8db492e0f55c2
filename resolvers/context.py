"""The typed Context every resolver receives, and the ports it carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from core.models import Event
from core.ports import Dispatcher, PullRequestHost, Store
from core.settings import Settings
from resolvers.loaders import Loaders
from resolvers.reads import JobRows, Reader, in_thread

T = TypeVar("T")


class EventSubscription(Protocol):
    """Events committed after the subscription was made, in commit order."""

    async def next(self) -> Event | None:
        """The next event; waits until one is committed. None: the feed has ended (on AWS each
        change runs the subscription once, over that change's event)."""
        ...

    def close(self) -> None:
        """Stop receiving events."""
        ...


class EventFeed(Protocol):
    """Live events of every job, fanned out in-process (the server's event tail)."""

    def subscribe(self, job_id: str | None) -> EventSubscription:
        """Start receiving every event committed from now on (`job_id`: the job the subscriber follows,
        None for every job; a feed may deliver more than asked, subscribers filter)."""
        ...


@dataclass
class Context:
    """What one GraphQL operation may use: ports, settings and per-operation loaders.

    Over HTTP a Context lives for one request; over a WebSocket it lives for the
    connection, so `per_operation` is False there and loaders are made per use.
    """

    store: Store
    dispatcher: Dispatcher
    settings: Settings
    feed: EventFeed | None = None
    pull_requests: PullRequestHost | None = None
    download_secret: bytes | None = None
    per_operation: bool = True
    connection_params: dict[str, Any] = field(default_factory=dict)
    reader: Reader | None = None  # None: every read in a worker thread
    _loaders: Loaders | None = None

    def read(self, read: Callable[[JobRows], T]) -> Awaitable[T]:
        """`read` over the store, made where this server makes reads (see `reader`)."""
        return (self.reader or in_thread(self.store))(read)

    def loaders(self) -> Loaders:
        """Loaders for the current operation; never shared across WebSocket operations."""
        if not self.per_operation:
            return Loaders(self.read)
        if self._loaders is None:
            self._loaders = Loaders(self.read)
        return self._loaders
