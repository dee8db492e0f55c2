"""The fake GitHub refuses what GitHub refuses, so a client that gets it wrong fails here too (real PyGithub)."""

from __future__ import annotations

import subprocess

import pytest
import requests
from github import Auth, Github, GithubException

from tests.fakes.github_fixtures import TOKEN
from tests.fakes.github_server import FakeGitHub


@pytest.fixture
def api(app: FakeGitHub) -> Github:
    return Github(auth=Auth.Token(TOKEN), base_url=app.url, retry=None)


def branch_off(app: FakeGitHub, branch: str, commits: int) -> None:
    """A branch of acme/app `commits` (empty) commits ahead of main."""
    bare = app.repos["acme/app"].bare

    def git(*args: str) -> str:
        who = ["-c", "user.name=a", "-c", "user.email=a@example.com"]
        return subprocess.run(["git", *who, *args], cwd=bare, capture_output=True, text=True, check=True).stdout.strip()

    head = git("rev-parse", "main")
    for n in range(commits):
        head = git("commit-tree", f"{head}^{{tree}}", "-p", head, "-m", f"c{n}")
    git("branch", "-f", branch, head)


@pytest.mark.parametrize("header", ["Basic dGVzdC10b2tlbg==", "test-token", "token wrong", "Bearer"])
def test_a_wrong_scheme_or_token_is_refused(app: FakeGitHub, header: str) -> None:
    answer = requests.get(f"{app.url}/repos/acme/app", headers={"Authorization": header}, timeout=10)
    assert answer.status_code == 401 and answer.json()["message"] == "Bad credentials"


@pytest.mark.parametrize("header", [f"token {TOKEN}", f"Bearer {TOKEN}"])
def test_both_token_schemes_github_takes_are_accepted(app: FakeGitHub, header: str) -> None:
    answer = requests.get(f"{app.url}/repos/acme/app", headers={"Authorization": header}, timeout=10)
    assert answer.status_code == 200 and answer.json()["permissions"]["push"] is True


@pytest.mark.parametrize(
    ("head", "commits", "title", "says"),
    [
        ("feature", 1, "", "missing_field"),
        ("nope", 0, "A title", "invalid"),
        ("feature", 0, "A title", "No commits between main and feature"),
    ],
)
def test_pull_request_creation_is_validated_as_github_does(
    api: Github, app: FakeGitHub, head: str, commits: int, title: str, says: str
) -> None:
    # GIVEN a branch with or without commits ahead of main (or none at all)
    if head != "nope":
        branch_off(app, head, commits)
    # WHEN a pull request is asked for without a title, from a missing head, or with nothing to merge
    with pytest.raises(GithubException) as caught:
        api.get_repo("acme/app").create_pull(base="main", head=head, title=title, body="")
    # THEN GitHub's 422 comes back and nothing is opened
    assert caught.value.status == 422 and says in str(caught.value.data)
    assert app.pulls == []


def test_an_unknown_state_is_refused(api: Github, app: FakeGitHub) -> None:
    branch_off(app, "feature", 1)
    pull = api.get_repo("acme/app").create_pull(base="main", head="feature", title="t", body="")
    with pytest.raises(GithubException) as caught:
        pull.edit(state="merged")
    assert caught.value.status == 422 and app.pulls[0].state == "open"
