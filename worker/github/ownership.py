"""Which run owns a branch: one run per repository and job, and the commit it pushed last."""

from __future__ import annotations

from core.errors import RunErrorKind
from core.models import Branch, RepositoryRun
from core.ports import Store
from core.services.updates import update_run, update_runs
from worker.github.errors import PublishError


def claim_branch(store: Store, run: RepositoryRun, repository: str, branch: str) -> Branch:
    """Record that `run` publishes `branch` of `repository` (GitHub's owner/name); the claim as stored.

    Two references can name one repository (an old name and a new one): the second run to
    claim it fails with DUPLICATE_REPOSITORY instead of replacing the first run's push.
    The claim is written with the job's version, so two concurrent claims cannot both pass.
    """
    repository = repository.lower()
    holders: list[RepositoryRun] = []

    def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        holders[:] = [r for r in runs if r.id != run.id and r.branch is not None and r.branch.repository == repository]
        mine = next(r for r in runs if r.id == run.id)
        if holders or (mine.branch is not None and (mine.branch.repository, mine.branch.name) == (repository, branch)):
            return {}
        return {run.id: mine.model_copy(update={"branch": Branch(repository=repository, name=branch)})}

    update_runs(store, run.job_id, mutate)
    if holders:
        other = holders[0]
        raise PublishError(
            RunErrorKind.DUPLICATE_REPOSITORY,
            f"{run.location} is github.com/{repository} on GitHub, which repository {other.index + 1} of this job "
            f"({other.location}) already publishes to; a repository takes one run per job",
        )
    stored = store.get_run(run.id)
    assert stored is not None and stored.branch is not None
    return stored.branch


def record_push(store: Store, run: RepositoryRun, head: str) -> None:
    """Remember the commit the run just pushed: the only one a later push of this run may replace."""

    def mutate(current: RepositoryRun) -> RepositoryRun | None:
        if current.branch is None:
            return None
        return current.model_copy(update={"branch": current.branch.model_copy(update={"head": head})})

    update_run(store, run.job_id, run.id, mutate)
