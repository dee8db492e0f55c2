"""A run continued while the process that stopped it has not exited yet: that process's end is not the run's.

The worker records a limit (FAILED `TURN_LIMIT`) and only then exits; the user can continue the run in
between (a script running `cody-batch continue` right after `submit --wait`). The process that ends
then belonged to the run before the continuation: its exit must neither resume the continued run again
nor fail it, and the run must get exactly one new process.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

from core.errors import RunErrorKind
from core.models import Budget, ResumeReason, RunStatus
from core.services.continuation import continue_run
from core.services.progress import RunProgress, load_thread
from core.settings import Settings
from server.runtime.dispatcher import SubprocessDispatcher
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.held_turn import SecondTurnHeld
from tests.integration.worker.conftest import submit, wait_for


def test_a_run_continued_before_its_worker_exited_is_neither_resumed_nor_failed_by_that_exit(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    second_turn: SecondTurnHeld,
    make_repo: Callable[..., Path],
    make_dispatcher: Callable[..., SubprocessDispatcher],
) -> None:
    # GIVEN a run whose worker saved turn 1 and waits for turn 2's answer
    fake_model.script([second_turn.step] * 4)
    dispatcher = make_dispatcher()
    job = submit(model_settings, store, [make_repo("a")], dispatcher)
    wait_for(lambda: len(fake_model.requests) == 2)
    [run] = store.get_runs([job.id])[job.id]
    wait_for(lambda: load_thread(store, store.get_run(run.id) or run) is not None)
    pid = dispatcher.process_ids(job.id)[0]
    # AND its turn limit recorded as that worker records it, then the run continued with more turns
    RunProgress(store, run.id, run.attempt, len(run.resumptions)).fail(
        RunErrorKind.TURN_LIMIT, "Claude used its 1 turn without finishing."
    )
    continue_run(store, dispatcher, run.id, Budget(max_turns=10))
    # WHEN the worker that recorded the limit ends only now
    os.killpg(pid, signal.SIGKILL)
    second_turn.released.set()
    wait_for(lambda: _status(store, run.id).finished)
    # THEN the run went on once, as continued: no resumption for the old worker's end, no second process
    final = store.get_run(run.id)
    assert final is not None and final.status is RunStatus.SUCCEEDED, final
    assert [r.reason for r in final.resumptions] == [ResumeReason.CONTINUED]
    assert dispatcher.started == 2  # the first worker, then one for the continued run


def _status(store: SqliteStore, run_id: str) -> RunStatus:
    run = store.get_run(run_id)
    assert run is not None
    return run.status
