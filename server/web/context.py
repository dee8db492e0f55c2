"""Building the resolvers' Context for an HTTP request or a WebSocket connection."""

from __future__ import annotations

from resolvers.context import Context, EventFeed
from resolvers.reads import Reader
from server.runtime.container import Container
from server.web.auth import TokenGuard


def request_context(
    container: Container, guard: TokenGuard, feed: EventFeed | None, reader: Reader | None = None
) -> Context:
    """A Context for one HTTP request: its loaders live as long as the request; `reader`: where reads are made."""
    return Context(
        store=container.store,
        dispatcher=container.dispatcher,
        settings=container.settings,
        feed=feed,
        pull_requests=container.pull_requests,
        download_secret=guard.signing_key,
        reader=reader,
    )


def connection_context(
    container: Container, guard: TokenGuard, feed: EventFeed | None, reader: Reader | None = None
) -> Context:
    """A Context for one WebSocket connection: loaders are made per operation and event."""
    context = request_context(container, guard, feed, reader)
    context.per_operation = False
    return context
