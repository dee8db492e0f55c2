"""Helpers of the pull-request use-case tests: a stored job whose runs opened pull requests on an in-memory host."""

from __future__ import annotations

from core.models import Branch, Job, OutputMode, PullRequest, PullRequestState, RepositoryRun, RunStatus
from core.ports import Change, Store
from core.services.pull_request_index import index_pull_request
from core.state import derive_job_status
from tests.fakes.pull_request_host import MemoryPullRequestHost


def pull_request_run(job_id: str, index: int, name: str, number: int, *, draft: bool = False) -> RepositoryRun:
    """A finished run that pushed a branch of `name` (owner/name) and opened pull request `number` of it."""
    branch = f"cody-batch/{job_id}"
    return RepositoryRun(
        job_id=job_id,
        index=index,
        location=f"https://github.com/{name}",
        status=RunStatus.SUCCEEDED,
        branch=Branch(repository=name, name=branch),
        pull_request=PullRequest(
            url=f"https://github.com/{name}/pull/{number}", number=number, branch=branch, draft=draft
        ),
    )


def store_job(store: Store, runs_of: list[RepositoryRun] | None = None, job: Job | None = None) -> Job:
    """Store `job` (a new PULL_REQUEST job by default) with `runs_of` as its runs; the job as stored."""
    job = job or Job(title="Change", prompt="Change", model="claude-test", output=OutputMode.PULL_REQUEST)
    runs = [run.model_copy(update={"job_id": job.id}) for run in runs_of or []]
    job = job.model_copy(update={"status": derive_job_status(r.status for r in runs)})
    store.commit(Change(job=job, job_version=None, runs=[(run, None) for run in runs]))
    stored = store.get_job(job.id)
    assert stored is not None
    return stored


def pull_request_job(
    store: Store, host: MemoryPullRequestHost, names: list[str], *, draft: bool = False, indexed: bool = True
) -> tuple[Job, list[RepositoryRun]]:
    """A finished job with one pull request per repository in `names`, numbered from 1, each held by `host`.

    `indexed`: known to webhook deliveries, as a worker leaves it (False: opened before they were followed).
    """
    job = Job(title="Change", prompt="Change", model="claude-test", output=OutputMode.PULL_REQUEST)
    runs = [pull_request_run(job.id, i, name, i + 1, draft=draft) for i, name in enumerate(names)]
    for run, name in zip(runs, names, strict=True):
        assert run.pull_request is not None
        host.set(name, run.pull_request.number, PullRequestState.DRAFT if draft else PullRequestState.OPEN)
        if indexed:
            index_pull_request(store, name, run)
    return store_job(store, runs, job), runs
