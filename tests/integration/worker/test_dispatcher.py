"""SubprocessDispatcher: real forkserver processes, the worker limit, cancel, dead workers, shutdown."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.models import Job, JobStatus, RunStatus
from core.services.jobs import cancel_job
from core.services.recovery import settle_orphaned_runs
from core.settings import Settings
from server.runtime.dispatcher import SubprocessDispatcher
from server.runtime.run_process import RUN_NICENESS
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import (
    FakeAnthropic,
    RecordedRequest,
    slow,
)
from tests.fakes.held_turn import HeldAnswer, greet
from tests.integration.worker.conftest import run_pid, submit, wait_for
from tests.security.processes import alive

WORKING = {RunStatus.CLONING, RunStatus.RUNNING_AGENT, RunStatus.VALIDATING, RunStatus.PUBLISHING}


@pytest.fixture
def held_runs(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    held: HeldAnswer,
    make_repo: Callable[..., Path],
    make_dispatcher: Callable[..., SubprocessDispatcher],
) -> Callable[..., tuple[SubprocessDispatcher, Job]]:
    """Dispatch a job over `count` repositories whose model holds its answers until the test ends (so a run
    cannot finish before the test acts on it, however slow the test is); return once the first call arrived."""

    def start(count: int, **updates: Any) -> tuple[SubprocessDispatcher, Job]:
        dispatcher = make_dispatcher(**updates)
        fake_model.script([held.step] * 2 * count)
        job = submit(model_settings, store, [make_repo(f"r{i}") for i in range(count)], dispatcher)
        wait_for(lambda: len(fake_model.requests) == 1)
        run_pid(dispatcher, job.id)  # listed by the dispatcher too
        return dispatcher, job

    return start


def _runs(store: SqliteStore, job_id: str) -> list[Any]:
    return store.get_runs([job_id])[job_id]


def _finished(store: SqliteStore, job_id: str) -> bool:
    return all(r.status.finished for r in _runs(store, job_id))


def _title(pid: int) -> str:
    """What `ps -o args` shows for `pid`."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_runs_go_through_forked_workers_within_the_limit(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    make_dispatcher: Callable[..., SubprocessDispatcher],
) -> None:
    # GIVEN a dispatcher allowing two runs at once and a model that notes how many runs are working
    dispatcher = make_dispatcher(workers=2)
    seen: list[int] = []

    def noting(request: RecordedRequest) -> dict[str, Any]:
        seen.append(sum(1 for r in _runs(store, job.id) if r.status in WORKING))
        return slow(greet(request), 0.3)

    fake_model.script([noting] * 6)
    job = submit(model_settings, store, [make_repo(n) for n in ("a", "b", "c")])
    # WHEN the job's three runs are dispatched
    dispatcher.dispatch(job.id, [0, 1, 2])
    wait_for(lambda: _finished(store, job.id))
    # THEN every run succeeded in its own process, never more than two at once
    assert [r.status for r in _runs(store, job.id)] == [RunStatus.SUCCEEDED] * 3
    assert dispatcher.started == 3
    assert seen and max(seen) <= 2


def test_a_jobs_runs_start_in_processes_forked_before_it_was_created(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    held: HeldAnswer,
    make_repo: Callable[..., Path],
    make_dispatcher: Callable[..., SubprocessDispatcher],
) -> None:
    # GIVEN a started dispatcher: one run process waits per repository a job may have
    dispatcher = make_dispatcher(workers=3, max_repositories=2)
    dispatcher.start()
    waiting = dispatcher.waiting_process_ids()
    assert len(waiting) == 2
    # (each says so in `ps`, where they would otherwise all show the forkserver's command line)
    wait_for(lambda: {_title(pid) for pid in waiting} == {"cody-batch run (waiting for a run)"})
    fake_model.script([held.step] * 4)  # answered only once the test has seen the processes
    job = submit(model_settings, store, [make_repo(n) for n in ("a", "b")])
    # WHEN a job's two runs are dispatched
    dispatcher.dispatch(job.id, [0, 1])
    wait_for(lambda: len(fake_model.requests) == 2)
    # THEN they run in the processes that were waiting: no fork between the job and its first model calls
    assert sorted(run_pid(dispatcher, job.id, index) for index in (0, 1)) == sorted(waiting)
    # AND each names in `ps` its job, the repository index `cody-batch continue` takes, and its attempt
    titles = [_title(run_pid(dispatcher, job.id, index)) for index in (0, 1)]
    assert titles == [f"cody-batch run {job.id} {index} (attempt 1)" for index in (0, 1)]
    # AND two new processes take their place, and each of the job's runs still works to its end
    wait_for(lambda: len(dispatcher.waiting_process_ids()) == 2)
    assert not set(dispatcher.waiting_process_ids()) & set(waiting)
    held.answer.set()
    wait_for(lambda: _finished(store, job.id))
    assert [r.status for r in _runs(store, job.id)] == [RunStatus.SUCCEEDED] * 2


def test_closing_the_dispatcher_ends_its_waiting_run_processes(
    store: SqliteStore, make_dispatcher: Callable[..., SubprocessDispatcher]
) -> None:
    # GIVEN a started dispatcher with run processes waiting for work
    dispatcher = make_dispatcher(workers=2)
    dispatcher.start()
    waiting = dispatcher.waiting_process_ids()
    assert len(waiting) == 2
    # WHEN it is closed
    dispatcher.close()
    # THEN none of them is left
    wait_for(lambda: not any(alive(pid) or _group_alive(pid) for pid in waiting))
    assert dispatcher.waiting_process_ids() == []


def test_a_run_process_yields_the_cpu_to_the_server(
    store: SqliteStore, held_runs: Callable[..., tuple[SubprocessDispatcher, Job]]
) -> None:
    # GIVEN a run whose model holds its answer, so its process is alive
    dispatcher, job = held_runs(1)
    pid = dispatcher.process_ids(job.id)[0]
    # THEN it runs RUN_NICENESS nice levels below this (the server's) process
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + RUN_NICENESS)
    # AND it stays in the server's scheduling autogroup (Linux), so that nice value ranks it below
    # the server, and the two keep their share of the machine together
    autogroup = Path(f"/proc/{pid}/autogroup")
    if autogroup.exists():
        assert autogroup.read_text() == Path("/proc/self/autogroup").read_text()
    # AND in a process group of its own, which cancel signals
    assert os.getpgid(pid) == pid
    cancel_job(store, dispatcher, job.id)
    wait_for(lambda: dispatcher.running == 0)


def test_cancel_stops_the_run_and_its_process_group(
    store: SqliteStore, held_runs: Callable[..., tuple[SubprocessDispatcher, Job]]
) -> None:
    # GIVEN a run whose model holds its answer
    dispatcher, job = held_runs(1)
    pgid = dispatcher.process_ids(job.id)[0]
    # WHEN the job is cancelled while the model holds its answer
    cancel_job(store, dispatcher, job.id)
    # THEN the worker's whole process group goes away and the run stays CANCELLED
    wait_for(lambda: not _group_alive(pgid))
    wait_for(lambda: dispatcher.running == 0)
    [run] = _runs(store, job.id)
    assert run.status is RunStatus.CANCELLED
    assert run.error is None and run.patch is None
    stored = store.get_job(job.id)
    assert stored is not None and stored.status is JobStatus.CANCELLED


def test_a_killed_worker_leaves_its_run_failed(
    store: SqliteStore, held_runs: Callable[..., tuple[SubprocessDispatcher, Job]]
) -> None:
    # GIVEN a run in progress, on a server that resumes no run
    dispatcher, job = held_runs(1, max_resumes=0)
    # WHEN its process is killed from outside
    os.killpg(dispatcher.process_ids(job.id)[0], signal.SIGKILL)
    # THEN the dispatcher notices and fails the run with a clear error
    wait_for(lambda: _finished(store, job.id))
    [run] = _runs(store, job.id)
    assert run.status is RunStatus.FAILED
    assert run.error is not None and run.error.kind == "WORKER_DIED"
    assert "SIGKILL" in run.error.message


def test_close_stops_running_runs_and_leaves_them_and_queued_ones_to_resume(
    store: SqliteStore, held_runs: Callable[..., tuple[SubprocessDispatcher, Job]]
) -> None:
    # GIVEN one run working (its first model request in flight) and one waiting for a free slot
    dispatcher, job = held_runs(2, workers=1)
    pid = dispatcher.process_ids(job.id)[0]
    # WHEN the dispatcher is closed (the server shuts down gracefully)
    dispatcher.close()
    # THEN the worker is gone (its group too: a git process it started may take a moment to end on its
    # SIGTERM, or the SIGKILL that follows; and `close` waits for the runs only so long), and neither run
    # was failed: both stay unfinished as stored
    wait_for(lambda: not alive(pid) and not _group_alive(pid))
    runs = _runs(store, job.id)
    assert runs[0].status in {RunStatus.CLONING, RunStatus.RUNNING_AGENT} and runs[1].status is RunStatus.PENDING
    assert [r.error for r in runs] == [None, None]
    # AND the next start puts both back to go on as the same attempt: the working one resumed, the
    # queued one (nothing of it ran) simply started
    settled = settle_orphaned_runs(store, 1)
    assert dict(settled.resumed) == {job.id: [0]} and dict(settled.pending) == {job.id: [1]}
    assert settled.interrupted == 0
