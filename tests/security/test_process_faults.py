"""Process faults: a server killed outright, a second server on the same data dir, a retry right
after a cancel. Real `serve` processes, real forkserver workers, the fake model over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.errors import DataDirInUse
from core.models import Job, ResumeReason, RunStatus
from core.services.jobs import cancel_job, retry_runs
from core.services.progress import RunProgress
from core.settings import Settings
from server.runtime.bootstrap import bootstrap
from server.runtime.dispatcher import SubprocessDispatcher
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import (
    FakeAnthropic,
    RecordedRequest,
    slow,
    tool_turn,
    view,
)
from tests.fakes.held_turn import HeldAnswer, greet
from tests.integration.worker.conftest import run_pid, submit, wait_for
from tests.security.processes import (
    alive,
    descendants,
    kill_all,
    open_connections,
    parent,
    signal_helper_threads,
    stopped,
)
from tests.security.serve_process import PATIENCE, SERVE, ServeProcess, create_job, serve_env, stored_runs

CLI = str(Path(sys.executable).parent / "cody-batch")
THINKING = 0.5  # seconds the slow model takes per answer, so a run is mid-call most of the time


def keep_looking(request: RecordedRequest) -> dict[str, Any]:
    """A model that never finishes: it views app.py again, slowly, turn after turn."""
    return slow(tool_turn(view("app.py")), THINKING)


def test_kill_9_of_the_server_ends_its_forkserver_and_runs(
    serve_on_data_dir: Callable[[], ServeProcess], fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a server whose run keeps calling a slow model (it would go on for minutes)
    fake_model.script([keep_looking] * 1000)
    served = serve_on_data_dir()
    create_job(served, [make_repo("a")])
    wait_for(lambda: len(fake_model.requests) >= 2)
    workers = descendants(served.proc.pid)
    assert len(workers) >= 2  # at least the forkserver and the run process
    # WHEN the server is killed outright
    served.kill()
    # THEN every process it started is gone (waited for, not timed)
    wait_for(lambda: not any(alive(pid) for pid in workers), timeout=PATIENCE)
    # AND the model hears nothing more: no connection to it is left open (its side closes each one once
    # it has read all the client sent, so a request sent just before the kill has been read by then)
    model_port = httpx.URL(fake_model.url).port
    assert model_port is not None
    wait_for(lambda: open_connections(model_port) == 0, timeout=PATIENCE)


def test_a_second_serve_on_the_same_data_dir_refuses_and_changes_nothing(
    serve_on_data_dir: Callable[[], ServeProcess],
    fake_model: FakeAnthropic,
    held: HeldAnswer,
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a server with a run in progress (the model answers its first call only when let)
    fake_model.script([held.step, greet])
    served = serve_on_data_dir()
    job_id = create_job(served, [make_repo("a")])
    wait_for(lambda: len(fake_model.requests) == 1)
    # WHEN a second server is started on the same data dir and port
    second = subprocess.run(
        [*SERVE, "--port", str(served.port)],
        env=serve_env(served.data_dir),
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    # THEN it exits non-zero, saying the data dir is in use and by which process
    assert second.returncode != 0
    assert "is in use by another Cody Batch server" in second.stderr
    assert f"(pid {served.proc.pid})" in second.stderr
    # AND the first server's run was not touched: it is still working, then finishes with its patch
    assert stored_runs(served.data_dir, job_id)[0].status is RunStatus.RUNNING_AGENT
    held.answer.set()
    wait_for(lambda: stored_runs(served.data_dir, job_id)[0].status.finished)
    run = stored_runs(served.data_dir, job_id)[0]
    assert (run.status, run.error) == (RunStatus.SUCCEEDED, None)
    assert run.patch is not None
    assert served.proc.poll() is None


def test_the_data_dir_is_free_again_once_the_server_stops(
    serve_on_data_dir: Callable[[], ServeProcess],
) -> None:
    # GIVEN a server that was stopped with Ctrl-C
    first = serve_on_data_dir()
    code, _ = first.stop()
    assert code == 0
    # WHEN another server starts on the same data dir THEN it serves
    again = serve_on_data_dir()
    assert httpx.get(f"http://127.0.0.1:{again.port}/healthz").json() == {"status": "ok"}


@pytest.fixture
def waiting_run(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    make_dispatcher: Callable[[], SubprocessDispatcher],
    held: HeldAnswer,
) -> tuple[SubprocessDispatcher, Job]:
    """A job of one run whose process waits for the model, which answers only the next attempt."""
    fake_model.script([held.step, greet, greet])
    dispatcher = make_dispatcher()
    job = submit(model_settings, store, [make_repo("a")], dispatcher)
    wait_for(lambda: len(fake_model.requests) == 1)
    run_pid(dispatcher, job.id)  # listed by the dispatcher too
    return dispatcher, job


def test_a_retry_right_after_a_cancel_runs_once_the_old_process_is_gone(
    store: SqliteStore, waiting_run: tuple[SubprocessDispatcher, Job]
) -> None:
    # GIVEN a run whose process is waiting for the model
    dispatcher, job = waiting_run
    # WHEN the job is cancelled and the run retried at once, while the old process still exits
    cancel_job(store, dispatcher, job.id)
    [run] = store.get_runs([job.id])[job.id]
    retry_runs(store, dispatcher, job.id, [run.id])
    # THEN the new attempt runs in a new process and succeeds; the old one is not blamed on it
    wait_for(lambda: store.get_runs([job.id])[job.id][0].status.finished and dispatcher.running == 0)
    [run] = store.get_runs([job.id])[job.id]
    assert (run.attempt, run.status, run.error) == (2, RunStatus.SUCCEEDED, None)
    assert [(a.attempt, a.status) for a in run.attempts] == [(1, RunStatus.CANCELLED)]
    assert dispatcher.started == 2


def test_a_second_bootstrap_on_a_locked_data_dir_is_refused_before_it_settles_any_run(
    settings: Settings, store: SqliteStore, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a server's container holding the data dir, and a run its worker is on
    job = submit(settings, store, [make_repo("a")])
    [run] = store.get_runs([job.id])[job.id]
    RunProgress(store, run.id).advance(RunStatus.CLONING, step="clone")
    first = bootstrap(settings)
    try:
        # WHEN a second server is put together on the same data dir
        with pytest.raises(DataDirInUse, match=rf"in use by another Cody Batch server \(pid {os.getpid()}\)"):
            bootstrap(settings)
        # THEN the run is untouched (no start-up recovery ran)
        assert store.get_runs([job.id])[job.id][0].status is RunStatus.CLONING
    finally:
        first.close()
    # AND once the first one has closed, the data dir is free again
    bootstrap(settings).close()


def test_a_killed_forkserver_ends_its_runs_and_they_resume_on_a_new_one(
    store: SqliteStore, waiting_run: tuple[SubprocessDispatcher, Job]
) -> None:
    # GIVEN a run whose process waits for the model
    dispatcher, job = waiting_run
    run_pid = dispatcher.process_ids(job.id)[0]
    # WHEN the forkserver it was forked from is killed outright
    forkserver_pid = parent(run_pid)
    assert forkserver_pid in descendants(os.getpid())  # never anything but our own forkserver
    os.kill(forkserver_pid, signal.SIGKILL)
    # THEN the run process goes too, and the run, instead of waiting forever, is resumed (as the
    # same attempt, from turn 0: nothing had been answered) on a new forkserver and succeeds
    wait_for(lambda: not alive(run_pid))
    wait_for(lambda: store.get_runs([job.id])[job.id][0].status.finished)
    [run] = store.get_runs([job.id])[job.id]
    assert (run.attempt, run.status) == (1, RunStatus.SUCCEEDED)
    assert [(r.reason, r.from_turn) for r in run.resumptions] == [(ResumeReason.RESUMED, 0)]


def test_a_sigterm_a_helper_thread_of_a_run_process_takes_still_ends_the_run_process(
    store: SqliteStore, waiting_run: tuple[SubprocessDispatcher, Job], held: HeldAnswer
) -> None:
    # GIVEN a run whose process waits for the model in its main thread, other threads beside it (its clone's)
    dispatcher, job = waiting_run
    run_pid = dispatcher.process_ids(job.id)[0]
    # WHEN SIGTERM reaches its helper threads only, as the kernel may hand a signal for the process (its
    # forkserver's death signal, a cancel) to whichever thread does not block it
    assert signal_helper_threads(run_pid, signal.SIGTERM)
    # THEN the process ends with the model's answer still held back: its main thread left the model call
    wait_for(lambda: not alive(run_pid))
    assert not held.answered.is_set()
    # AND the run is resumed on a new process (from turn 0: nothing had been answered) and succeeds
    wait_for(lambda: store.get_runs([job.id])[job.id][0].status.finished)
    [run] = store.get_runs([job.id])[job.id]
    assert (run.attempt, run.status) == (1, RunStatus.SUCCEEDED)
    assert [(r.reason, r.from_turn) for r in run.resumptions] == [(ResumeReason.RESUMED, 0)]


def test_a_sigterm_a_helper_thread_of_a_batch_child_takes_is_recorded_on_its_run(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    held: HeldAnswer,
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a run worked by `worker run`, as a Batch child works it, waiting for the model in its main thread
    fake_model.script([held.step])
    job = submit(model_settings, store, [make_repo("a")])
    env = {
        **os.environ,
        "CODY_BATCH_DATA_DIR": str(model_settings.data_dir),
        "CODY_BATCH_ALLOWED_REPOS": ",".join(model_settings.allowed_repos),
        "ANTHROPIC_API_KEY": fake_model.api_key,
        "ANTHROPIC_BASE_URL": fake_model.url,
    }
    child = subprocess.Popen([CLI, "worker", "run", job.id, "--repo", "0"], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: len(fake_model.requests) == 1 or child.poll() is not None)
        assert child.poll() is None
        # WHEN Batch's SIGTERM (a timeout, a Spot reclaim) reaches its helper threads only
        assert signal_helper_threads(child.pid, signal.SIGTERM)
        # THEN it exits 143 with the model's answer still held back, the stop recorded on the run
        assert child.wait(timeout=PATIENCE) == 128 + signal.SIGTERM
        assert not held.answered.is_set()
    finally:
        child.kill()
        child.wait()
    [run] = store.get_runs([job.id])[job.id]
    assert run.status is RunStatus.FAILED and run.error is not None and run.error.kind == "TERMINATED"


# A stand-in forkserver: it forks a run process that stops itself before it asks to die with its parent,
# then waits to be killed. The run process's order pipe is the descriptor given as the argument.
FORKSERVER = """
import os, signal, sys
from multiprocessing.connection import Connection
from core.settings import Settings
from server.runtime.run_process import note_forkserver, serve_one_run
note_forkserver()
child = os.fork()
if child == 0:
    os.kill(os.getpid(), signal.SIGSTOP)
    serve_one_run(Settings(), Connection(int(sys.argv[1]), writable=False))
    os._exit(0)
print(child, flush=True)
signal.pause()
"""


def test_a_run_process_whose_forkserver_died_before_it_was_tied_to_it_exits(settings: Settings) -> None:
    # GIVEN a run process just forked, held before it asks the kernel to end it with its forkserver, and its
    # order pipe still open (an order could come)
    reader, writer = os.pipe()
    forkserver = subprocess.Popen(
        [sys.executable, "-c", FORKSERVER, str(reader)],
        pass_fds=(reader,),
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "CODY_BATCH_DATA_DIR": str(settings.data_dir)},
        cwd=Path(__file__).parents[2],
    )
    os.close(reader)
    assert forkserver.stdout is not None
    child = int(forkserver.stdout.readline())
    try:
        wait_for(lambda: stopped(child))
        # WHEN the forkserver is killed outright, and only then the run process goes on
        forkserver.kill()
        forkserver.wait(timeout=PATIENCE)
        os.kill(child, signal.SIGCONT)
        # THEN it exits (its death signal can never come) instead of waiting for an order for nobody
        wait_for(lambda: not alive(child))
    finally:
        kill_all({child})
        forkserver.kill()
        forkserver.wait()
        os.close(writer)
