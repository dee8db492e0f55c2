"""How resolvers read the store: through a Reader, which picks where the read is made."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar

from core.models import Job, RepositoryRun
from core.ports import Store

T = TypeVar("T")


class JobRows(Protocol):
    """The store reads a live update makes: the job, the runs of each job shown, and their threads."""

    def get_job(self, job_id: str) -> Job | None: ...

    def get_jobs(self, job_ids: Sequence[str]) -> list[Job | None]: ...

    def get_runs(self, job_ids: Sequence[str]) -> dict[str, list[RepositoryRun]]: ...

    def get_artifact(self, key: str) -> bytes | None: ...


class Reader(Protocol):
    """Makes a store read where it costs least (the local server: on its event loop, when it needs no wait)."""

    def __call__(self, read: Callable[[JobRows], T]) -> Awaitable[T]: ...


def job_row(job_id: str) -> Callable[[JobRows], Job | None]:
    """The read of one job."""
    return lambda rows: rows.get_job(job_id)


def in_thread(store: Store) -> Reader:
    """A Reader making every read in a worker thread (a store that may block, like DynamoDB over the network)."""

    def reader(read: Callable[[JobRows], T]) -> Awaitable[T]:
        return asyncio.to_thread(read, store)

    return reader
