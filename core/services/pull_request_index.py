"""Which run opened a pull request, found by repository and number or branch (webhooks name nothing else).

Kept in the store's cache (a key per number and per branch): the store has no query by repository,
and a lookup per delivery must not scan every job.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.models import RepositoryRun
from core.ports import Store

INDEX_TTL = 180 * 24 * 3600  # how long a pull request stays known to deliveries


def number_key(repository: str, number: int) -> str:
    """The index key of a pull request by its number."""
    return f"pull-request/{repository.lower()}#{number}"


def branch_key(repository: str, branch: str) -> str:
    """The index key of a pull request by its head branch."""
    return f"pull-request/{repository.lower()}@{branch}"


def index_pull_request(store: Store, repository: str, run: RepositoryRun) -> None:
    """Remember that `run` opened its pull request in `repository`."""
    if run.pull_request is None:
        return
    value = f"{run.job_id} {run.id}"
    store.cache_put(number_key(repository, run.pull_request.number), value, INDEX_TTL)
    store.cache_put(branch_key(repository, run.pull_request.branch), value, INDEX_TTL)


def runs_named(store: Store, keys: Iterable[str]) -> dict[str, set[str]]:
    """Run ids by job id of the indexed pull requests among `keys`."""
    found: dict[str, set[str]] = {}
    for key in keys:
        value = store.cache_get(key)
        if value is not None:
            job_id, _, run_id = value.partition(" ")
            found.setdefault(job_id, set()).add(run_id)
    return found
