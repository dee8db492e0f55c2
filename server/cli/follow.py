"""Following a job over the `jobUpdated` subscription until it finishes, surviving dropped sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import aclosing
from typing import Any

from server.cli.graphql_client import ConnectionLost, GraphQLClient, ServerUnreachable
from server.cli.queries import JOB_UPDATED

FINISHED_JOB_STATUSES = frozenset({"SUCCEEDED", "FAILED", "PARTIAL", "CANCELLED"})
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)

JobData = dict[str, Any]


def is_finished(job: JobData) -> bool:
    """True when no run of the job will change any more."""
    return job.get("status") in FINISHED_JOB_STATUSES


async def follow_job(
    client: GraphQLClient,
    job: JobData,
    on_update: Callable[[JobData], None],
    *,
    on_retry: Callable[[str], None] | None = None,
    retry_delays: Sequence[float] = RETRY_DELAYS,
) -> JobData:
    """The job once finished, calling `on_update` with every newer state seen on the way.

    When the socket drops (or the server restarts) it reconnects with the last cursor it
    saw, so the server replays the current job if anything changed meanwhile.
    """
    latest = job
    failures = 0
    while not is_finished(latest):
        variables = {"id": latest["id"], "after": latest.get("cursor")}
        try:
            async with aclosing(client.subscribe(JOB_UPDATED, variables)) as updates:
                async for data in updates:
                    failures = 0
                    latest = data["jobUpdated"]
                    on_update(latest)
                    if is_finished(latest):
                        return latest
            problem = "the server ended the subscription"
        except (ConnectionLost, ServerUnreachable) as err:
            problem = str(err)
        if failures >= len(retry_delays):
            raise ConnectionLost(f"gave up following job {latest['id']}: {problem}")
        if on_retry is not None:
            on_retry(problem)
        await asyncio.sleep(retry_delays[failures])
        failures += 1
    return latest
