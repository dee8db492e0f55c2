"""Publishing a run on a real clone to the fake GitHub: one branch, one pull request, retries safe."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import pytest

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
from core.settings import Settings
from tests.fakes.github_server import FakeGitHub, FakePull
from worker.github.publish import Publisher, PublishError
from worker.workspace import Workspace

Clone = Callable[..., Workspace]
PATCH = Patch(
    artifact_key="patches/x/1.diff",
    files=[PatchFile(path="app.py", change="MODIFIED", additions=1, deletions=1)],
    additions=1,
    deletions=1,
)
VERIFIED = Validation(verdict=Verdict.VERIFIED, checks=[ValidationCheck(name="pytest", status="PASSED")])


def make_job(output: OutputMode = OutputMode.PULL_REQUEST) -> tuple[Job, RepositoryRun]:
    job = Job(title="Say hello politely", prompt="Change the greeting to 'hello'.", model="m", output=output)
    return job, RepositoryRun(job_id=job.id, index=0, location="github.com/acme/app")


def publish(settings: Settings, store, workspace: Workspace, job: Job, run: RepositoryRun) -> PullRequest:
    return Publisher(settings, store).publish(workspace, job, run, "Greeting changed.", VERIFIED, PATCH)


@pytest.fixture
def app(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_repo("acme/app", {"app.py": "print('hi')\n", "README.md": "# app\n"})
    return fake_github


def git_log(fake: FakeGitHub, branch: str, fmt: str) -> str:
    bare = fake.repos["acme/app"].bare
    return subprocess.run(
        ["git", "log", "-1", f"--format={fmt}", branch], cwd=bare, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_publish_pushes_the_branch_and_opens_one_pull_request(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a clone with the agent's change in its working tree
    job, run = make_job()
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
    job, run = make_job(OutputMode.DRAFT_PULL_REQUEST)
    pull = publish(github_settings, store, clone_of("acme/app", {"new.txt": "x\n"}), job, run)
    assert pull.draft and app.pulls[0].draft


def test_a_retry_updates_the_branch_and_reuses_the_pull_request(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a published first attempt
    job, run = make_job()
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
    job, run = make_job()
    publish(github_settings, store, clone_of("acme/app", {"app.py": "1\n"}, "one"), job, run)
    app.fail("GET", "/pulls$", 200, body=[])
    # WHEN published again
    pull = publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}, "two"), job, run)
    # THEN GitHub's "already exists" resolves to the existing pull request
    assert pull.number == 1 and len(app.pulls) == 1
    assert len(app.requests_to("POST", "/pulls$")) == 2


def test_a_closed_pull_request_is_reopened_and_a_merged_one_refused(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    job, run = make_job()
    publish(github_settings, store, clone_of("acme/app", {"app.py": "1\n"}, "one"), job, run)
    app.pulls[0].state = "closed"
    # WHEN retried after a close / THEN the same pull request is open again
    assert publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}, "two"), job, run).number == 1
    assert app.pulls[0].state == "open" and len(app.pulls) == 1
    # WHEN retried after a merge / THEN it is refused before anything is pushed
    app.pulls[0].state, app.pulls[0].merged = "closed", True
    head = app.branch_head("acme/app", f"cody-batch/{job.id}")
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "3\n"}, "three"), job, run)
    assert caught.value.kind == "PULL_REQUEST_MERGED"
    assert app.branch_head("acme/app", f"cody-batch/{job.id}") == head


def test_a_push_rejected_once_is_retried(github_settings: Settings, store, app: FakeGitHub, clone_of: Clone) -> None:
    # GIVEN a remote that rejects the next push
    app.fail_next_push("acme/app")
    job, run = make_job()
    # WHEN published / THEN the second push lands and the pull request opens
    pull = publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    assert app.branch_head("acme/app", pull.branch) is not None
    assert (app.repos["acme/app"].bare / "fail-pushes").read_text().strip() == "0"


def test_a_push_that_keeps_failing_is_a_clear_error(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    app.fail_next_push("acme/app", times=5)
    job, run = make_job()
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    assert caught.value.kind == "PUSH_FAILED" and "cody-batch/" in caught.value.message
    assert app.pulls == []


def test_a_branch_with_someone_elses_commits_is_not_overwritten(
    github_settings: Settings, store, app: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN the job's branch, to which a person has pushed a commit of their own
    job, run = make_job()
    publish(github_settings, store, clone_of("acme/app", {"app.py": "1\n"}, "one"), job, run)
    human = clone_of("acme/app", {}, "human").path
    branch = f"cody-batch/{job.id}"
    subprocess.run(["git", "fetch", "-q", "origin", branch], cwd=human, check=True)
    subprocess.run(["git", "checkout", "-q", "FETCH_HEAD"], cwd=human, check=True)
    (human / "app.py").write_text("human\n")
    subprocess.run(["git", "commit", "-qam", "fixup"], cwd=human, check=True)
    subprocess.run(["git", "push", "-q", "origin", f"HEAD:refs/heads/{branch}"], cwd=human, check=True)
    # WHEN a retry publishes / THEN it refuses, and the person's commit stays
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}, "two"), job, run)
    assert caught.value.kind == "BRANCH_MODIFIED"
    assert app.show("acme/app", branch, "app.py") == "human\n"


def test_nothing_to_commit_is_refused(github_settings: Settings, store, app: FakeGitHub, clone_of: Clone) -> None:
    job, run = make_job()
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {}), job, run)
    assert caught.value.kind == "NO_CHANGES" and app.pulls == []


def test_a_gated_repository_is_refused_before_pushing(
    github_settings: Settings, store, fake_github: FakeGitHub, clone_of: Clone
) -> None:
    fake_github.add_repo("acme/app", {"app.py": "x\n"}, push=False)
    job, run = make_job()
    with pytest.raises(PublishError) as caught:
        publish(github_settings, store, clone_of("acme/app", {"app.py": "y\n"}), job, run)
    assert caught.value.kind == "NO_PUSH_PERMISSION"
    assert fake_github.branch_head("acme/app", f"cody-batch/{job.id}") is None


def test_a_draft_where_the_plan_has_no_drafts_opens_a_ready_pull_request(
    github_settings: Settings, store, fake_github: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN a repository whose plan refuses draft pull requests (422, GitHub's wording)
    fake_github.add_repo("acme/private", {"app.py": "1\n"}, private=True, drafts=False)
    job, run = make_job(OutputMode.DRAFT_PULL_REQUEST)
    run = run.model_copy(update={"location": "github.com/acme/private"})
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
    job, run = make_job()
    run = run.model_copy(update={"location": "github.com/ACME/app"})
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
    job, run = make_job()
    # WHEN published
    pull = publish(github_settings, store, clone_of("acme/app", {"app.py": "2\n"}), job, run)
    # THEN someone else's pull request is left alone and ours is opened
    assert pull.number == 2 and other.title == "theirs" and other.head == "feature"
