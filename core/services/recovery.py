"""Runs whose worker or server died: resumed from their stored thread and checkpoint, a bounded number of
times per attempt; past that (or with resumption off) they end as they did before resumption existed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from core.errors import RunErrorKind
from core.models import JobStatus, RepositoryRun, ResumeReason, RunError, RunStatus
from core.ports import Store
from core.services.continuation import resumed
from core.services.progress import load_thread
from core.services.updates import update_run, update_runs

ORPHANED_CAUSE = "the server stopped before the run finished (found unfinished at the next start)"
# Continuing keeps its finished turns; a retry (the only way for a run with none) starts it again.
ORPHANED_MESSAGE = f"{ORPHANED_CAUSE}; continue it from its last turn, or retry it"
_PAGE = 100


@dataclass
class Settled:
    """What settling a stopped server's runs did: the runs put back to go on and those left pending (both
    by job, to dispatch), and how many runs failed."""

    resumed: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    pending: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    interrupted: int = 0

    def to_dispatch(self) -> dict[str, list[int]]:
        """Run indexes to start again, by job, in index order."""
        jobs = {*self.resumed, *self.pending}
        return {job: sorted([*self.resumed.get(job, []), *self.pending.get(job, [])]) for job in sorted(jobs)}


def unfinished_job_ids(store: Store) -> list[str]:
    """Every job still queued or running, page by page."""
    ids: list[str] = []
    for status in (JobStatus.QUEUED, JobStatus.RUNNING):
        after: str | None = None
        while True:
            page = store.list_jobs(_PAGE, after, status)
            ids.extend(job.id for job in page.jobs)
            if not page.has_next:
                break
            after = page.end_cursor
    return ids


def resumes_left(run: RepositoryRun, max_resumes: int) -> bool:
    """Whether the run's current attempt may be resumed once more after its worker died: `max_resumes` times
    since it started or since the user last continued it (which may follow a failure past them)."""
    resumed = 0
    for record in run.resumptions:
        resumed = resumed + 1 if record.reason is ResumeReason.RESUMED else 0
    return resumed < max_resumes


def resume(store: Store, run: RepositoryRun, cause: str) -> RepositoryRun:
    """`run` back to PENDING at the same attempt, going on from its stored thread (turn 0 without one)."""
    thread = load_thread(store, run)
    return resumed(run, ResumeReason.RESUMED, thread.turns if thread is not None else 0, cause)


def _unfinished(run: RepositoryRun) -> bool:
    return not run.status.finished


def resume_run(
    store: Store,
    run_id: str,
    attempt: int,
    max_resumes: int,
    cause: str,
    stopped: Callable[[RepositoryRun], bool] = _unfinished,
) -> bool:
    """After its worker died: put `attempt` of the run back to go on, if it is still at that attempt,
    was `stopped` by that death (default: left unfinished) and has resumptions left. Whether it did
    (the caller then starts a worker for it)."""
    found = store.get_run(run_id)
    if found is None:
        return False
    done = False

    def mutate(run: RepositoryRun) -> RepositoryRun | None:
        nonlocal done
        done = stopped(run) and run.attempt == attempt and resumes_left(run, max_resumes)
        return resume(store, run, cause) if done else None

    update_run(store, found.job_id, run_id, mutate)
    return done


def settle_orphaned_runs(store: Store, max_resumes: int) -> Settled:
    """At the start of the one local server: no worker runs an unfinished run any more. One still pending
    is left to start as it is; any other is resumed while it has resumptions left, else fails as INTERRUPTED."""
    settled = Settled()
    for job_id in unfinished_job_ids(store):
        pending, resumed_now, failed_now = _settle_job(store, job_id, max_resumes)
        if pending:
            settled.pending[job_id] = pending
        if resumed_now:
            settled.resumed[job_id] = resumed_now
        settled.interrupted += failed_now
    return settled


def _pending(run: RepositoryRun) -> bool:
    """Waiting for a process when the server stopped: new, continued or resumed, its current attempt or
    resumption has not begun (a worker's first write moves it on), so there is nothing to resume: it only
    starts. Resuming it would spend a resumption for nothing, or fail it once none is left."""
    return run.status is RunStatus.PENDING


def _settle_job(store: Store, job_id: str, max_resumes: int) -> tuple[list[int], list[int], int]:
    """One job's unfinished runs left pending, resumed or failed: the indexes pending and resumed, and how
    many failed."""
    error = RunError(kind=RunErrorKind.INTERRUPTED, message=ORPHANED_MESSAGE)
    pending: list[int] = []
    resumed_now: list[int] = []
    failed_now: list[int] = []

    def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        pending.clear()  # called again with fresh rows when a race is lost
        resumed_now.clear()
        failed_now.clear()
        out: dict[str, RepositoryRun] = {}
        for run in runs:
            if _pending(run):
                pending.append(run.index)
            if run.status.finished or _pending(run):
                continue
            if resumes_left(run, max_resumes):
                out[run.id] = resume(store, run, ORPHANED_CAUSE)
                resumed_now.append(run.index)
            else:
                out[run.id] = run.model_copy(update={"status": RunStatus.FAILED, "error": error})
                failed_now.append(run.index)
        return out

    update_runs(store, job_id, mutate)
    return list(pending), list(resumed_now), len(failed_now)


def interrupt_orphaned_runs(store: Store) -> int:
    """Fail every run left unfinished mid-way as INTERRUPTED, resuming none (queued ones stay queued). How many."""
    return settle_orphaned_runs(store, 0).interrupted
