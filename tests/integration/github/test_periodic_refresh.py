"""The periodic refresh: a served app picks up a merge on the fake GitHub without being asked; off with webhooks."""

from __future__ import annotations

from pydantic import SecretStr

from core.models import PullRequestState
from core.services.pull_requests import refresh_open_pull_requests
from core.settings import Settings
from server.runtime.pull_request_poller import refresh_interval
from server.runtime.worker_config import github_access
from server.web.app import create_app
from store.sqlite import SqliteStore
from tests.fakes.github_server import FakeGitHub
from tests.integration.cli.live_server import LiveServer
from tests.integration.github.conftest import pr_container
from tests.integration.github.pull_request_jobs import pull_request_job
from tests.integration.worker.conftest import wait_for
from worker.github.pull_status import github_pull_requests


def test_a_served_app_refreshes_open_pull_requests_on_its_own(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a server refreshing every 50 ms and a job whose pull request is then merged on GitHub
    settings = github_settings.model_copy(update={"pull_request_refresh_seconds": 0.05})
    job = pull_request_job(store, fake_github, ["acme/one"])
    server = LiveServer(create_app(pr_container(settings, store), spa_dir=None)).start()
    try:
        fake_github.merge_pull(1)
        # WHEN nobody asks THEN the stored pull request turns merged
        wait_for(lambda: store.get_runs([job.id])[job.id][0].pull_request.state is PullRequestState.MERGED)  # type: ignore[union-attr]
    finally:
        server.stop()


def test_merged_and_closed_pull_requests_are_not_read_again(
    github_settings: Settings, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN two jobs: one with a merged (already synced) pull request, one with an open one
    merged = pull_request_job(store, fake_github, ["acme/one"])
    fake_github.merge_pull(1)
    host = github_pull_requests(github_access(github_settings))
    refresh_open_pull_requests(store, host)
    pull_request_job(store, fake_github, ["acme/two"])
    fake_github.requests.clear()
    # WHEN the open ones are refreshed
    refreshed = refresh_open_pull_requests(store, host)
    # THEN only the open one was read
    assert refreshed == 1
    assert not fake_github.requests_to("GET", "^/repos/acme/one/") and fake_github.requests_to(
        "GET", "^/repos/acme/two/"
    )
    assert store.get_runs([merged.id])[merged.id][0].pull_request.state is PullRequestState.MERGED  # type: ignore[union-attr]


def test_the_periodic_refresh_is_off_with_webhooks_or_at_zero(github_settings: Settings) -> None:
    # GIVEN the default, a webhook secret, and 0 THEN only the default refreshes
    assert refresh_interval(github_settings) == 300
    assert refresh_interval(github_settings.model_copy(update={"github_webhook_secret": SecretStr("s")})) is None
    assert refresh_interval(github_settings.model_copy(update={"pull_request_refresh_seconds": 0})) is None
