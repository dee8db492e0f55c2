"""DataLoaders: batch the store reads of one operation (one HTTP request, one event)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from core.models import Job, RepositoryRun
from core.ports import Store


class Loaders:
    """Batching loaders over one store; make a new one per operation so rows stay fresh."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.runs_by_job: DataLoader[str, list[RepositoryRun]] = DataLoader(load_fn=self._load_runs)
        self.jobs: DataLoader[str, Job | None] = DataLoader(load_fn=self._load_jobs)

    async def _load_runs(self, job_ids: Sequence[str]) -> list[list[RepositoryRun]]:
        found = await asyncio.to_thread(self.store.get_runs, list(job_ids))
        return [found.get(job_id, []) for job_id in job_ids]

    async def _load_jobs(self, job_ids: Sequence[str]) -> list[Job | None]:
        return await asyncio.to_thread(self.store.get_jobs, list(job_ids))
