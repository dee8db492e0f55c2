"""Commands that work on this machine, not over HTTP: worker run, export-schema, an API token."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from core.models import RunStatus
from core.services.jobs import JobRequest, create_job
from core.settings import Settings
from server.cli.main import app
from tests.fakes.dispatcher import RecordingDispatcher
from tests.integration.cli.conftest import start_api

runner = CliRunner()
MakeRepo = Callable[..., Path]


@pytest.fixture
def settings_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The CLI process reads the same settings as the test, from the environment."""
    monkeypatch.setenv("CODY_BATCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CODY_BATCH_ALLOWED_REPOS", ",".join(settings.allowed_repos))
    return settings


def test_worker_run_finishes_the_chosen_run_on_the_store(
    settings_env: Settings, store: Any, make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a stored job of two repositories, and no model key
    request = JobRequest(prompt="fix", repositories=[str(make_repo("a")), str(make_repo("b"))])
    job = create_job(store, RecordingDispatcher(), settings_env, request)
    # WHEN the worker runs index 1, given by the AWS Batch array index
    monkeypatch.setenv("AWS_BATCH_JOB_ARRAY_INDEX", "1")
    result = runner.invoke(app, ["worker", "run", job.id])
    # THEN that run reached a final status, saying how to configure the key, and the other is untouched
    assert result.exit_code == 0, result.stderr
    first, second = store.get_runs([job.id])[job.id]
    assert first.status is RunStatus.PENDING
    assert second.status is RunStatus.FAILED
    assert second.error is not None and second.error.kind == "CONFIGURATION"
    assert "ANTHROPIC_API_KEY" in second.error.message


def test_worker_run_of_an_unknown_job_or_index_fails_and_writes_nothing(
    settings_env: Settings, store: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a stored job of one repository
    job = create_job(
        store, RecordingDispatcher(), settings_env, JobRequest(prompt="fix", repositories=[str(make_repo())])
    )
    # WHEN a worker is started for an unknown job, and for an index past the last repository
    unknown = runner.invoke(app, ["worker", "run", "01NOSUCHJOB", "--repo", "0"])
    past = runner.invoke(app, ["worker", "run", job.id, "--repo", "3"])
    # THEN both exit non-zero with the reason, and the job's run is untouched
    assert unknown.exit_code == 1 and "no job with id 01NOSUCHJOB" in unknown.stderr
    assert past.exit_code == 1 and "has no repository 3" in past.stderr
    (run,) = store.get_runs([job.id])[job.id]
    assert run.status is RunStatus.PENDING and run.version == 1


def test_export_schema_prints_the_committed_sdl() -> None:
    # GIVEN the committed schema file WHEN exported THEN the output is exactly the file
    result = runner.invoke(app, ["export-schema"])
    assert result.exit_code == 0
    committed = Path(__file__).resolve().parents[3] / "schema" / "schema.graphql"
    assert result.stdout == committed.read_text()


def test_api_token_is_sent_over_http_and_websocket(
    settings: Settings, store: Any, make_repo: MakeRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a server that requires a token
    secured = settings.model_copy(update={"api_token": SecretStr("s3cret-token")})
    server, _ = start_api(secured, store)
    try:
        repo = str(make_repo())
        # WHEN the CLI has no token THEN it is refused with a hint, exit 1
        refused = runner.invoke(app, ["submit", "fix", repo, "--url", server.url])
        assert refused.exit_code == 1
        assert "CODY_BATCH_API_TOKEN" in refused.stderr
        # WHEN it has the token THEN a job is created and followed over the WebSocket to its end
        monkeypatch.setenv("CODY_BATCH_API_TOKEN", "s3cret-token")
        accepted = runner.invoke(app, ["submit", "fix", repo, "--wait", "--json", "--url", server.url])
        assert accepted.exit_code == 0, accepted.stderr
        assert json.loads(accepted.stdout)["status"] == "SUCCEEDED"
    finally:
        server.stop()
