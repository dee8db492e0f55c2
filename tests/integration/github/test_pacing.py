"""One pace per token for every run: content-creating requests a second apart, and one shared backoff window."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import pytest

from core.models import Job, PullRequest, RepositoryRun
from core.settings import Settings
from server.runtime.worker_config import github_config
from tests.fakes.github_server import FakeGitHub
from tests.integration.github.publishing import Clone, make_job, publish
from tests.integration.worker.conftest import wait_for
from worker.github.errors import PublishError
from worker.github.gate import gate_run
from worker.workspace import Workspace

NAMES = ("acme/a", "acme/b", "acme/c")


@pytest.fixture
def paced(github_settings: Settings) -> Settings:
    """GitHub's guidance: a second between content-creating requests."""
    return github_settings.model_copy(update={"github_write_interval": 1.0})


def ready_runs(store, fake: FakeGitHub, clone_of: Clone) -> list[tuple[Job, RepositoryRun, Workspace]]:
    """A stored job and a changed clone for each of three repositories."""
    out = []
    for name in NAMES:
        fake.add_repo(name, {"app.py": "1\n"})
        job, run = make_job(store, location=f"github.com/{name}")
        out.append((job, run, clone_of(name, {"app.py": "2\n"}, name.replace("/", "-"))))
    return out


def in_thread(work: Callable[[], PullRequest]) -> threading.Thread:
    thread = threading.Thread(target=work)
    thread.start()
    return thread


def test_content_creating_requests_of_all_runs_are_a_second_apart(
    paced: Settings, store, fake_github: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN three runs using one token, each with its own client and its own handle on the pace
    runs = ready_runs(store, fake_github, clone_of)
    # WHEN they publish at the same time
    threads = [in_thread(lambda r=r: publish(paced, store, r[2], r[0], r[1])) for r in runs]
    for thread in threads:
        thread.join()
    # THEN every pull request opened, and no two creating requests reached GitHub within a second
    assert sorted(p.repo for p in fake_github.pulls) == list(NAMES)
    times = sorted(r.at for r in fake_github.requests if r.method in {"POST", "PATCH"})
    assert len(times) == 3
    assert all(later - earlier >= 1.0 for earlier, later in itertools.pairwise(times))


def test_a_backoff_github_asks_of_one_run_holds_every_run(
    paced: Settings, store, fake_github: FakeGitHub, clone_of: Clone
) -> None:
    # GIVEN GitHub answers run A's pull request with a secondary rate limit: Retry-After 2 s
    (job_a, run_a, work_a), (job_b, run_b, work_b), _ = ready_runs(store, fake_github, clone_of)
    fake_github.fail_secondary_rate_limit("POST", "^/repos/acme/a/pulls$", retry_after=2)
    first = in_thread(lambda: publish(paced, store, work_a, job_a, run_a))
    wait_for(lambda: bool(fake_github.requests_to("POST", "^/repos/acme/a/pulls$")))
    limited_at = fake_github.requests_to("POST", "^/repos/acme/a/pulls$")[0].at
    # WHEN run B publishes while that window is open
    publish(paced, store, work_b, job_b, run_b)
    first.join()
    # THEN B's request waited the window out, A retried after it, and both pull requests opened
    [b_post] = fake_github.requests_to("POST", "^/repos/acme/b/pulls$")
    a_posts = fake_github.requests_to("POST", "^/repos/acme/a/pulls$")
    assert b_post.at >= limited_at + 2 and len(a_posts) == 2 and a_posts[1].at >= limited_at + 2
    assert abs(b_post.at - a_posts[1].at) >= 1.0
    assert sorted(p.repo for p in fake_github.pulls) == ["acme/a", "acme/b"]


def test_a_window_longer_than_the_wait_allowed_fails_other_runs_without_asking_github(
    github_settings: Settings, store, fake_github: FakeGitHub
) -> None:
    # GIVEN run A was told to come back in an hour
    for name in NAMES[:2]:
        fake_github.add_repo(name)
    (_, run_a), (_, run_b) = (make_job(store, location=f"github.com/{name}") for name in NAMES[:2])
    fake_github.fail_secondary_rate_limit("GET", "^/repos/acme/a$", retry_after=3600)
    with pytest.raises(PublishError) as limited:
        gate_run(github_config(github_settings), store, run_a)
    assert limited.value.kind == "RATE_LIMITED"
    asked = len(fake_github.requests)
    # WHEN run B is gated / THEN it fails as rate limited at once, and GitHub was not asked again
    with pytest.raises(PublishError) as caught:
        gate_run(github_config(github_settings), store, run_b)
    assert caught.value.kind == "RATE_LIMITED" and "every run using this token" in caught.value.message
    assert len(fake_github.requests) == asked
