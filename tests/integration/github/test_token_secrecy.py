"""A sentinel token runs a whole pull-request job and is then looked for everywhere it must not be."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.models import OutputMode, RunStatus, thread_key
from core.settings import Settings
from server.runtime.worker_command import worker_ports
from server.runtime.worker_config import github_config
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.github_server import FakeGitHub
from tests.integration.worker.conftest import greeting_edit, run_all, submit
from worker.github.publish import Publisher
from worker.workspace import clone

SENTINEL = "ghp_SENTINEL_5f2c9a1e7d"


@pytest.fixture
def git_spy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `git` first on PATH that records each call's argv and the repository config it sees."""
    logs = tmp_path / "git-spy"
    logs.mkdir()
    real = shutil.which("git")
    assert real is not None
    spy = logs / "bin" / "git"
    spy.parent.mkdir()
    spy.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$*\" >> '{logs}/argv.log'\n"
        f'[ -f "${{GIT_DIR:-.git}}/config" ] && cat "${{GIT_DIR:-.git}}/config" >> \'{logs}/configs.log\'\n'
        f'exec {real} "$@"\n'
    )
    spy.chmod(0o755)
    monkeypatch.setenv("PATH", f"{spy.parent}:{os.environ['PATH']}")
    return logs


def test_the_token_appears_nowhere_it_must_not(
    github_settings: Settings,
    store: SqliteStore,
    fake_github: FakeGitHub,
    fake_model: FakeAnthropic,
    git_spy: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a fake GitHub that accepts only the sentinel token, and a job using it
    caplog.set_level(logging.DEBUG)
    fake_github.token = SENTINEL
    fake_github.add_repo("acme/app", {"app.py": "print('hi')\n"})
    settings = github_settings.model_copy(
        update={
            "github_token": SecretStr(SENTINEL),
            "anthropic_api_key": SecretStr(fake_model.api_key),
            "anthropic_base_url": fake_model.url,
        }
    )
    job = submit(settings, store, ["acme/app"], output=OutputMode.PULL_REQUEST)
    fake_model.script(greeting_edit())
    # WHEN the job runs through the real pipeline, and a workspace is cloned and published directly too
    [run] = run_all(settings, store, job, worker_ports(settings, store))
    workspace = clone("https://github.com/acme/app.git", tmp_path / "direct" / "repo", token=SENTINEL)
    (workspace.path / "app.py").write_text("print('direct')\n")
    assert run.patch is not None
    Publisher(github_config(settings), store).publish(workspace, job, run, "summary", None, run.patch)
    # THEN it worked, so the token was really used
    assert run.status is RunStatus.SUCCEEDED, run.error
    assert fake_github.requests and all(
        r.headers.get("Authorization") == f"token {SENTINEL}" for r in fake_github.requests
    )
    # AND the token is in no git argv, no workspace or remote .git/config
    argv = (git_spy / "argv.log").read_text()
    assert "push" in argv and "clone" in argv
    assert SENTINEL not in argv
    configs = (git_spy / "configs.log").read_text()
    assert "[remote" in configs and SENTINEL not in configs
    assert SENTINEL not in (workspace.git_dir / "config").read_text()
    assert SENTINEL not in (fake_github.repos["acme/app"].bare / "config").read_text()
    # AND in no log record, pull request, stored patch, thread, run or event
    assert caplog.records and SENTINEL not in caplog.text
    assert all(SENTINEL not in p.title + p.body for p in fake_github.pulls)
    stored = [store.get_artifact(run.patch.artifact_key), store.get_artifact(thread_key(run.id, run.attempt))]
    assert all(data and SENTINEL.encode() not in data for data in stored)
    stored_run = store.get_run(run.id)
    assert stored_run is not None and stored_run.status is RunStatus.SUCCEEDED
    assert SENTINEL not in stored_run.model_dump_json()
    assert all(SENTINEL not in e.model_dump_json() for e in store.list_events(job.id, limit=1000))
    # AND Claude never saw it
    assert all(SENTINEL not in str(r.body) for r in fake_model.requests)
