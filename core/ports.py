"""Ports: what the domain needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from core.models import Event, Job, JobStatus, NewEvent, PullRequestStatus, RepositoryRun


@dataclass
class Change:
    """One atomic write: rows with the versions they were read at, plus their events.

    The store applies all of it or none (ConflictError when any version moved), numbers
    the events after the job's last sequence, and sets `job.last_seq` accordingly.
    """

    job: Job
    job_version: int | None
    runs: list[tuple[RepositoryRun, int | None]] = field(default_factory=list)
    events: list[NewEvent] = field(default_factory=list)
    artifacts: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    """One page of jobs with each job's opaque cursor (the store's format; `after` accepts it)."""

    jobs: list[Job]
    cursors: list[str]
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


class Store(Protocol):
    """Persistence of jobs, runs, events and artifacts (SQLite locally, DynamoDB on AWS).

    Versions: `None` as an expected version means "must not exist yet" (insert).
    Every successful write bumps the row's version by one.
    """

    def commit(self, change: Change) -> list[Event]:
        """Apply a Change atomically; returns the events as stored."""
        ...

    def get_job(self, job_id: str) -> Job | None: ...

    def get_jobs(self, job_ids: Sequence[str]) -> list[Job | None]:
        """Many jobs in one read, in the order asked."""
        ...

    def list_jobs(self, first: int, after: str | None = None, status: JobStatus | None = None) -> Page:
        """Newest first; `after` is the `end_cursor` of the previous page."""
        ...

    def get_run(self, run_id: str) -> RepositoryRun | None: ...

    def get_runs(self, job_ids: Sequence[str]) -> dict[str, list[RepositoryRun]]:
        """Runs of many jobs in one read, each list ordered by index."""
        ...

    def list_events(self, job_id: str, after_seq: int = 0, limit: int = 100) -> list[Event]: ...

    def put_artifact(self, key: str, data: bytes) -> None: ...

    def get_artifact(self, key: str) -> bytes | None: ...

    def cache_get(self, key: str) -> str | None:
        """A cached value that has not expired."""
        ...

    def cache_put(self, key: str, value: str, ttl_seconds: int) -> None: ...

    def cache_add(self, key: str, value: str, ttl_seconds: int) -> bool:
        """Put `value` only if `key` holds no unexpired value, atomically; whether it was put."""
        ...

    def cache_delete(self, key: str) -> None: ...

    def close(self) -> None:
        """Release connections (a process calls it once, when it is done with the store)."""
        ...


@dataclass(frozen=True)
class PaceWait:
    """How long a request must still wait: out a backoff window, and for its turn after another request."""

    backoff: float = 0.0
    turn: float = 0.0

    @property
    def ready(self) -> bool:
        return self.backoff <= 0 and self.turn <= 0


class Pacer(Protocol):
    """One pace for every run that uses one credential of a rate-limited service (GitHub), on every machine.

    Content-creating requests go one at a time, `spacing` seconds after the previous one
    ended; every request waits out a backoff window the service asked for. Locally a file
    per key under the data dir; on AWS an item of the table (conditional updates do what
    the file lock does). Keys never contain the credential itself.
    """

    def reserve(self, key: str, hold: float) -> PaceWait:
        """Ask to send a request under `key`; ready means it may go now.

        With `hold` > 0 (a content-creating request) a ready answer also takes the turn for
        at most `hold` seconds, until `release`; a process that dies holding it delays the
        others by `hold` at most (the local pacer frees it as soon as the process is gone).
        """
        ...

    def release(self, key: str, spacing: float) -> None:
        """A content-creating request ended: the next may go `spacing` seconds from now."""
        ...

    def block(self, key: str, until: float) -> None:
        """No request under `key` before epoch time `until` (the service asked to back off)."""
        ...


class PullRequestHost(Protocol):
    """Reads pull requests where they live (GitHub), asking only for what changed since the last read."""

    def pull_request_status(self, repository: str, number: int, known: PullRequestStatus | None) -> PullRequestStatus:
        """The pull request now; parts unchanged since `known` (by its etags) are taken from it."""
        ...

    def publish(self, repository: str, number: int) -> None:
        """Mark a draft ready for review."""
        ...

    def comment(self, repository: str, number: int, text: str) -> None:
        """Add a comment to the pull request's conversation."""
        ...

    def close(self, repository: str, number: int) -> None:
        """Close without merging."""
        ...

    def merge(self, repository: str, number: int) -> None:
        """Merge with a method the repository allows; the host's rules (branch protection) decide."""
        ...

    def delete_branch(self, repository: str, branch: str) -> None:
        """Delete the pull request's head branch."""
        ...


class Dispatcher(Protocol):
    """Starts and stops the workers of runs (subprocesses locally, AWS Batch on AWS)."""

    def dispatch(self, job_id: str, indexes: Sequence[int]) -> None: ...

    def cancel(self, job_id: str, indexes: Sequence[int]) -> None: ...

    def start(self) -> None:
        """Begin background work, if any (the local pool warms its forkserver), before the first dispatch."""
        ...

    def close(self) -> None:
        """Stop: release workers and whatever else `start` began."""
        ...
