"""A Batch child started again by Batch's retry: the run resumed, or its next attempt, started here.

Batch retries a child only when the capacity under it went away (the job definition's retry
rules: a lost host, a Spot reclaim). The run is then FAILED with `TERMINATED` (the worker got
SIGTERM and recorded it) or left unfinished mid-step (the host vanished with it). Either way
the retried child resumes the same attempt from its stored thread and checkpoint while the
attempt has resumptions left (CODY_BATCH_MAX_RESUMES); past that it starts the run's next
attempt, as `retryRepositories` would. Then it runs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.errors import RunErrorKind
from core.models import RepositoryRun, RunStatus
from core.ports import Store
from core.services.jobs import retry_runs
from core.services.progress import RunProgress
from core.services.recovery import resume_run
from core.services.runs import find_run
from core.services.updates import update_run

BATCH_ATTEMPT_ENV = "AWS_BATCH_JOB_ATTEMPT"
BATCH_JOB_ID_ENV = "AWS_BATCH_JOB_ID"
LOST_MESSAGE = "the capacity under the worker went away (a lost host or a Spot reclaim); Batch started it again"


class RunsHere:
    """The Dispatcher of a retry this process runs itself: nothing to start elsewhere."""

    def dispatch(self, job_id: str, indexes: Sequence[int]) -> None:
        """Nothing: the calling Batch child runs the new attempt."""
        return None

    def cancel(self, job_id: str, indexes: Sequence[int]) -> None:
        """Nothing: a cancel reaches this child through TerminateJob."""
        return None

    def start(self) -> None:
        """Nothing to start."""
        return None

    def close(self) -> None:
        """Nothing to release."""
        return None


def _lost(run: RepositoryRun) -> bool:
    if run.status is RunStatus.FAILED:
        return run.error is not None and run.error.kind == RunErrorKind.TERMINATED
    return not run.status.finished and run.status is not RunStatus.PENDING


def _cause(run: RepositoryRun) -> str:
    """Why a lost attempt stopped, in words: the worker's own SIGTERM record, or the lost capacity."""
    recorded = run.error.message if run.status is RunStatus.FAILED and run.error is not None else LOST_MESSAGE
    return f"{recorded} (Batch child attempt started again)"


def attempt_to_run(
    store: Store, env: Mapping[str, str], job_id: str, index: int, attempt: int | None, max_resumes: int
) -> int | None:
    """The attempt this child runs: on a Batch retry of an attempt whose capacity was lost, that attempt
    resumed while it has resumptions left (`max_resumes`), else the next one."""
    raw = env.get(BATCH_ATTEMPT_ENV, "1").strip()
    if attempt is None or not raw.isdigit() or int(raw) < 2:
        return attempt
    run = find_run(store, job_id, index)
    if run is None or run.attempt != attempt or not _lost(run):
        return attempt  # never started, finished for good, cancelled or moved on: the worker decides
    if resume_run(store, run.id, attempt, max_resumes, _cause(run), stopped=_lost):
        next_attempt = attempt
    else:
        if not run.status.finished:
            RunProgress(store, run.id, attempt).fail(RunErrorKind.TERMINATED, LOST_MESSAGE)
        retry_runs(store, RunsHere(), job_id, [run.id])
        next_attempt = attempt + 1
    batch_job_id = env.get(BATCH_JOB_ID_ENV)
    if batch_job_id:
        # The attempt goes on in this same Batch job: cancel must still find it.
        update_run(store, job_id, run.id, lambda r: r.model_copy(update={"batch_job_id": batch_job_id}))
    return next_attempt
