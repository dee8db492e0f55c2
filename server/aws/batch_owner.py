"""The one Batch child that runs a run: the one the run names, or the first to name itself.

Each run records the Batch job running its current attempt (`batch_job_id`). A child whose run
names another Batch job is not its run's worker (a duplicate submission, or a child of a
submission the run has moved past): it exits without touching the run. A child that starts
before its submitter recorded it (the submitter died, or is slow) records itself, clearing a
resumption's pending submission, so whoever submitted it finds the run taken and nobody submits
another; two children started for one run cannot both do that, as the write is conditional.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.models import RepositoryRun, RunStatus
from core.ports import Store
from core.services.runs import find_run
from core.services.updates import update_run
from server.aws.batch_retry import BATCH_JOB_ID_ENV


def owns_run(store: Store, env: Mapping[str, str], job_id: str, index: int) -> bool:
    """Whether this process may run run `index` of `job_id`: not a Batch child, or the child its run names
    (recorded here when the run names none yet)."""
    own = env.get(BATCH_JOB_ID_ENV, "").strip()
    if not own:
        return True  # not a Batch child
    run = find_run(store, job_id, index)
    if run is None:
        return True  # an unknown run: the worker says so itself
    owned = True

    def mutate(current: RepositoryRun) -> RepositoryRun | None:
        nonlocal owned
        owned = current.batch_job_id in (None, own)
        if current.batch_job_id == own or not owned or current.status.finished:
            return None
        # A PENDING run's step can only say it waited for Batch to accept it: it no longer does.
        step = None if current.status is RunStatus.PENDING else current.step
        return current.model_copy(update={"batch_job_id": own, "batch_submission": None, "step": step})

    update_run(store, job_id, run.id, mutate)
    return owned
