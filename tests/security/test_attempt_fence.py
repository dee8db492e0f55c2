"""The attempt fence: a stale worker (an older attempt, or one whose run was ended without it)
can write nothing over the run as it is now. Real SQLite store, real job services."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.errors import RunCancelled, RunSuperseded
from core.models import RepositoryRun, RunStatus, Thread, thread_key
from core.services.jobs import JobRequest, create_job, retry_runs
from core.services.progress import RunProgress
from core.services.recovery import interrupt_orphaned_runs
from core.settings import Settings
from server.cli.main import app
from server.runtime.worker_command import worker_ports
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.dispatcher import RecordingDispatcher
from worker.pipeline import run_repository


def _one_run(store: SqliteStore, settings: Settings, make_repo: Callable[..., Path]) -> RepositoryRun:
    job = create_job(
        store, RecordingDispatcher(), settings, JobRequest(prompt="Add hints", repositories=[str(make_repo("a"))])
    )
    return store.get_runs([job.id])[job.id][0]


def _current(store: SqliteStore, run: RepositoryRun) -> RepositoryRun:
    stored = store.get_run(run.id)
    assert stored is not None
    return stored


@pytest.fixture
def second_attempt(store: SqliteStore, settings: Settings, make_repo: Callable[..., Path]) -> RepositoryRun:
    """A run whose attempt 1 failed and whose attempt 2 is cloning."""
    run = _one_run(store, settings, make_repo)
    RunProgress(store, run.id, 1).advance(RunStatus.CLONING)
    RunProgress(store, run.id, 1).fail("MODEL_ERROR", "overloaded")
    retry_runs(store, RecordingDispatcher(), run.job_id)
    RunProgress(store, run.id, 2).advance(RunStatus.CLONING, step="clone")
    return _current(store, run)


def test_a_worker_of_an_older_attempt_cannot_advance_the_newer_one(
    store: SqliteStore, second_attempt: RepositoryRun
) -> None:
    # WHEN the worker of attempt 1, still alive somewhere, records progress
    with pytest.raises(RunSuperseded):
        RunProgress(store, second_attempt.id, 1).advance(RunStatus.SUCCEEDED, summary="stale")
    # THEN attempt 2 is as it was
    assert _current(store, second_attempt) == second_attempt


def test_a_worker_of_an_older_attempt_cannot_fail_the_newer_one(
    store: SqliteStore, second_attempt: RepositoryRun
) -> None:
    # WHEN the worker (or the reaper) of attempt 1 fails its run
    RunProgress(store, second_attempt.id, 1).fail("WORKER_DIED", "the worker process was killed")
    # THEN attempt 2 keeps going, with no error
    assert _current(store, second_attempt) == second_attempt


def test_a_worker_of_an_older_attempt_cannot_store_its_thread(
    store: SqliteStore, second_attempt: RepositoryRun
) -> None:
    # WHEN attempt 1's worker saves its thread
    with pytest.raises(RunSuperseded):
        RunProgress(store, second_attempt.id, 1).save_thread(Thread(run_id=second_attempt.id, attempt=1, model="m"))
    # THEN nothing was written: no thread, no usage, no event
    assert store.get_artifact(thread_key(second_attempt.id, 1)) is None
    assert _current(store, second_attempt) == second_attempt


def test_a_handle_without_an_attempt_owns_the_one_it_first_read(
    store: SqliteStore, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a worker's handle that has read its run (attempt 1), which then fails and is retried
    run = _one_run(store, settings, make_repo)
    stale = RunProgress(store, run.id)
    stale.advance(RunStatus.CLONING)
    RunProgress(store, run.id).fail("CLONE_FAILED", "gone")
    retry_runs(store, RecordingDispatcher(), run.job_id)
    # WHEN the old handle writes THEN it is fenced out of attempt 2
    with pytest.raises(RunSuperseded):
        stale.advance(RunStatus.RUNNING_AGENT)
    assert _current(store, run).status is RunStatus.PENDING


def test_a_worker_whose_run_a_restarted_server_ended_stops_quietly(
    store: SqliteStore, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a run that a killed server's worker was on, ended as INTERRUPTED by the next server
    run = _one_run(store, settings, make_repo)
    worker = RunProgress(store, run.id, 1)
    worker.advance(RunStatus.RUNNING_AGENT)
    assert interrupt_orphaned_runs(store) == 1
    ended = _current(store, run)
    # WHEN the old worker goes on THEN it is told to stop like a cancelled one (not a state-machine
    # error that would end it as INTERNAL), and the run keeps the server's verdict
    with pytest.raises(RunCancelled):
        worker.advance(RunStatus.SUCCEEDED)
    worker.fail("INTERNAL", "stale")
    assert _current(store, run) == ended
    assert ended.error is not None and ended.error.kind == "INTERRUPTED"


def test_a_worker_started_for_an_older_attempt_does_nothing(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    second_attempt: RepositoryRun,
) -> None:
    # WHEN a worker process started for attempt 1 comes up after attempt 2 began
    ports = worker_ports(model_settings, store)
    run_repository(ports, second_attempt.job_id, second_attempt.index, attempt=1)
    # THEN it neither calls the model nor touches the run
    assert fake_model.requests == []
    assert _current(store, second_attempt) == second_attempt


def test_worker_run_for_an_older_attempt_leaves_the_run_alone(
    settings: Settings, store: SqliteStore, second_attempt: RepositoryRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the command line a dispatcher starts a worker with, for attempt 1 (and no model key,
    # so a worker that did run would fail the run at once)
    monkeypatch.setenv("CODY_BATCH_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CODY_BATCH_ALLOWED_REPOS", ",".join(settings.allowed_repos))
    args = ["worker", "run", second_attempt.job_id, "--repo", "0", "--attempt", "1"]
    # WHEN it starts after attempt 2 began
    result = CliRunner().invoke(app, args)
    # THEN it exits cleanly and attempt 2 is untouched
    assert result.exit_code == 0, result.output
    assert _current(store, second_attempt) == second_attempt
