"""A run process names its run in `ps`, so a person can tell which process works which run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from core.services.jobs import cancel_job
from core.settings import Settings
from server.runtime.dispatcher import SubprocessDispatcher
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, slow
from tests.fakes.held_turn import greet
from tests.integration.worker.conftest import run_pid, submit, wait_for


def command_line(pid: int) -> str:
    """What `ps -o args` shows for `pid`."""
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def test_each_run_process_shows_its_job_index_and_attempt_and_a_waiting_one_says_so(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    make_dispatcher: Callable[..., SubprocessDispatcher],
) -> None:
    # GIVEN a started dispatcher whose run processes wait for work
    dispatcher = make_dispatcher(workers=3, max_repositories=2)
    dispatcher.start()
    waiting = dispatcher.waiting_process_ids()
    wait_for(lambda: all(command_line(pid).endswith("(waiting for a run)") for pid in waiting))
    assert {command_line(pid) for pid in waiting} == {"cody-batch run (waiting for a run)"}
    # WHEN a job of two repositories is dispatched, its model slow to answer so both processes stay alive
    fake_model.script([lambda request: slow(greet(request), 3.0)] * 4)
    job = submit(model_settings, store, [make_repo(n) for n in ("a", "b")])
    dispatcher.dispatch(job.id, [0, 1])
    wait_for(lambda: len(fake_model.requests) == 2)
    # THEN each working process names the job, the repository index `cody-batch continue` takes, and the attempt
    titles = {index: command_line(run_pid(dispatcher, job.id, index)) for index in (0, 1)}
    assert titles == {index: f"cody-batch run {job.id} {index} (attempt 1)" for index in (0, 1)}
    cancel_job(store, dispatcher, job.id)
    wait_for(lambda: dispatcher.running == 0)
