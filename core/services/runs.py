"""Reading runs: the one way to find a job's run by its index."""

from __future__ import annotations

from core.models import RepositoryRun
from core.ports import Store


def find_run(store: Store, job_id: str, index: int) -> RepositoryRun | None:
    """The run at `index` of a job; None when the job or the index is unknown."""
    return next((r for r in store.get_runs([job_id]).get(job_id, []) if r.index == index), None)
