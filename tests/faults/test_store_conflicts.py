"""Store write conflicts that really happen: the runs of one job, each in its own process, writing their
job's row at the same moment; and a user's cancel racing the workers' writes. Every write is a versioned
compare-and-set; a lost race is retried on fresh rows, so nothing is lost and a cancelled run stays so."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.models import EventKind, JobStatus, RepositoryRun, RunStatus
from core.services.jobs import cancel_job
from core.services.progress import load_thread
from core.services.updates import job_usage
from core.settings import Settings
from server.runtime.dispatcher import SubprocessDispatcher
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, RecordedRequest, tool_results
from tests.fakes.dispatcher import RecordingDispatcher
from tests.fakes.held_turn import greet
from tests.integration.worker.conftest import submit, wait_for
from tests.security.serve_process import PATIENCE

RUNS = 5


class TogetherInTurnTwo:
    """A model that edits in turn 1 and answers the turn-2 requests of all runs at the same moment, once all
    have come (and, with `hold`, once `release` is set too)."""

    def __init__(self, hold: bool = False) -> None:
        self.arrived = threading.Barrier(RUNS + (1 if hold else 0), timeout=PATIENCE)
        self.release = threading.Event()
        if not hold:
            self.release.set()

    def step(self, request: RecordedRequest) -> dict[str, Any]:
        if tool_results(request):
            self.arrived.wait()
            self.release.wait(PATIENCE)
        return greet(request)


Started = tuple[SubprocessDispatcher, str, TogetherInTurnTwo]


@pytest.fixture
def five_runs(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    make_dispatcher: Callable[..., SubprocessDispatcher],
) -> Iterator[Callable[[bool], Started]]:
    """Start a job of five runs, each in its own process, on a model that answers their turn 2 together."""
    made: list[TogetherInTurnTwo] = []

    def start(hold: bool) -> Started:
        model = TogetherInTurnTwo(hold)
        made.append(model)
        fake_model.script([model.step] * 2 * RUNS)
        dispatcher = make_dispatcher(workers=RUNS)
        job = submit(model_settings, store, [make_repo(f"r{i}") for i in range(RUNS)], dispatcher)
        return dispatcher, job.id, model

    yield start
    for model in made:  # whatever the test did, no request thread waits on
        model.release.set()
        model.arrived.abort()


def _runs(store: SqliteStore, job_id: str) -> list[RepositoryRun]:
    return store.get_runs([job_id])[job_id]


def test_runs_of_one_job_finishing_at_once_lose_no_write(
    store: SqliteStore, five_runs: Callable[[bool], Started]
) -> None:
    # GIVEN five runs of one job, in five processes, answered their last turn at the same moment
    _, job_id, _ = five_runs(False)
    # WHEN each saves its thread, validates, stores its patch and finishes, all writing the job's row
    wait_for(lambda: all(r.status.finished for r in _runs(store, job_id)), timeout=PATIENCE)
    # THEN every run succeeded with its thread and patch
    runs = _runs(store, job_id)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * RUNS, [r.error for r in runs]
    for run in runs:
        thread = load_thread(store, run)
        assert thread is not None and thread.turns == 2 and run.usage == thread.usage
        assert run.patch is not None and store.get_artifact(run.patch.artifact_key)
    # AND the job's row holds every run's last write: its status and its usage, the sum of the runs'
    stored = store.get_job(job_id)
    assert stored is not None and stored.status is JobStatus.SUCCEEDED
    assert stored.usage == job_usage(runs) and stored.usage.total_tokens > 0
    # AND each run's status events chain without a gap or a repeat
    events = store.list_events(job_id, limit=1000)
    for run in runs:
        changes = [(e.old_value, e.new_value) for e in events if e.run_id == run.id and e.kind is EventKind.STATUS]
        assert all(a[1] == b[0] for a, b in itertools.pairwise(changes)), changes
        assert changes[-1][1] == RunStatus.SUCCEEDED


def test_a_cancel_landing_while_the_runs_wait_leaves_every_run_cancelled(
    store: SqliteStore, five_runs: Callable[[bool], Started]
) -> None:
    # GIVEN five runs in five processes, each waiting for the answer to its second turn, each holding the
    # version of its run it read before
    dispatcher, job_id, model = five_runs(True)
    model.arrived.wait()
    # WHEN a user cancels the job (its processes not signalled: only the store decides between the two
    # writers) and then the answers go out
    cancel_job(store, RecordingDispatcher(), job_id)
    model.release.set()
    # THEN each worker, its next write refused, ends on its own
    wait_for(lambda: dispatcher.running == 0, timeout=PATIENCE)
    # AND every run is CANCELLED, nothing written after the cancel: no patch, no later status
    runs = _runs(store, job_id)
    assert [r.status for r in runs] == [RunStatus.CANCELLED] * RUNS
    assert all(r.patch is None and r.error is None for r in runs)
    events = store.list_events(job_id, limit=1000)
    for run in runs:
        statuses = [e.new_value for e in events if e.run_id == run.id and e.kind is EventKind.STATUS]
        assert statuses[-1] == RunStatus.CANCELLED and statuses.count(RunStatus.CANCELLED) == 1
    stored = store.get_job(job_id)
    assert stored is not None and stored.status is JobStatus.CANCELLED
    assert stored.usage == job_usage(runs)


def test_a_cancel_racing_the_runs_writes_leaves_each_run_with_one_result(
    store: SqliteStore, five_runs: Callable[[bool], Started]
) -> None:
    # GIVEN five runs in five processes, each waiting for the answer to its second turn
    dispatcher, job_id, model = five_runs(True)
    model.arrived.wait()
    # WHEN the answers go out and, at the same moment, a user cancels the job (which writer wins each run is
    # up to the machine: a fast worker may finish before the cancel reaches the store)
    model.release.set()
    cancel_job(store, RecordingDispatcher(), job_id)
    wait_for(lambda: dispatcher.running == 0, timeout=PATIENCE)
    # THEN each run has exactly one result: CANCELLED with nothing written after it, or SUCCEEDED with its patch
    # and never cancelled
    runs = _runs(store, job_id)
    events = store.list_events(job_id, limit=1000)
    for run in runs:
        statuses = [e.new_value for e in events if e.run_id == run.id and e.kind is EventKind.STATUS]
        assert statuses[-1] == run.status, statuses
        if run.status is RunStatus.CANCELLED:
            assert run.patch is None and run.error is None and statuses.count(RunStatus.CANCELLED) == 1
        else:
            assert run.status is RunStatus.SUCCEEDED and RunStatus.CANCELLED not in statuses
            assert run.patch is not None and store.get_artifact(run.patch.artifact_key)
    # AND the job's row agrees with its runs
    stored = store.get_job(job_id)
    cancelled = sum(1 for r in runs if r.status is RunStatus.CANCELLED)
    expected = {0: JobStatus.SUCCEEDED, RUNS: JobStatus.CANCELLED}.get(cancelled, JobStatus.PARTIAL)
    assert stored is not None and stored.status is expected
    assert stored.usage == job_usage(runs)
