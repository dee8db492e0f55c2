"""DataLoaders: batch the store reads of one operation (one HTTP request, one event)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from core.models import Job, RepositoryRun
from resolvers.reads import Reader


class Loaders:
    """Batching loaders over one store's reads; make a new one per operation so rows stay fresh."""

    def __init__(self, read: Reader) -> None:
        self.read = read
        self.runs_by_job: DataLoader[str, list[RepositoryRun]] = DataLoader(load_fn=self._load_runs)
        self.jobs: DataLoader[str, Job | None] = DataLoader(load_fn=self._load_jobs)

    async def _load_runs(self, job_ids: Sequence[str]) -> list[list[RepositoryRun]]:
        found = await self.read(lambda rows: rows.get_runs(list(job_ids)))
        return [found.get(job_id, []) for job_id in job_ids]

    async def _load_jobs(self, job_ids: Sequence[str]) -> list[Job | None]:
        return await self.read(lambda rows: rows.get_jobs(list(job_ids)))
