"""A run continued just before the server stopped, still pending (no process had taken it up): the restarted
server starts it as it is. It spends no resumption and, with none allowed, is not failed INTERRUPTED."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.errors import RunErrorKind
from core.models import Budget, JobStatus, ResumeReason, RunStatus
from core.services.continuation import continue_run
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, tool_results
from tests.fakes.dispatcher import RecordingDispatcher
from tests.fakes.held_turn import greet
from tests.integration.worker.conftest import wait_for
from tests.security.serve_process import create_job, serves_with_model, stored_job_status, stored_runs


def _continue_in_store(data_dir: Path, run_id: str) -> None:
    """`continueRun` as the stopped server took it: stored PENDING, its process never started."""
    store = SqliteStore(Settings(data_dir=data_dir).database_path)
    try:
        continue_run(store, RecordingDispatcher(), run_id, Budget(max_turns=5))
    finally:
        store.close()


def test_a_run_continued_but_not_started_when_the_server_stopped_starts_as_it_is_after_restart(
    tmp_path: Path, repos_dir: Path, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a run stopped by its one-turn limit, continued with more turns, and the server stopped before
    # the continued run's process started
    fake_model.script([greet] * 2)
    with serves_with_model(tmp_path, repos_dir, fake_model.url, CODY_BATCH_MAX_TURNS="1") as serve:
        first = serve()
        job_id = create_job(first, [make_repo("repo")])
        wait_for(lambda: stored_job_status(first.data_dir, job_id) is JobStatus.FAILED)
        [stopped] = stored_runs(first.data_dir, job_id)
        assert stopped.error is not None and stopped.error.kind is RunErrorKind.TURN_LIMIT
        first.kill()
        _continue_in_store(first.data_dir, stopped.id)
    # WHEN the server starts again on its data dir, allowed no resumption at all
    with serves_with_model(tmp_path, repos_dir, fake_model.url, CODY_BATCH_MAX_RESUMES="0") as serve:
        restarted = serve()
        wait_for(lambda: stored_job_status(restarted.data_dir, job_id) in {JobStatus.SUCCEEDED, JobStatus.FAILED})
        # THEN the run went on from its thread to SUCCEEDED as it was continued: no resumption was recorded
        # for the restart, and it was not failed for having none left
        [run] = stored_runs(restarted.data_dir, job_id)
        assert (run.status, run.error) == (RunStatus.SUCCEEDED, None)
        assert [(r.reason, r.from_turn) for r in run.resumptions] == [(ResumeReason.CONTINUED, 1)]
        assert run.attempt == 1 and run.turns == 2
    # AND the model was asked for turn 1 once, then for turn 2 only
    assert [bool(tool_results(r)) for r in fake_model.requests] == [False, True]
