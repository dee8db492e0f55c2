"""A server that starts again settles the runs a stopped one left unfinished: none waits forever."""

from __future__ import annotations

from typing import Any

from core.models import JobStatus, Message, ResumeReason, RunStatus, Thread
from core.services.jobs import JobRequest, create_job, retry_runs
from core.services.progress import RunProgress
from core.services.recovery import ORPHANED_MESSAGE, interrupt_orphaned_runs, settle_orphaned_runs
from core.settings import Settings
from server.runtime.bootstrap import bootstrap
from server.runtime.container import Container
from server.runtime.data_dir_lock import DataDirLock
from tests.fakes.dispatcher import RecordingDispatcher


def _job(store: Any, settings: Settings, make_repo: Any, names: list[str]) -> Any:
    request = JobRequest(prompt="Add type hints", repositories=[str(make_repo(n)) for n in names])
    return create_job(store, RecordingDispatcher(), settings, request)


def _runs(store: Any, job_id: str) -> list[Any]:
    return store.get_runs([job_id])[job_id]


def test_runs_left_mid_way_end_interrupted_queued_ones_stay_queued_and_finished_ones_stay(
    store: Any, settings: Settings, make_repo: Any
) -> None:
    # GIVEN a job whose server died mid-way: one run working, one still queued, one done
    job = _job(store, settings, make_repo, ["a", "b", "c"])
    working, queued, done = _runs(store, job.id)
    RunProgress(store, working.id).advance(status=RunStatus.RUNNING_AGENT, step="agent")
    RunProgress(store, done.id).advance(status=RunStatus.RUNNING_AGENT, step="agent")
    RunProgress(store, done.id).advance(status=RunStatus.NO_CHANGES, step="validate")
    # AND a job that finished long ago
    old = _job(store, settings, make_repo, ["d"])
    RunProgress(store, _runs(store, old.id)[0].id).fail("CLONE_FAILED", "gone")
    # WHEN the orphaned runs are settled, resuming none
    settled = settle_orphaned_runs(store, 0)
    # THEN the working run is FAILED as INTERRUPTED; the queued one, which never ran, is left to start
    runs = {r.id: r for r in _runs(store, job.id)}
    assert settled.interrupted == 1 and settled.to_dispatch() == {job.id: [1]}
    assert runs[working.id].status is RunStatus.FAILED
    assert runs[working.id].error is not None and runs[working.id].error.kind == "INTERRUPTED"
    assert runs[working.id].error.message == ORPHANED_MESSAGE
    assert runs[queued.id].status is RunStatus.PENDING and runs[queued.id].resumptions == []
    # AND the finished ones are untouched
    assert runs[done.id].status is RunStatus.NO_CHANGES
    assert _runs(store, old.id)[0].error.kind == "CLONE_FAILED"
    # AND settling again fails nothing more, and once the queued run ends a retry starts the others again
    assert interrupt_orphaned_runs(store) == 0
    RunProgress(store, queued.id).fail("CLONE_FAILED", "gone")
    assert store.get_job(job.id).status is JobStatus.PARTIAL
    dispatcher = RecordingDispatcher()
    retry_runs(store, dispatcher, job.id)
    assert dispatcher.dispatched == [(job.id, [0, 1])]


def test_starting_the_local_server_settles_orphaned_runs(store: Any, settings: Settings, make_repo: Any) -> None:
    # GIVEN a data dir holding a job whose run a killed server left RUNNING
    job = _job(store, settings, make_repo, ["a"])
    RunProgress(store, _runs(store, job.id)[0].id).advance(status=RunStatus.CLONING, step="clone")
    # WHEN a server that resumes no run is bootstrapped on it and started, as `serve` does
    container = bootstrap(settings.model_copy(update={"max_resumes": 0}))
    try:
        container.start()
        # THEN the run is no longer running: it failed as INTERRUPTED and the job is FAILED
        run = _runs(container.store, job.id)[0]
        assert run.status is RunStatus.FAILED and run.error.kind == "INTERRUPTED"
        assert container.store.get_job(job.id).status is JobStatus.FAILED
    finally:
        container.close()


def test_a_container_that_is_not_local_leaves_runs_alone(store: Any, settings: Settings, make_repo: Any) -> None:
    # GIVEN a running run, and a container for a backend whose runs live elsewhere (AWS Batch)
    job = _job(store, settings, make_repo, ["a"])
    RunProgress(store, _runs(store, job.id)[0].id).advance(status=RunStatus.CLONING, step="clone")
    aws = settings.model_copy(update={"backend": "aws"})
    # WHEN it starts THEN the run is untouched: another machine may be running it
    Container(settings=aws, store=store, dispatcher=RecordingDispatcher()).start()
    assert _runs(store, job.id)[0].status is RunStatus.CLONING


def _with_thread(store: Any, run_id: str, turns: int) -> None:
    progress = RunProgress(store, run_id)
    progress.advance(status=RunStatus.RUNNING_AGENT, step="agent")
    thread = Thread(run_id=run_id, model="claude-test")
    thread.messages = [Message(index=0, role="user", content=[{"type": "text", "text": "go"}])]
    for _ in range(turns):
        for role in ("assistant", "user"):
            thread.messages.append(Message(index=len(thread.messages), role=role, content=[], stop_reason="tool_use"))
    progress.save_thread(thread)


def test_unfinished_runs_are_resumed_from_their_turn_until_resumptions_run_out(
    store: Any, settings: Settings, make_repo: Any
) -> None:
    # GIVEN a run a killed server left in its third turn, and one still queued
    job = _job(store, settings, make_repo, ["a", "b"])
    working, _ = _runs(store, job.id)
    _with_thread(store, working.id, 2)
    # WHEN the next server settles them, allowing 1 resumption per attempt
    settled = settle_orphaned_runs(store, 1)
    # THEN both go on as the same attempt: the working one resumed from turn 2, the queued one simply
    # started (nothing of it ran, so it uses no resumption)
    assert dict(settled.resumed) == {job.id: [0]} and dict(settled.pending) == {job.id: [1]}
    assert settled.to_dispatch() == {job.id: [0, 1]} and settled.interrupted == 0
    runs = _runs(store, job.id)
    assert [r.status for r in runs] == [RunStatus.PENDING, RunStatus.PENDING]
    assert [r.attempt for r in runs] == [1, 1]
    assert [[(x.reason, x.from_turn) for x in r.resumptions] for r in runs] == [[(ResumeReason.RESUMED, 2)], []]
    # AND when that server dies too, its resumption used up, the working run ends INTERRUPTED as before
    RunProgress(store, working.id).advance(status=RunStatus.CLONING)
    settled = settle_orphaned_runs(store, 1)
    assert dict(settled.resumed) == {} and settled.interrupted == 1
    assert [r.error.kind if r.error else None for r in _runs(store, job.id)] == ["INTERRUPTED", None]


def test_starting_the_local_server_dispatches_the_runs_it_resumes(
    store: Any, settings: Settings, make_repo: Any, tmp_path: Any
) -> None:
    # GIVEN a run a killed server left working, and the data dir's lock held by the new server
    job = _job(store, settings, make_repo, ["a"])
    _with_thread(store, _runs(store, job.id)[0].id, 1)
    lock = DataDirLock(tmp_path / "lock-dir").acquire()
    dispatcher = RecordingDispatcher()
    # WHEN the server starts
    try:
        Container(settings=settings, store=store, dispatcher=dispatcher, lock=lock).start()
    finally:
        lock.release()
    # THEN the run was put back to go on from turn 1, and dispatched
    [run] = _runs(store, job.id)
    assert run.status is RunStatus.PENDING and run.resumptions[0].from_turn == 1
    assert dispatcher.dispatched == [(job.id, [0])]
