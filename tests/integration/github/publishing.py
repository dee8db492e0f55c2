"""Helpers of the publishing tests: a stored job with one run, and publishing it with a fixed patch."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable

from core.models import (
    Job,
    OutputMode,
    Patch,
    PatchFile,
    PullRequest,
    RepositoryRun,
    Validation,
    ValidationCheck,
    Verdict,
)
from core.ports import Change, Store
from core.settings import Settings
from server.runtime.worker_config import github_config
from worker.github.publish import Publisher
from worker.workspace import Workspace

Clone = Callable[..., Workspace]
PATCH = Patch(
    artifact_key="patches/x/1.diff",
    files=[PatchFile(path="app.py", change="MODIFIED", additions=1, deletions=1)],
    additions=1,
    deletions=1,
)
VERIFIED = Validation(verdict=Verdict.VERIFIED, checks=[ValidationCheck(name="pytest", status="PASSED")])


def make_job(
    store: Store, output: OutputMode = OutputMode.PULL_REQUEST, location: str = "github.com/acme/app"
) -> tuple[Job, RepositoryRun]:
    """A stored job with one run (the publisher records on the run what it pushed)."""
    job = Job(title="Say hello politely", prompt="Change the greeting to 'hello'.", model="m", output=output)
    run = RepositoryRun(job_id=job.id, index=0, location=location)
    store.commit(Change(job=job, job_version=None, runs=[(run, None)]))
    return job, run


def publish(
    settings: Settings,
    store: Store,
    workspace: Workspace,
    job: Job,
    run: RepositoryRun,
    summary: str = "Greeting changed.",
) -> PullRequest:
    """Publish `workspace` as `run` of `job`, with a verified validation and a one-file patch."""
    return Publisher(github_config(settings), store).publish(workspace, job, run, summary, VERIFIED, PATCH)


def human_commit(
    clone: Clone, branch: str, content: str, identity: str = "Pat <pat@example.com>", full_name: str = "acme/app"
) -> None:
    """A person's commit of app.py on top of `branch`, as `identity`, pushed with git as they would."""
    name, email = identity.rstrip(">").split(" <")
    human = clone(full_name, {}, "human").path
    who = {
        f"GIT_{role}_{part}": value
        for role in ("AUTHOR", "COMMITTER")
        for part, value in (("NAME", name), ("EMAIL", email))
    }
    subprocess.run(["git", "fetch", "-q", "origin", branch], cwd=human, check=True)
    subprocess.run(["git", "checkout", "-q", "FETCH_HEAD"], cwd=human, check=True)
    (human / "app.py").write_text(content)
    subprocess.run(["git", "commit", "-qam", "fixup"], cwd=human, check=True, env={**os.environ, **who})
    subprocess.run(["git", "push", "-q", "origin", f"HEAD:refs/heads/{branch}"], cwd=human, check=True)
