"""`cody-batch prs` against a live server reading the fake GitHub."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from core.models import Job, OutputMode, RepositoryRun, RunStatus
from core.ports import Change
from core.settings import Settings
from server.cli.main import app
from server.web.app import create_app
from store.sqlite import SqliteStore
from tests.fakes.github_server import FakeGitHub
from tests.integration.cli.live_server import LiveServer
from tests.integration.github.conftest import pr_container
from tests.integration.github.pull_request_jobs import pull_request_job

runner = CliRunner()


@pytest.fixture
def url(github_settings: Settings, store: SqliteStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("COLUMNS", "250")
    server = LiveServer(create_app(pr_container(github_settings, store), spa_dir=None)).start()
    try:
        yield server.url
    finally:
        server.stop()


def test_prs_lists_refreshed_state_and_merges_with_a_result_each(
    url: str, store: SqliteStore, fake_github: FakeGitHub
) -> None:
    # GIVEN a job with two open pull requests, the second's repository requiring an approval
    job = pull_request_job(store, fake_github, ["acme/one", "acme/two"])
    fake_github.repos["acme/two"].required_approvals = 1
    fake_github.add_check_run(1, "ci", "completed", "failure")
    # WHEN listed with --refresh
    listed = runner.invoke(app, ["prs", job.id, "--refresh", "--url", url])
    # THEN the tally and each state show
    assert listed.exit_code == 0, listed.stderr
    assert "0 merged · 2 open · 0 draft · 0 closed · 1 failing checks" in listed.stdout
    assert "FAILURE" in listed.stdout and "https://github.com/acme/two/pull/2" in listed.stdout
    # WHEN a dry-run merge is asked for THEN it says what would happen and nothing merges
    dry = runner.invoke(app, ["prs", job.id, "--merge", "--dry-run", "--json", "--url", url])
    assert dry.exit_code == 0 and [r["outcome"] for r in json.loads(dry.stdout)] == ["WOULD_DO", "WOULD_DO"]
    assert not any(p.merged for p in fake_github.pulls)
    # WHEN merged for real THEN one merges, the protected one fails with GitHub's reason and the exit code says so
    merged = runner.invoke(app, ["prs", job.id, "--merge", "--url", url])
    assert merged.exit_code == 1
    assert "DONE" in merged.stdout and "approving review is required" in merged.stdout
    assert fake_github.pull(1).merged and not fake_github.pull(2).merged
    # AND --json lists the stored state
    shown = json.loads(runner.invoke(app, ["prs", job.id, "--json", "--url", url]).stdout)
    assert shown["pullRequests"]["merged"] == 1


def test_two_actions_at_once_are_refused(url: str) -> None:
    # WHEN two actions are asked at once THEN the CLI refuses with exit code 2 before asking the server
    result = runner.invoke(app, ["prs", "job", "--merge", "--close", "--url", url])
    assert result.exit_code == 2 and "choose one action" in result.stderr


def test_an_action_on_a_job_without_pull_requests_says_there_is_nothing_to_do(url: str, store: SqliteStore) -> None:
    # GIVEN a job of patches: no pull request at all
    job = Job(title="Change", prompt="Change", model="claude-test", output=OutputMode.PATCH)
    run = RepositoryRun(job_id=job.id, index=0, location="/srv/repos/a", status=RunStatus.SUCCEEDED)
    store.commit(Change(job=job, job_version=None, runs=[(run, None)]))
    # WHEN a merge is asked of it
    merged = runner.invoke(app, ["prs", job.id, "--merge", "--dry-run", "--url", url])
    # THEN it says there is nothing to merge, rather than an empty table
    assert merged.exit_code == 0, merged.stderr
    assert merged.stdout.strip() == f"job {job.id} has no pull requests: nothing to merge"
