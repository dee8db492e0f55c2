"""Rate limits and flaky answers from GitHub: honoured, retried a bounded number of times, then clear errors."""

from __future__ import annotations

import time

import pytest

from core.settings import Settings
from server.runtime.worker_config import github_config
from tests.fakes.github_server import PRIMARY_RATE_LIMIT, SECONDARY_RATE_LIMIT, FakeGitHub
from worker.github.errors import PublishError
from worker.github.gate import check_repository

REPO = r"^/repos/acme/app$"


@pytest.fixture
def app(fake_github: FakeGitHub) -> FakeGitHub:
    fake_github.add_repo("acme/app")
    return fake_github


def test_secondary_rate_limit_with_retry_after_is_waited_out(github_settings: Settings, store, app: FakeGitHub) -> None:
    # GIVEN GitHub answers the first read with a secondary rate limit and Retry-After: 1
    app.fail_secondary_rate_limit("GET", REPO, retry_after=1)
    asked = time.time()
    # WHEN the repository is gated / THEN the read is retried and succeeds
    assert check_repository(github_config(github_settings), store, "github.com/acme/app").default_branch == "main"
    answered = time.time()
    assert len(app.requests_to("GET", REPO)) == 2
    # AND the retry waited the second GitHub asked for (a lower bound: the limit was waited out, not hammered)
    assert answered - asked >= 1.0


def test_secondary_rate_limit_without_retry_after_backs_off(github_settings: Settings, store, app: FakeGitHub) -> None:
    app.fail("GET", REPO, 403, SECONDARY_RATE_LIMIT)
    settings = github_settings.model_copy(update={"github_max_wait": 1.0})
    assert check_repository(github_config(settings), store, "github.com/acme/app").full_name == "acme/app"
    assert len(app.requests_to("GET", REPO)) == 2


def test_a_wait_longer_than_allowed_fails_at_once(github_settings: Settings, store, app: FakeGitHub) -> None:
    # GIVEN a Retry-After of an hour, and a primary limit resetting in an hour
    app.fail_secondary_rate_limit("GET", REPO, retry_after=3600)
    reset = str(int(time.time()) + 3600)
    app.fail("GET", REPO, 403, PRIMARY_RATE_LIMIT, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset})
    for _ in range(2):
        # WHEN gated / THEN the run fails as rate limited instead of sleeping for an hour
        with pytest.raises(PublishError) as caught:
            check_repository(github_config(github_settings), store, "github.com/acme/app")
        assert caught.value.kind == "RATE_LIMITED"
    assert len(app.requests_to("GET", REPO)) == 2


def test_primary_rate_limit_waits_for_the_reset(github_settings: Settings, store, app: FakeGitHub) -> None:
    # GIVEN a primary rate limit that resets in two seconds (the fake's reset time, in epoch seconds)
    reset = int(time.time()) + 2
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    app.fail("GET", REPO, 403, PRIMARY_RATE_LIMIT, headers=headers)
    # WHEN gated / THEN it is retried and succeeds
    assert check_repository(github_config(github_settings), store, "github.com/acme/app").full_name == "acme/app"
    answered = time.time()
    assert len(app.requests_to("GET", REPO)) == 2
    # AND only once the reset time had come: the answer arrived no earlier than the reset
    assert answered >= reset


def test_server_errors_are_retried_then_reported(github_settings: Settings, store, app: FakeGitHub) -> None:
    # GIVEN one 502: retried and fine
    app.fail("GET", REPO, 502, "Bad Gateway")
    assert (
        check_repository(github_config(github_settings), store, "github.com/acme/app", needs_push=False).full_name
        == "acme/app"
    )
    # GIVEN GitHub keeps failing: a bounded number of tries, then a clear error
    fresh = github_settings.model_copy(update={"metadata_ttl": 0})
    app.fail("GET", REPO, 503, "Unavailable", times=100)
    before = len(app.requests_to("GET", REPO))
    with pytest.raises(PublishError) as caught:
        check_repository(github_config(fresh), store, "github.com/acme/app")
    assert caught.value.kind == "GITHUB_UNAVAILABLE"
    assert len(app.requests_to("GET", REPO)) - before == 4


def test_a_forbidden_answer_that_is_not_a_rate_limit_is_not_retried(
    github_settings: Settings, store, app: FakeGitHub
) -> None:
    app.fail("GET", REPO, 403, "Resource not accessible by integration")
    with pytest.raises(PublishError) as caught:
        check_repository(github_config(github_settings), store, "github.com/acme/app")
    assert caught.value.kind == "GITHUB_ERROR" and "not accessible" in caught.value.message
    assert len(app.requests_to("GET", REPO)) == 1


def test_a_secondary_rate_limit_answered_with_429_is_reported_as_a_rate_limit(
    github_settings: Settings, store, app: FakeGitHub
) -> None:
    # GIVEN GitHub keeps answering 429 for a secondary rate limit, with Retry-After: 0 (GitHub may use 403 or 429)
    app.fail("GET", REPO, 429, SECONDARY_RATE_LIMIT, headers={"Retry-After": "0"}, times=100)
    # WHEN gated / THEN after the bounded retries the error says rate limit, not "GitHub did not answer"
    with pytest.raises(PublishError) as caught:
        check_repository(github_config(github_settings), store, "github.com/acme/app")
    assert caught.value.kind == "RATE_LIMITED"
    assert len(app.requests_to("GET", REPO)) == 4
