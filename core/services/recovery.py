"""At start-up: runs a previous server left unfinished end as INTERRUPTED instead of waiting forever."""

from __future__ import annotations

from core.errors import RunErrorKind
from core.models import JobStatus, RepositoryRun, RunError, RunStatus
from core.ports import Store
from core.services.updates import update_runs

ORPHANED_MESSAGE = "the server stopped before the run finished (found unfinished at the next start); retry it"
_PAGE = 100


def _unfinished_job_ids(store: Store) -> list[str]:
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


def _interrupted(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
    error = RunError(kind=RunErrorKind.INTERRUPTED, message=ORPHANED_MESSAGE)
    failed = {"status": RunStatus.FAILED, "error": error}
    return {r.id: r.model_copy(update=failed) for r in runs if not r.status.finished}


def interrupt_orphaned_runs(store: Store) -> int:
    """Fail every unfinished run: no worker of this server runs it, so nothing else ever would. How many."""
    failed: dict[str, int] = {}
    for job_id in _unfinished_job_ids(store):

        def mutate(runs: list[RepositoryRun], job_id: str = job_id) -> dict[str, RepositoryRun]:
            replaced = _interrupted(runs)
            failed[job_id] = len(replaced)  # set again if a lost race makes update_runs call it twice
            return replaced

        update_runs(store, job_id, mutate)
    return sum(failed.values())
