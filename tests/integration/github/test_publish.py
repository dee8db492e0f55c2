"""Publishing a run on a real clone to the fake GitHub: one branch, one pull request, retries safe."""

from __future__ import annotations

import subprocess

import pytest

from core.models import OutputMode, PullRequest
from core.settings import Settings
from server.runtime.worker_config import github_config
from tests.fakes.github_server import ARCHIVED_PUSH, GH006, FakeGitHub, FakePull
from tests.integration.github.publishing import Clone, human_commit, make_job, publish
from worker.github.gate import check_repository
from worker.github.publish import PublishError


def git_log(fake: FakeGitHub, branch: str, fmt: str) -> str:
    bare = fake.repos["acme/app"].bare
    return subprocess.run(
        ["git", "log", "-1", f"--format={fmt}", branch], cwd=bare, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_publish_pushes_the_branch_and_opens_one_pull_request(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a clone with the agent's change in its working tree
    job, run = make_job(store)
    workspace = clone_of("acme/app", {"app.py": "print('hello')\n"})
    # WHEN published
    pull = publish(github_settings, store, workspace, job, run)
    # THEN the branch on the remote holds the change, committed by the configured author
    branch = f"cody-batch/{job.id}"
    assert pull == PullRequest(url="https://github.com/acme/app/pull/1", number=1, branch=branch, draft=False)
    assert app.show("acme/app", branch, "app.py") == "print('hello')\n"
    assert app.show("acme/app", "main", "app.py") == "print('hi')\n"
    assert git_log(app, branch, "%an <%ae>|%cn <%ce>|%s") == (
        "Cody Batch <cody-batch@users.noreply.github.com>|Cody Batch <cody-batch@users.noreply.github.com>"
        "|Say hello politely"
    )
    assert f"Cody-Batch-Job: {job.id}" in git_log(app, branch, "%B")
    # AND one pull request against the default branch carries title and body
    [opened] = app.pulls
    assert (opened.head, opened.base, opened.title, opened.draft) == (branch, "main", "Say hello politely", False)
    for part in ("Greeting changed.", "> Change the greeting to 'hello'.", "| `app.py` | modified | 1 | 1 |"):
        assert part in opened.body
    assert "**VERIFIED**" in opened.body
    assert f"(https://cody.example.com/jobs/{job.id})" in opened.body


def test_draft_output_opens_a_draft(github_settings: Settings, store, app: FakeGitHub, clone_of: Clone) -> None:
    job, run = make_job(store, OutputMode.DRAFT_PULL_REQUEST)
    pull = publish(github_settings, store, clone_of("acme/app", {"new.txt": "x\n"}), job, run)
    assert pull.draft and app.pulls[0].draft


def test_a_retry_updates_the_branch_and_reuses_the_pull_request(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a published first attempt
    job, run = make_job(store)
    first = publish(github_settings, store, clone_of("acme/app", {"app.py": "print('hello')\n"}, "one"), job, run)
    # WHEN a second attempt, from a fresh clone, publishes another change
    retry = run.model_copy(update={"attempt": 2})
    second = publish(github_settings, store, clone_of("acme/app", {"app.py": "print('hello!')\n"}, "two"), job, retry)
    # THEN the same pull request now shows the new attempt, and no second one was opened
    assert second == first
    assert len(app.pulls) == 1 and len(app.requests_to("POST", "/pulls$")) == 1
    assert app.show("acme/app", first.branch, "app.py") == "print('hello!')\n"
    assert "(attempt 2)" in app.pulls[0].body


def test_an_existing_pull_request_reported_by_github_is_reused(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a pull request that the lookup misses (opened concurrently), so creation answers 422
    job, run = make_job(store)
    publish(github_settings, store, clone_of("acme/app", {"app.py": "1\n"}, "one"), job, run)
    app.fail("GET", "/pulls$", 200, body=[])
    # WHEN published again
    pull = publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}, "two"), job, run)
    # THEN GitHub's "already exists" resolves to the existing pull request
    assert pull.number == 1 and len(app.pulls) == 1
    assert len(app.requests_to("POST", "/pulls$")) == 2


def test_a_push_rejected_once_is_retried(github_settings: Settings, store, app: FakeGitHub, clone_of: Clone) -> None:
    # GIVEN a remote that rejects the next push
    app.fail_next_push("acme/app")
    job, run = make_job(store)
    # WHEN published / THEN the second push lands and the pull request opens
    pull = publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    assert app.branch_head("acme/app", pull.branch) is not None
    assert (app.repos["acme/app"].bare / "fail-pushes").read_text().strip() == "0"


def test_a_push_that_keeps_failing_is_a_clear_error(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    app.fail_next_push("acme/app", times=5)
    job, run = make_job(store)
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    assert caught.value.kind == "PUSH_FAILED" and "cody-batch/" in caught.value.message
    assert app.pulls == []


@pytest.mark.parametrize("author", ["Cody Batch <cody-batch@users.noreply.github.com>", "Pat Person <pat@example.com>"])
def test_a_branch_with_someone_elses_commits_is_not_overwritten(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone, author: str
) -> None:
    # GIVEN commits made as the default author, or as a person's own identity (CODY_BATCH_GIT_AUTHOR)
    settings = github_settings.model_copy(update={"git_author": author})
    # AND the job's branch, to which that person pushed a commit of their own
    job, run = make_job(store)
    publish(settings, store, clone_of("acme/app", {"app.py": "1\n"}, "one"), job, run)
    branch = f"cody-batch/{job.id}"
    human_commit(clone_of, branch, "human\n", "Pat Person <pat@example.com>")
    # WHEN a retry publishes / THEN it refuses, and the person's commit stays
    with pytest.raises(PublishError) as caught:
        publish(settings, store, clone_of("acme/app", {"app.py": "2\n"}, "two"), job, run)
    assert caught.value.kind == "BRANCH_MODIFIED" and branch in caught.value.message
    assert app.show("acme/app", branch, "app.py") == "human\n"


def test_a_branch_that_existed_before_the_run_is_not_overwritten(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a branch of the job's name that this run never pushed, its head committed as Cody Batch
    job, run = make_job(store)
    branch = f"cody-batch/{job.id}"
    human_commit(clone_of, "main", "theirs\n", "Cody Batch <cody-batch@users.noreply.github.com>")
    subprocess.run(["git", "branch", branch, "main"], cwd=app.repos["acme/app"].bare, check=True)
    # WHEN published / THEN it is refused: only a commit this run pushed may be replaced
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}, "two"), job, run)
    assert caught.value.kind == "BRANCH_MODIFIED"
    assert app.show("acme/app", branch, "app.py") == "theirs\n"


@pytest.mark.parametrize(
    ("message", "kind", "words"),
    [
        (GH006, "PUSH_FAILED", "GH006: Protected branch update failed for refs/heads/cody-batch/"),
        (ARCHIVED_PUSH, "REPOSITORY_ARCHIVED", "archived so it is read-only"),
        ("error: Permission to acme/app.git denied to cody-bot.", "NO_PUSH_PERMISSION", "denied to cody-bot"),
    ],
)
def test_a_push_the_remote_refuses_keeps_its_reason_and_is_tried_once(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone, message: str, kind: str, words: str
) -> None:
    # GIVEN a remote that refuses pushes, saying why (a protected branch, an archived repository, no permission)
    job, run = make_job(store)
    app.reject_pushes("acme/app", message.format(branch=f"cody-batch/{job.id}"))
    # WHEN published
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    # THEN the error keeps GitHub's reason, the refusal was not pushed against twice, and no pull request opened
    assert caught.value.kind == kind and words in caught.value.message
    assert app.push_attempts("acme/app") == 1
    assert app.pulls == []


@pytest.mark.parametrize(
    ("change", "kind"), [({"archived": True}, "REPOSITORY_ARCHIVED"), ({"push": False}, "NO_PUSH_PERMISSION")]
)
def test_archived_state_and_permission_are_checked_again_at_publish(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone, change: dict, kind: str
) -> None:
    # GIVEN the gate passed (GitHub's answer cached), then the repository was archived or write access lost
    job, run = make_job(store)
    check_repository(github_config(github_settings), store, run.location)
    for key, value in change.items():
        setattr(app.repos["acme/app"], key, value)
    # WHEN published within the cache's lifetime
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    # THEN the fresh answer names the reason, and nothing was pushed
    assert caught.value.kind == kind
    assert app.branch_head("acme/app", f"cody-batch/{job.id}") is None and app.pulls == []


def test_nothing_to_commit_is_refused(github_settings: Settings, store, app: FakeGitHub, clone_of: Clone) -> None:
    job, run = make_job(store)
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {}), job, run)
    assert caught.value.kind == "NO_CHANGES" and app.pulls == []


def test_a_gated_repository_is_refused_before_pushing(
    github_settings: Settings, store, fake_github: FakeGitHub, clone_of: Clone
) -> None:
    fake_github.add_repo("acme/app", {"app.py": "x\n"}, push=False)
    job, run = make_job(store)
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "y\n"}), job, run)
    assert caught.value.kind == "NO_PUSH_PERMISSION"
    assert fake_github.branch_head("acme/app", f"cody-batch/{job.id}") is None


def test_a_draft_where_the_plan_has_no_drafts_opens_a_ready_pull_request(
    github_settings: Settings, store, fake_github: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a repository whose plan refuses draft pull requests (422, GitHub's wording)
    fake_github.add_repo("acme/private", {"app.py": "1\n"}, private=True, drafts=False)
    job, run = make_job(store, OutputMode.DRAFT_PULL_REQUEST, "github.com/acme/private")
    # WHEN a draft is published
    pull = publish(github_settings, store, clone_of("acme/private", {"app.py": "2\n"}), job, run)
    # THEN the draft was asked for, refused, and a ready pull request opened instead
    posts = fake_github.requests_to("POST", "/pulls$")
    assert [request.body["draft"] for request in posts] == [True, False]
    assert not pull.draft and len(fake_github.pulls) == 1


def test_the_pull_request_lookup_names_the_owner_as_github_spells_it(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN another open pull request, and a run whose location spells the owner differently
    other = FakePull(number=1, repo="acme/app", head="main", base="main", title="x", body="", draft=False)
    app.pulls.append(other)
    job, run = make_job(store, location="github.com/ACME/app")
    # WHEN published
    pull = publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    # THEN the lookup used "owner:branch" with GitHub's spelling, and a new pull request was opened
    assert app.requests_to("GET", "/pulls$")[0].query["head"] == f"acme:cody-batch/{job.id}"
    assert pull.number == 2 and other.title == "x"


def test_a_listing_that_ignored_the_head_filter_never_yields_another_pull_request(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN GitHub answering the lookup with every pull request, as it does when it ignores `head`
    other = FakePull(number=1, repo="acme/app", head="feature", base="main", title="theirs", body="", draft=False)
    app.pulls.append(other)
    app.fail("GET", "/pulls$", 200, body=[app.pull_json(other)], times=2)
    job, run = make_job(store)
    # WHEN published
    pull = publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    # THEN someone else's pull request is left alone and ours is opened
    assert pull.number == 2 and other.title == "theirs" and other.head == "feature"
