"""Running one GraphQL operation in a Lambda: a Context over the AWS ports, every result collected.

A subscription here never waits: its feed replays the events of one change (or none) and then
ends, so the operation yields what the local server would send for that change, and returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from core.models import Event, Job
from core.ports import Dispatcher, PullRequestHost, Store
from core.settings import Settings
from resolvers.context import Context


class ReplaySubscription:
    """The events given, then the end of the feed."""

    def __init__(self, events: Sequence[Event]) -> None:
        self._events = list(events)

    async def next(self) -> Event | None:
        """The next replayed event; None once they are all out."""
        return self._events.pop(0) if self._events else None

    def close(self) -> None:
        """Stop replaying."""
        self._events.clear()


class ReplayFeed:
    """An EventFeed over a fixed list of events; `on_subscribe` runs when a subscriber starts,
    before it reads the job (the moment the WebSocket handler stores the subscription)."""

    def __init__(self, events: Sequence[Event] = (), on_subscribe: Callable[[str | None], None] | None = None) -> None:
        self.events = list(events)
        self.on_subscribe = on_subscribe

    def subscribe(self, job_id: str | None) -> ReplaySubscription:
        """A subscription replaying this feed's events."""
        if self.on_subscribe is not None:
            self.on_subscribe(job_id)
        return ReplaySubscription(self.events)


class JobReads:
    """The Store, noting the event sequence of every job read: the state a result shows, and so the
    cursor the stream handler compares before sending it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.seen: dict[str, int] = {}

    def get_job(self, job_id: str) -> Job | None:
        """The job, noting its sequence."""
        job = self._store.get_job(job_id)
        if job is not None:
            self.seen[job.id] = max(job.last_seq, self.seen.get(job.id, 0))
        return job

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@dataclass
class Ports:
    """What an operation may use on AWS."""

    store: Store
    dispatcher: Dispatcher
    settings: Settings
    download_secret: bytes | None = None
    pull_requests: PullRequestHost | None = None


@dataclass
class Outcome:
    """Every result of one operation, and the job states it read."""

    results: list[ExecutionResult] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    @property
    def pre_execution_error(self) -> PreExecutionError | None:
        """The request error that stopped the operation before it ran (parse, validation, limits)."""
        first = self.results[0] if self.results else None
        return first if isinstance(first, PreExecutionError) else None


INCREMENTAL = GraphQLError("Incremental delivery is not supported over graphql-transport-ws")


async def run_operation(
    schema: strawberry.Schema,
    ports: Ports,
    feed: ReplayFeed,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> Outcome:
    """Execute any operation (a subscription over `feed`) to its end; every result, in order."""
    reads = JobReads(ports.store)
    context = Context(
        store=reads,  # type: ignore[arg-type]  # the Store, with reads noted (JobReads delegates)
        dispatcher=ports.dispatcher,
        settings=ports.settings,
        feed=feed,
        download_secret=ports.download_secret,
        pull_requests=ports.pull_requests,
    )
    outcome = Outcome(seen=reads.seen)
    source = await schema.stream(query, variable_values=variables, context_value=context, operation_name=operation_name)
    async with aclosing(source):
        async for result in source:
            if not isinstance(result, ExecutionResult):
                outcome.results.append(ExecutionResult(data=None, errors=[INCREMENTAL]))
                break
            outcome.results.append(result)
    return outcome


def payload(result: ExecutionResult) -> dict[str, Any]:
    """A result as a graphql-transport-ws `next` payload."""
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        out["extensions"] = result.extensions
    return out
