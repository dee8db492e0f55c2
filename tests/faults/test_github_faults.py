"""GitHub faults while a run publishes, through PyGithub and git against the fake GitHub: each run ends
with exactly one pull request, or with a clear error after which a retry opens exactly one, without
asking Claude again."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.errors import RunErrorKind
from core.models import OutputMode, RepositoryRun, RunStatus
from core.services.jobs import retry_runs
from core.settings import Settings
from server.runtime.worker_command import worker_ports
from server.runtime.worker_config import github_access
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.dispatcher import RecordingDispatcher
from tests.fakes.github_server import FakeGitHub
from tests.integration.worker.conftest import greeting_edit, run_all, submit, wait_for
from worker.github.client import github_pace

REPO = "acme/app"
PULLS = f"^/repos/{REPO}/pulls$"

Publish = Callable[..., RepositoryRun]


@pytest.fixture
def publish_run(
    github_model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, fake_github: FakeGitHub
) -> Publish:
    """Store a pull-request job over acme/app and work its run (Claude changes the greeting); the run as stored."""
    fake_github.add_repo(REPO, {"app.py": "print('hi')\n"})
    job = submit(github_model_settings, store, [REPO], output=OutputMode.PULL_REQUEST)  # type: ignore[list-item]

    def work(settings: Settings = github_model_settings) -> RepositoryRun:
        fake_model.script(greeting_edit())
        [run] = run_all(settings, store, job, worker_ports(settings, store))
        return run

    return work


def retried(settings: Settings, store: SqliteStore, run: RepositoryRun) -> RepositoryRun:
    """The run after a user's retry (a new attempt), worked again with no model turn scripted."""
    retry_runs(store, RecordingDispatcher(), run.job_id, [run.id])
    job = store.get_job(run.job_id)
    assert job is not None
    [again] = run_all(settings, store, job, worker_ports(settings, store))
    return again


@pytest.fixture
def retry_opens_one(
    github_model_settings: Settings, store: SqliteStore, fake_github: FakeGitHub, fake_model: FakeAnthropic
) -> Callable[..., None]:
    """Check that a user's retry of a failed run (on `settings`) opens exactly one pull request, Claude not asked."""

    def check(failed: RepositoryRun, settings: Settings = github_model_settings) -> None:
        asked = len(fake_model.requests)
        assert_one_pull_request(fake_github, retried(settings, store, failed))
        assert len(fake_model.requests) == asked

    return check


def assert_one_pull_request(fake: FakeGitHub, run: RepositoryRun) -> None:
    """The run succeeded with the one pull request of its branch, which holds Claude's change."""
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert run.pull_request is not None
    assert [(p.repo, p.number) for p in fake.pulls] == [(REPO, run.pull_request.number)]
    assert fake.show(REPO, run.pull_request.branch, "app.py") == "print('hello')\n"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", f"^/repos/{REPO}$"), ("GET", PULLS), ("POST", PULLS)],
    ids=["repository", "pull request lookup", "pull request creation"],
)
def test_a_secondary_rate_limit_is_waited_out_and_one_pull_request_opens(
    publish_run: Publish, fake_github: FakeGitHub, method: str, path: str
) -> None:
    # GIVEN GitHub answers one request of publishing with 403 secondary rate limit, Retry-After 1 s
    fake_github.fail_secondary_rate_limit(method, path, retry_after=1)
    # WHEN the run is worked
    run = publish_run()
    # THEN the request was sent again after the wait, and exactly one pull request opened
    assert_one_pull_request(fake_github, run)
    assert len(fake_github.requests_to("POST", PULLS)) == 1 + (method == "POST")


def _rate_limited_at_publishing(publish: Publish, settings: Settings, fake_github: FakeGitHub) -> RepositoryRun:
    """Work the run on `settings`, and check it failed as RATE_LIMITED at publishing, its branch pushed, no PR."""
    failed = publish(settings)
    assert failed.status is RunStatus.FAILED and failed.error is not None and failed.step == "publish"
    assert failed.error.kind is RunErrorKind.RATE_LIMITED and "rate limit" in failed.error.message
    assert fake_github.pulls == []
    return failed


def test_a_secondary_rate_limit_longer_than_the_wait_fails_clearly_and_a_retry_within_it_sends_nothing(
    publish_run: Publish, github_model_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN GitHub asks for a pause far longer than the runs may wait (CODY_BATCH_GITHUB_MAX_WAIT) when the PR
    # is opened: an hour, so the retry below comes within it however slow the machine is
    settings = github_model_settings.model_copy(update={"github_max_wait": 1.0})
    fake_github.fail_secondary_rate_limit("POST", PULLS, retry_after=3600)
    # WHEN the run is worked THEN it fails as RATE_LIMITED at publishing, its branch pushed, no pull request
    failed = _rate_limited_at_publishing(publish_run, settings, fake_github)
    # AND a retry within the pause fails the same way without sending GitHub anything
    sent = len(fake_github.requests)
    early = retried(settings, store, failed)
    assert early.status is RunStatus.FAILED and early.error is not None
    assert early.error.kind is RunErrorKind.RATE_LIMITED and len(fake_github.requests) == sent


def test_a_retry_once_a_secondary_rate_limit_can_be_waited_out_opens_one(
    publish_run: Publish,
    retry_opens_one: Callable[..., None],
    github_model_settings: Settings,
    fake_github: FakeGitHub,
) -> None:
    # GIVEN a run failed as RATE_LIMITED: GitHub asked for a pause longer than the runs may wait
    settings = github_model_settings.model_copy(update={"github_max_wait": 1.0})
    fake_github.fail_secondary_rate_limit("POST", PULLS, retry_after=3)
    failed = _rate_limited_at_publishing(publish_run, settings, fake_github)
    # WHEN the pause left is short enough to wait out THEN a retry opens exactly one pull request, Claude not
    # asked again
    pace = github_pace(github_access(settings))
    wait_for(lambda: pace.pacer.reserve(pace.key, 0).backoff <= settings.github_max_wait)
    retry_opens_one(failed, settings)


def test_a_422_on_pull_request_creation_fails_with_githubs_words_and_a_retry_opens_one(
    publish_run: Publish, retry_opens_one: Callable[..., None], fake_github: FakeGitHub
) -> None:
    # GIVEN GitHub refuses the pull request once as unprocessable (not as "already exists")
    body = {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom", "message": "x"}]}
    fake_github.fail("POST", PULLS, 422, body=body)
    # WHEN the run is worked
    failed = publish_run()
    # THEN it fails clearly (a 422 is not retried: the same request would be refused again)
    assert failed.status is RunStatus.FAILED and failed.error is not None and failed.step == "publish"
    assert failed.error.kind is RunErrorKind.GITHUB_ERROR
    assert "GitHub answered 422: Validation Failed (x)" in failed.error.message
    assert fake_github.pulls == [] and len(fake_github.requests_to("POST", PULLS)) == 1
    # AND a retry opens exactly one pull request, Claude not asked again
    retry_opens_one(failed)


def test_a_5xx_after_github_opened_the_pull_request_still_leaves_exactly_one(
    publish_run: Publish, fake_github: FakeGitHub
) -> None:
    # GIVEN GitHub opens the pull request but its answer is lost to a 502 (a gateway timing out)
    fake_github.fail("POST", PULLS, 502, "Bad Gateway", after=True)
    # WHEN the run is worked
    run = publish_run()
    # THEN the repeated creation is told "already exists" and the run takes the one that was opened
    assert_one_pull_request(fake_github, run)
    assert len(fake_github.requests_to("POST", PULLS)) == 2


def test_a_push_rejected_with_a_5xx_is_pushed_again_and_one_pull_request_opens(
    publish_run: Publish, fake_github: FakeGitHub
) -> None:
    # GIVEN the remote rejects the first push with 503
    fake_github.fail_next_push(REPO)
    # WHEN the run is worked / THEN the second push lands and exactly one pull request opens
    assert_one_pull_request(fake_github, publish_run())


def test_a_push_that_keeps_failing_fails_clearly_and_a_retry_opens_one(
    publish_run: Publish, retry_opens_one: Callable[..., None], fake_github: FakeGitHub
) -> None:
    # GIVEN the remote rejects every push of the first attempt with 503
    fake_github.fail_next_push(REPO, times=5)
    # WHEN the run is worked
    failed = publish_run()
    # THEN it fails as PUSH_FAILED naming the branch, and nothing was opened
    assert failed.status is RunStatus.FAILED and failed.error is not None and failed.step == "publish"
    assert failed.error.kind == "PUSH_FAILED" and "cody-batch/" in failed.error.message
    assert fake_github.pulls == []
    # AND once the remote is back, a retry pushes and opens exactly one pull request, Claude not asked again
    (fake_github.repos[REPO].bare / "fail-pushes").write_text("0")
    retry_opens_one(failed)
