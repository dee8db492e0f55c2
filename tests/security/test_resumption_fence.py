"""The resumption fence: a run resumed as the same attempt in a new worker refuses every write of the
worker it replaced, which may not be dead (a "terminated" Batch child can still write). Real SQLite store,
real job services, a real worker against the fake model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import RunErrorKind, RunSuperseded
from core.models import Message, RepositoryRun, RunStatus, Thread, thread_key
from core.services.jobs import JobRequest, create_job
from core.services.progress import RunProgress
from core.services.recovery import resume_run
from core.settings import Settings
from server.runtime.worker_command import worker_ports
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.dispatcher import RecordingDispatcher
from worker.pipeline import run_repository


def _thread(run_id: str, turns: int) -> Thread:
    thread = Thread(run_id=run_id, model="claude-test")
    thread.messages = [Message(index=0, role="user", content=[{"type": "text", "text": "go"}])]
    for _ in range(turns):
        for role in ("assistant", "user"):
            thread.messages.append(Message(index=len(thread.messages), role=role, content=[], stop_reason="tool_use"))
    return thread


def _current(store: SqliteStore, run: RepositoryRun) -> RepositoryRun:
    stored = store.get_run(run.id)
    assert stored is not None
    return stored


@pytest.fixture
def taken_over(
    store: SqliteStore, settings: Settings, make_repo: Callable[..., Path]
) -> tuple[RunProgress, RepositoryRun]:
    """A stale worker's handle on attempt 1 (in its second turn), and the run as the worker that resumed
    it after the stale one was thought dead left it: same attempt, resumed once, cloning again."""
    request = JobRequest(prompt="Add hints", repositories=[str(make_repo("a"))])
    job = create_job(store, RecordingDispatcher(), settings, request)
    (run,) = store.get_runs([job.id])[job.id]
    stale = RunProgress(store, run.id, 1)
    stale.advance(RunStatus.CLONING)
    stale.advance(RunStatus.RUNNING_AGENT)
    stale.save_thread(_thread(run.id, 1))
    assert resume_run(store, run.id, 1, 2, "the Batch child was reclaimed")
    RunProgress(store, run.id, 1, 1).advance(RunStatus.CLONING, step="clone")
    return stale, _current(store, run)


def test_the_replaced_worker_cannot_advance_store_its_thread_or_fail_the_resumed_run(
    store: SqliteStore, taken_over: tuple[RunProgress, RepositoryRun]
) -> None:
    stale, resumed = taken_over
    assert resumed.attempt == 1 and len(resumed.resumptions) == 1
    stored_thread = store.get_artifact(thread_key(resumed.id, 1))
    # WHEN the replaced worker, still alive, records progress, saves a later turn and fails the run
    with pytest.raises(RunSuperseded, match="resumed 1 time"):
        stale.advance(RunStatus.SUCCEEDED, summary="stale")
    with pytest.raises(RunSuperseded):
        stale.save_thread(_thread(resumed.id, 2))
    stale.fail(RunErrorKind.TERMINATED, "the worker was stopped (SIGTERM)")
    # THEN the resumed run, its thread and its events are as the new worker left them
    assert _current(store, resumed) == resumed
    assert store.get_artifact(thread_key(resumed.id, 1)) == stored_thread


def test_the_new_worker_owns_the_resumed_attempt(
    store: SqliteStore, taken_over: tuple[RunProgress, RepositoryRun]
) -> None:
    _, resumed = taken_over
    # WHEN the worker that resumed the run saves its next turn and finishes
    worker = RunProgress(store, resumed.id, 1, 1)
    worker.save_thread(_thread(resumed.id, 2))
    worker.advance(RunStatus.RUNNING_AGENT)
    # THEN its writes go through
    assert _current(store, resumed).status is RunStatus.RUNNING_AGENT
    assert _current(store, resumed).version > resumed.version


def test_a_worker_started_before_a_resumption_does_nothing(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    taken_over: tuple[RunProgress, RepositoryRun],
) -> None:
    _, resumed = taken_over
    # WHEN a worker process started for attempt 1 as it stood before the resumption comes up late
    ports = worker_ports(model_settings, store)
    run_repository(ports, resumed.job_id, resumed.index, attempt=1, resumptions=0)
    # THEN it neither calls the model nor touches the run
    assert fake_model.requests == []
    assert _current(store, resumed) == resumed
