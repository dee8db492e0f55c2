"""Pull request state read from the fake GitHub through real PyGithub: refresh, conditional requests, events, tally."""

from __future__ import annotations

from core.models import ChecksState, EventKind, PullRequestState, ReviewDecision
from core.services.pull_requests import refresh_pull_requests, tally
from core.settings import Settings
from server.runtime.worker_config import github_access
from store.sqlite import SqliteStore
from tests.fakes.github_server import FakeGitHub
from tests.integration.github.pull_request_jobs import pull_request_job
from worker.github.pull_status import github_pull_requests


def _pull_requests(store: SqliteStore, job_id: str) -> dict[str, object]:
    return {run.location.rsplit("/", 1)[1]: run.pull_request for run in store.get_runs([job_id])[job_id]}


def test_refresh_stores_state_checks_and_reviews_and_writes_an_event_per_change(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a job with three open pull requests: one merged, one closed, one approved with failing checks
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two", "acme/three"])
    fake_github.merge_pull(1)
    fake_github.close_pull(2)
    fake_github.add_review(3, "alice", "APPROVED")
    fake_github.add_check_run(3, "ci", "completed", "failure")
    fake_github.set_status(3, "lint", "success")
    host = github_pull_requests(github_access(github_settings))
    # WHEN the job's pull requests are refreshed
    refresh_pull_requests(store, host, job.id)
    # THEN each run's pull request carries GitHub's state, checks and review decision
    prs = _pull_requests(store, job.id)
    one, two, three = prs["one"], prs["two"], prs["three"]
    assert one.status.state is PullRequestState.MERGED and one.synced_at is not None  # type: ignore[attr-defined]
    assert two.status.state is PullRequestState.CLOSED  # type: ignore[attr-defined]
    assert three.status.state is PullRequestState.OPEN  # type: ignore[attr-defined]
    assert three.status.checks is ChecksState.FAILURE  # type: ignore[attr-defined]
    assert three.status.review_decision is ReviewDecision.APPROVED  # type: ignore[attr-defined]
    assert three.status.mergeable is True  # type: ignore[attr-defined]
    # AND the job's tally counts them
    counts = tally(store.get_runs([job.id])[job.id])
    assert (counts.open, counts.merged, counts.closed, counts.checks_failing) == (1, 1, 1, 1)
    # AND every change is a PULL_REQUEST event a subscriber sees
    events = [e for e in store.list_events(job.id) if e.kind is EventKind.PULL_REQUEST]
    assert sorted(e.new_value or "" for e in events) == [
        "state=CLOSED checks=NONE review=NONE",
        "state=MERGED checks=NONE review=NONE",
        "state=OPEN checks=FAILURE review=APPROVED",
    ]
    assert {e.old_value for e in events} == {"state=OPEN"}


def test_a_second_refresh_asks_conditionally_and_an_unchanged_pull_request_writes_no_event(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a job whose two pull requests were refreshed once
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two"])
    fake_github.add_check_run(1, "ci", "in_progress")
    host = github_pull_requests(github_access(github_settings))
    refresh_pull_requests(store, host, job.id)
    before = len(store.list_events(job.id))
    fake_github.requests.clear()
    # WHEN only the first one's check finishes and the job is refreshed again
    fake_github.add_check_run(1, "ci", "completed", "success")
    refresh_pull_requests(store, host, job.id)
    # THEN every read sent the last ETag, and GitHub answered all but the changed check runs with 304
    gets = fake_github.requests_to("GET", "^/repos/")
    assert len(gets) == 8 and all("If-None-Match" in r.headers for r in gets)
    assert fake_github.not_modified == 7
    # AND the one change is stored and is the only new event
    prs = _pull_requests(store, job.id)
    assert prs["one"].status.checks is ChecksState.SUCCESS  # type: ignore[attr-defined]
    new = store.list_events(job.id, before)
    assert [(e.kind, e.new_value) for e in new] == [(EventKind.PULL_REQUEST, "state=OPEN checks=SUCCESS review=NONE")]


def test_a_pull_request_github_cannot_answer_for_keeps_its_state_and_the_others_are_stored(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN two pull requests, both merged, and GitHub failing the reads of the first
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two"])
    fake_github.merge_pull(1)
    fake_github.merge_pull(2)
    fake_github.fail("GET", "^/repos/acme/one/pulls/1$", 404, "Not Found")
    # WHEN refreshed
    refresh_pull_requests(store, github_pull_requests(github_access(github_settings)), job.id)
    # THEN the first keeps its state as opened, unsynced, and the second is merged
    prs = _pull_requests(store, job.id)
    assert prs["one"].status is None and prs["one"].synced_at is None  # type: ignore[attr-defined]
    assert prs["two"].state is PullRequestState.MERGED  # type: ignore[attr-defined]


def test_changes_requested_wins_over_an_approval_and_requested_reviewers_mean_review_required(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN one pull request approved by alice then changes requested by bob, and a draft with a reviewer requested
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two"])
    fake_github.add_review(1, "alice", "APPROVED")
    fake_github.add_review(1, "bob", "CHANGES_REQUESTED")
    fake_github.pull(2).requested_reviewers.append("carol")
    fake_github.pull(2).draft = True
    fake_github.set_status(2, "ci", "pending")
    # WHEN refreshed
    refresh_pull_requests(store, github_pull_requests(github_access(github_settings)), job.id)
    # THEN the decisions and states are GitHub's
    prs = _pull_requests(store, job.id)
    assert prs["one"].status.review_decision is ReviewDecision.CHANGES_REQUESTED  # type: ignore[attr-defined]
    assert prs["two"].status.review_decision is ReviewDecision.REVIEW_REQUIRED  # type: ignore[attr-defined]
    assert prs["two"].state is PullRequestState.DRAFT  # type: ignore[attr-defined]
    assert prs["two"].status.checks is ChecksState.PENDING  # type: ignore[attr-defined]
