"""Retries after a pull request was closed or merged on GitHub: left closed unless a retry asks to reopen."""

from __future__ import annotations

import logging
import subprocess

import pytest
from github import Auth, Github, GithubException

from core.models import Job, PullRequest, RepositoryRun
from core.ports import Store
from core.settings import Settings
from tests.fakes.github_fixtures import TOKEN
from tests.fakes.github_server import REOPEN_REFUSED, FakeGitHub
from tests.integration.github.publishing import Clone, make_job, publish
from worker.github.publish import PublishError


def published_then_closed(
    settings: Settings, store: Store, app: FakeGitHub, clone_of: Clone
) -> tuple[Job, RepositoryRun, PullRequest]:
    """A published pull request that a maintainer then closed on GitHub."""
    job, run = make_job(store)
    pull = publish(settings, store, clone_of("acme/app", {"app.py": "1\n"}, "one"), job, run)
    app.close_pull(pull.number)
    return job, run, pull


def retry_reopening(settings: Settings, store: Store, clone_of: Clone, job: Job, run: RepositoryRun) -> PullRequest:
    """A second attempt, allowed to reopen, publishing app.py = 2."""
    retry = run.model_copy(update={"attempt": 2, "reopen_pull_request": True})
    return publish(settings, store, clone_of("acme/app", {"app.py": "2\n"}, "two"), job, retry)


def test_github_refuses_to_reopen_a_pull_request_whose_head_was_force_pushed(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a published pull request, closed, and then its branch force-pushed (as the old retry did)
    *_, pull = published_then_closed(github_settings, store, app, clone_of)
    other = clone_of("acme/app", {"app.py": "2\n"}, "two").path
    subprocess.run(["git", "commit", "-qam", "another"], cwd=other, check=True)
    subprocess.run(["git", "push", "-qf", "origin", f"HEAD:refs/heads/{pull.branch}"], cwd=other, check=True)
    # WHEN it is reopened through the API / THEN GitHub's refusal comes back, and it stays closed
    api = Github(auth=Auth.Token("test-token"), base_url=app.url)
    with pytest.raises(GithubException) as caught:
        api.get_repo("acme/app").get_pull(pull.number).edit(state="open")
    assert caught.value.status == 422
    assert REOPEN_REFUSED.format(branch=pull.branch) in str(caught.value.data)
    assert app.pulls[0].state == "closed"


def test_a_pull_request_closed_on_github_is_left_closed_by_a_retry(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a published pull request that a maintainer closed
    job, run, pull = published_then_closed(github_settings, store, app, clone_of)
    head = app.branch_head("acme/app", pull.branch)
    # WHEN a retry publishes without asking to reopen
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}, "two"), job, run)
    # THEN it fails saying so, before pushing: the pull request stays closed, the branch as it was
    assert caught.value.kind == "PULL_REQUEST_CLOSED" and f"#{pull.number}" in caught.value.message
    assert app.pulls[0].state == "closed" and len(app.pulls) == 1
    assert app.branch_head("acme/app", pull.branch) == head


def test_a_retry_asked_to_reopen_reopens_before_it_pushes(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a closed pull request whose branch is unchanged
    job, run, pull = published_then_closed(github_settings, store, app, clone_of)
    # WHEN a retry that may reopen publishes a new attempt
    again = retry_reopening(github_settings, store, clone_of, job, run)
    # THEN the same pull request is open again and shows the new attempt
    assert again.number == pull.number and len(app.pulls) == 1
    assert app.pulls[0].state == "open" and "(attempt 2)" in app.pulls[0].body
    assert app.show("acme/app", pull.branch, "app.py") == "2\n"


def test_when_github_refuses_the_reopen_a_new_pull_request_links_the_old_one(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a closed pull request whose branch was deleted (GitHub will not reopen it)
    job, run, pull = published_then_closed(github_settings, store, app, clone_of)
    subprocess.run(
        ["git", "branch", "-D", pull.branch], cwd=app.repos["acme/app"].bare, check=True, capture_output=True
    )
    # WHEN a retry that may reopen publishes
    again = retry_reopening(github_settings, store, clone_of, job, run)
    # THEN a new pull request from the same branch links the closed one, which stays closed
    assert again.number == 2 and again.branch == pull.branch
    old, new = app.pulls
    assert old.state == "closed" and new.state == "open"
    assert f"Replaces #{pull.number}" in new.body
    assert app.show("acme/app", pull.branch, "app.py") == "2\n"


def test_a_merged_pull_request_is_refused_before_pushing(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    job, run, pull = published_then_closed(github_settings, store, app, clone_of)
    app.pulls[0].merged = True
    head = app.branch_head("acme/app", pull.branch)
    retry = run.model_copy(update={"reopen_pull_request": True})
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "3\n"}, "three"), job, retry)
    assert caught.value.kind == "PULL_REQUEST_MERGED"
    assert app.branch_head("acme/app", pull.branch) == head


def test_a_refusal_that_echoes_the_token_leaves_it_out_of_logs_and_the_new_pull_request(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN GitHub's refusal to reopen quotes the request's credentials back
    caplog.set_level(logging.DEBUG)
    job, run, pull = published_then_closed(github_settings, store, app, clone_of)
    app.fail("PATCH", f"/pulls/{pull.number}$", 422, f"Validation Failed for token {TOKEN}")
    # WHEN a retry that may reopen publishes / THEN a new pull request opens, and the token is nowhere
    again = retry_reopening(github_settings, store, clone_of, job, run)
    assert again.number == 2 and caplog.records
    assert TOKEN not in caplog.text and all(TOKEN not in p.body for p in app.pulls)
