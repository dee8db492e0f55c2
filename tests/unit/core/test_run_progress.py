"""A worker's handle on its run: reads, the cancellation check, steps, failures, all over real SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from core.errors import NotFoundError, RunCancelled, TransitionError
from core.models import (
    Branch,
    Checkpoint,
    CommandIsolation,
    EventKind,
    Job,
    Message,
    OutputMode,
    Patch,
    PullRequest,
    RepositoryRun,
    RunStatus,
    Thread,
    Usage,
    Validation,
    ValidationCheck,
    Verdict,
)
from core.ports import Change
from core.services.jobs import JobRequest, cancel_job, create_job
from core.services.progress import RunProgress, WorkspaceState, load_thread
from core.services.pull_request_index import branch_key, number_key, runs_named
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.dispatcher import RecordingDispatcher


@pytest.fixture
def run(store: SqliteStore, settings: Settings, make_repo: Callable[..., Path]) -> RepositoryRun:
    job = create_job(store, RecordingDispatcher(), settings, JobRequest(prompt="x", repositories=[str(make_repo())]))
    return store.get_runs([job.id])[job.id][0]


def test_the_handle_reads_its_run_and_job(store: SqliteStore, run: RepositoryRun) -> None:
    progress = RunProgress(store, run.id)
    assert progress.run().id == run.id and progress.job_id == run.job_id
    assert progress.job().id == run.job_id
    assert progress.check_cancelled().id == run.id


def test_an_unknown_run_is_not_found(store: SqliteStore) -> None:
    progress = RunProgress(store, "nope")
    with pytest.raises(NotFoundError, match="no run with id nope"):
        progress.run()
    with pytest.raises(NotFoundError, match="no run with id nope"):
        progress.job()


def test_a_cancelled_run_stops_its_worker_at_the_next_check_or_write(store: SqliteStore, run: RepositoryRun) -> None:
    # GIVEN a run that was started and then cancelled
    progress = RunProgress(store, run.id)
    progress.advance(RunStatus.CLONING, step="clone")
    cancel_job(store, RecordingDispatcher(), run.job_id)
    # WHEN its worker checks, or tries to write THEN it is told the run was cancelled
    with pytest.raises(RunCancelled, match=f"run {run.id} was cancelled"):
        progress.check_cancelled()
    with pytest.raises(RunCancelled):
        progress.advance(step="agent")
    # AND a failure does not overwrite the cancellation
    assert progress.fail("MODEL_ERROR", "late").status is RunStatus.CANCELLED


def test_advance_records_status_step_start_time_and_events(store: SqliteStore, run: RepositoryRun) -> None:
    progress = RunProgress(store, run.id)
    cloning = progress.advance(RunStatus.CLONING, step="clone")
    assert (cloning.status, cloning.step) == (RunStatus.CLONING, "clone") and cloning.started_at is not None
    # WHEN it moves on THEN the start time stays; a step alone is not a status change
    later = progress.advance(RunStatus.RUNNING_AGENT, step="agent", summary="so far")
    assert later.started_at == cloning.started_at and later.summary == "so far"
    same = progress.advance(RunStatus.RUNNING_AGENT, step="agent again")
    assert same.status is RunStatus.RUNNING_AGENT and same.step == "agent again"
    kinds = [(e.kind, e.new_value) for e in store.list_events(run.job_id) if e.run_id == run.id]
    assert kinds == [
        (EventKind.STATUS, "CLONING"),
        (EventKind.STEP, "clone"),
        (EventKind.STATUS, "RUNNING_AGENT"),
        (EventKind.STEP, "agent"),
        (EventKind.STEP, "agent again"),
    ]
    # AND a move the state machine refuses is refused
    with pytest.raises(TransitionError):
        progress.advance(RunStatus.CLONING)


def test_fail_names_the_step_it_happened_in_only_when_told(store: SqliteStore, run: RepositoryRun) -> None:
    progress = RunProgress(store, run.id)
    progress.advance(RunStatus.CLONING, step="clone")
    failed = progress.fail("CLONE_FAILED", "no such repository")
    assert (failed.status, failed.step) == (RunStatus.FAILED, "clone")
    assert failed.error is not None and (failed.error.kind, failed.error.message) == (
        "CLONE_FAILED",
        "no such repository",
    )
    assert failed.finished_at is not None
    # AND a finished run is not failed again
    assert progress.fail("INTERNAL", "again").error == failed.error


def test_fail_with_a_step_records_it(store: SqliteStore, run: RepositoryRun) -> None:
    progress = RunProgress(store, run.id)
    progress.advance(RunStatus.RUNNING_AGENT, step="agent")
    assert progress.fail("CLONE_FAILED", "lazy clone failed", step="clone").step == "clone"


def test_a_saved_thread_is_stored_with_its_usage_and_a_turn_event(store: SqliteStore, run: RepositoryRun) -> None:
    # GIVEN a run without a thread yet
    progress = RunProgress(store, run.id)
    progress.advance(RunStatus.RUNNING_AGENT)
    assert load_thread(store, progress.run()) is None
    # WHEN a thread of two turns is saved
    thread = Thread(
        run_id=run.id,
        model="m",
        messages=[
            Message(index=0, role="user", content=[{"type": "text", "text": "go"}]),
            Message(index=1, role="assistant", content=[{"type": "text", "text": "a"}], usage=Usage(cost_usd=0.25)),
            Message(index=2, role="user", content=[{"type": "text", "text": "more"}]),
            Message(index=3, role="assistant", content=[{"type": "text", "text": "b"}], usage=Usage(cost_usd=0.5)),
        ],
    )
    saved = progress.save_thread(thread)
    # THEN it reads back, the run carries its usage and turn count, and a TURN event of this run says how many turns
    assert load_thread(store, saved) == thread
    assert saved.usage.cost_usd == 0.75
    assert saved.turns == 2 and progress.run().turns == 2
    turns = [e for e in store.list_events(run.job_id) if e.kind is EventKind.TURN]
    assert [(e.run_id, e.new_value) for e in turns] == [(run.id, "2")]


def test_advance_records_each_result_it_is_given(store: SqliteStore, run: RepositoryRun) -> None:
    progress = RunProgress(store, run.id)
    validation = Validation(verdict=Verdict.VERIFIED, checks=[ValidationCheck(name="syntax a.py", status="PASSED")])
    patch = Patch(artifact_key="patches/x/1.diff", additions=2)
    pull = PullRequest(url="https://github.com/acme/app/pull/1", number=1, branch="cody/x")
    advanced = progress.advance(
        RunStatus.VALIDATING, summary="done", validation=validation, patch=patch, pull_request=pull
    )
    stored = store.get_run(run.id)
    assert stored is not None and stored == advanced
    assert (stored.summary, stored.validation, stored.patch, stored.pull_request) == ("done", validation, patch, pull)


def test_each_worker_of_an_attempt_adds_its_command_isolation_and_the_weaker_is_kept(
    store: SqliteStore, run: RepositoryRun
) -> None:
    # GIVEN a run whose first worker's commands had network but no filesystem isolation
    progress = RunProgress(store, run.id)
    progress.advance(RunStatus.CLONING)
    bubblewrap = "bubblewrap: No permissions to create a new namespace"
    progress.advance(
        RunStatus.RUNNING_AGENT, command_isolation=CommandIsolation(filesystem=False, network=True, reason=bubblewrap)
    )
    # WHEN a resumed worker on a machine without namespaces, then one fully isolated, record theirs
    unshare = "unshare: Operation not permitted"
    progress.advance(
        step="agent",
        command_isolation=CommandIsolation(filesystem=False, network=False, reason=f"{bubblewrap}; {unshare}"),
    )
    progress.advance(step="agent", command_isolation=CommandIsolation(filesystem=True, network=True))
    # THEN the run says its commands lacked both isolations, each tool's reason given once
    stored = store.get_run(run.id)
    assert stored is not None
    assert stored.command_isolation == CommandIsolation(
        filesystem=False, network=False, reason=f"{bubblewrap}; {unshare}"
    )


def test_a_run_stored_before_command_isolation_was_kept_reads_as_none(
    store: SqliteStore, settings: Settings, run: RepositoryRun
) -> None:
    # GIVEN a run row written before runs had a command isolation (its JSON has no such key)
    with closing(sqlite3.connect(settings.database_path)) as conn, conn:
        conn.execute("UPDATE runs SET data = json_remove(data, '$.command_isolation') WHERE id = ?", (run.id,))
        data = conn.execute("SELECT data FROM runs WHERE id = ?", (run.id,)).fetchone()[0]
    assert "command_isolation" not in data
    # WHEN it is read and advanced
    RunProgress(store, run.id).advance(RunStatus.CLONING)
    # THEN it reads back with none recorded, as a run whose commands were off
    stored = store.get_run(run.id)
    assert stored is not None and stored.status is RunStatus.CLONING and stored.command_isolation is None


def test_a_turns_checkpoint_is_stored_with_its_thread_and_a_turn_without_one_drops_the_last(
    store: SqliteStore, run: RepositoryRun
) -> None:
    # GIVEN a working run
    progress = RunProgress(store, run.id)
    progress.advance(RunStatus.RUNNING_AGENT)
    thread = Thread(
        run_id=run.id, model="m", messages=[Message(index=0, role="user", content=[{"type": "text", "text": "go"}])]
    )
    checkpoint = Checkpoint(artifact_key=f"checkpoints/{run.id}/1.diff", base_commit="abc", turn=1, size_bytes=4)
    # WHEN a turn is saved with its workspace's checkpoint
    saved = progress.save_thread(thread, WorkspaceState(checkpoint, b"diff"))
    # THEN the run carries the checkpoint and its diff is stored under its key
    assert saved.checkpoint == checkpoint
    assert store.get_artifact(checkpoint.artifact_key) == b"diff"
    # WHEN a later turn could take none THEN the run no longer carries one
    assert progress.save_thread(thread, WorkspaceState(None)).checkpoint is None


def test_a_recorded_pull_request_becomes_known_to_webhook_deliveries(store: SqliteStore) -> None:
    # GIVEN a run publishing its pushed branch of acme/app
    job = Job(title="t", prompt="p", model="m", output=OutputMode.PULL_REQUEST)
    branch = Branch(repository="acme/app", name="cody-batch/x")
    publishing = RepositoryRun(
        job_id=job.id, index=0, location="https://github.com/acme/app", status=RunStatus.PUBLISHING, branch=branch
    )
    store.commit(Change(job=job, job_version=None, runs=[(publishing, None)]))
    progress = RunProgress(store, publishing.id)
    by_number, by_branch = number_key("acme/app", 7), branch_key("acme/app", "cody-batch/x")
    # WHEN it records a step alone THEN nothing is indexed
    progress.advance(step="publish")
    assert runs_named(store, [by_number, by_branch]) == {}
    # WHEN it records the pull request it opened THEN a delivery naming its number or branch finds the run
    url = "https://github.com/acme/app/pull/7"
    progress.advance(RunStatus.SUCCEEDED, pull_request=PullRequest(url=url, number=7, branch="cody-batch/x"))
    assert runs_named(store, [by_number]) == runs_named(store, [by_branch]) == {job.id: {publishing.id}}
