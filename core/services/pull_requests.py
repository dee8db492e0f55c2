"""The pull requests a job opened: their state on GitHub, kept on the runs, and the job's tally."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from core.errors import CodyBatchError, NotFoundError
from core.ids import utcnow
from core.models import (
    ChecksState,
    EventKind,
    Job,
    NewEvent,
    PullRequest,
    PullRequestState,
    PullRequestStatus,
    RepositoryRun,
)
from core.ports import PullRequestHost, Store
from core.services.pull_request_index import index_pull_request
from core.services.updates import update_runs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullRequestTally:
    """How many of a job's pull requests are in each state, and how many fail their checks."""

    open: int = 0
    draft: int = 0
    merged: int = 0
    closed: int = 0
    checks_failing: int = 0


def tally(runs: Iterable[RepositoryRun]) -> PullRequestTally:
    """Count the pull requests of a job's runs by their last known state."""
    counts = dict.fromkeys(PullRequestState, 0)
    failing = 0
    for run in runs:
        pr = run.pull_request
        if pr is None:
            continue
        counts[pr.state] += 1
        if (
            pr.status is not None
            and pr.status.checks is ChecksState.FAILURE
            and pr.state is not PullRequestState.CLOSED
        ):
            failing += 1
    return PullRequestTally(
        open=counts[PullRequestState.OPEN],
        draft=counts[PullRequestState.DRAFT],
        merged=counts[PullRequestState.MERGED],
        closed=counts[PullRequestState.CLOSED],
        checks_failing=failing,
    )


def repository_of(run: RepositoryRun) -> str | None:
    """GitHub's owner/name of the repository a run's pull request lives in."""
    if run.branch is not None:
        return run.branch.repository
    if run.pull_request is None:
        return None
    # https://github.com/OWNER/NAME/pull/N
    parts = run.pull_request.url.split("/")
    return f"{parts[-4]}/{parts[-3]}".lower() if len(parts) >= 5 and parts[-2] == "pull" else None


def describe(status: PullRequestStatus | None, pr: PullRequest) -> str:
    """The parts of a pull request's state an event reports, in one line."""
    if status is None:
        return f"state={pr.state}"
    return f"state={status.state} checks={status.checks} review={status.review_decision}"


def record_statuses(store: Store, job_id: str, statuses: dict[str, tuple[int, PullRequestStatus]]) -> Job:
    """Store what GitHub said of some pull requests of a job (run id -> (number, status)).

    Each change of state, checks or review decision is a PULL_REQUEST event, so subscribers see it;
    a status for a pull request the run no longer has (a retry opened another) is dropped.
    """
    synced = utcnow()
    events: list[NewEvent] = []

    def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        events.clear()  # called again on a lost race: decide on fresh rows
        replaced: dict[str, RepositoryRun] = {}
        for run in runs:
            pr = run.pull_request
            if run.id not in statuses or pr is None or pr.number != statuses[run.id][0]:
                continue
            status = statuses[run.id][1]
            before, after = describe(pr.status, pr), describe(status, pr)
            if before != after:
                events.append(NewEvent(run_id=run.id, kind=EventKind.PULL_REQUEST, old_value=before, new_value=after))
            updated = pr.model_copy(update={"status": status, "synced_at": synced})
            replaced[run.id] = run.model_copy(update={"pull_request": updated})
        return replaced

    return update_runs(store, job_id, mutate, extra_events=lambda _: list(events))


def refresh_pull_requests(
    store: Store,
    host: PullRequestHost,
    job_id: str,
    run_ids: Iterable[str] | None = None,
    *,
    raise_unread: bool = False,
) -> Job:
    """Read the pull requests of a job (of `run_ids` only, when given) from GitHub and store them.

    Reads are conditional: what did not change since the last read costs no rate limit.

    A pull request GitHub cannot be asked about now keeps its last known state; the others are stored.
    With `raise_unread`, the first such read's error is then raised (a caller that must not count
    the refresh as done).
    """
    job = store.get_job(job_id)
    if job is None:
        raise NotFoundError(f"no job with id {job_id}")
    statuses: dict[str, tuple[int, PullRequestStatus]] = {}
    unread: list[CodyBatchError] = []
    wanted = None if run_ids is None else set(run_ids)
    for run in store.get_runs([job_id]).get(job_id, []):
        repository = repository_of(run)
        if run.pull_request is None or repository is None or (wanted is not None and run.id not in wanted):
            continue
        index_pull_request(store, repository, run)  # pull requests opened before deliveries were followed
        try:
            status = host.pull_request_status(repository, run.pull_request.number, run.pull_request.status)
        except CodyBatchError as err:
            log.warning("pull request %s#%d not refreshed: %s", repository, run.pull_request.number, err)
            unread.append(err)
            continue
        statuses[run.id] = (run.pull_request.number, status)
    stored = record_statuses(store, job_id, statuses) if statuses else job
    if raise_unread and unread:
        raise unread[0]
    return stored


def refresh_open_pull_requests(store: Store, host: PullRequestHost, max_jobs: int = 100) -> int:
    """Refresh the open and draft pull requests of the newest `max_jobs` jobs; how many jobs were refreshed.

    The periodic refresh for servers GitHub cannot reach with webhooks; merged and closed ones
    no longer change state, so they are not read again.
    """
    page = store.list_jobs(max_jobs)
    refreshed = 0
    for job in page.jobs:
        runs = store.get_runs([job.id]).get(job.id, [])
        live = [
            r.id
            for r in runs
            if r.pull_request is not None and r.pull_request.state in {PullRequestState.OPEN, PullRequestState.DRAFT}
        ]
        if live:
            refresh_pull_requests(store, host, job.id, live)
            refreshed += 1
    return refreshed
