"""Helpers of the pull-request state tests: a stored job whose runs opened pull requests on the fake GitHub."""

from __future__ import annotations

from core.models import Branch, Job, OutputMode, PullRequest, RepositoryRun, RunStatus
from core.ports import Change, Store
from core.services.progress import RunProgress
from tests.fakes.github_server import FakeGitHub, FakePull, _git


def open_pull(fake: FakeGitHub, full_name: str, branch: str, *, draft: bool = False) -> FakePull:
    """A branch one commit ahead of the default branch and a pull request of it, as a run leaves them."""
    repo = fake.repos[full_name]
    tree = _git(repo.bare, "rev-parse", f"{repo.default_branch}^{{tree}}").strip()
    env_args = ["-c", "user.name=Cody", "-c", "user.email=cody@example.com"]
    commit = _git(repo.bare, *env_args, "commit-tree", tree, "-p", repo.default_branch, "-m", "change").strip()
    _git(repo.bare, "update-ref", f"refs/heads/{branch}", commit)
    pull = FakePull(len(fake.pulls) + 1, full_name, branch, repo.default_branch, "Change", "", draft)
    fake.pulls.append(pull)
    return pull


def pull_request_job(store: Store, fake: FakeGitHub, names: list[str], *, draft: bool = False) -> Job:
    """A finished PULL_REQUEST job over `names` (each added to the fake), one open pull request per run."""
    job = Job(title="Change", prompt="Change", model="claude-test", output=OutputMode.PULL_REQUEST)
    runs, opened = [], []
    for index, name in enumerate(names):
        fake.add_repo(name)
        branch = f"cody-batch/{job.id}"
        pull = open_pull(fake, name, branch, draft=draft)
        url = f"https://github.com/{name}/pull/{pull.number}"
        runs.append(
            RepositoryRun(
                job_id=job.id,
                index=index,
                location=f"https://github.com/{name}",
                status=RunStatus.PUBLISHING,
                branch=Branch(repository=name, name=branch),
            )
        )
        opened.append(PullRequest(url=url, number=pull.number, branch=branch, draft=draft))
    store.commit(Change(job=job, job_version=None, runs=[(run, None) for run in runs]))
    for run, pull_request in zip(runs, opened, strict=True):
        # As the worker records it: this also makes the pull request known to webhook deliveries.
        RunProgress(store, run.id).advance(RunStatus.SUCCEEDED, pull_request=pull_request)
    stored = store.get_job(job.id)
    assert stored is not None
    return stored
