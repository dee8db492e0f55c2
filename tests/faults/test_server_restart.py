"""`kill -9` of the server (or a graceful stop, SIGTERM or Ctrl-C) while a 5-repository job is in its second
turn, then a restart; or `kill -9` of one of its run processes: the job ends SUCCEEDED with no user action,
and the model is never asked again for a turn it had answered."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.models import JobStatus, ResumeReason, RunStatus
from core.services.recovery import ORPHANED_CAUSE
from tests.fakes.anthropic_server import FakeAnthropic, RecordedRequest, tool_results
from tests.fakes.held_turn import SecondTurnHeld
from tests.integration.worker.conftest import wait_for
from tests.security.processes import alive, connected_to, descendants
from tests.security.serve_process import PATIENCE, ServeProcess, create_job, stored_job_status, stored_runs

REPOSITORIES = 5


@dataclass
class InTurnTwo:
    """A server working a 5-repository job, every run waiting for the answer to its second turn."""

    served: ServeProcess
    job_id: str
    model: FakeAnthropic

    def turn_two(self) -> list[RecordedRequest]:
        """The model requests of turn 2 so far (those carrying a tool result)."""
        return [r for r in self.model.requests if tool_results(r)]

    def status(self) -> JobStatus | None:
        return stored_job_status(self.served.data_dir, self.job_id)


@pytest.fixture
def in_turn_two(
    serve_on_data_dir: Callable[[], ServeProcess],
    fake_model: FakeAnthropic,
    second_turn: SecondTurnHeld,
    make_repo: Callable[..., Path],
) -> InTurnTwo:
    fake_model.script([second_turn.step] * 4 * REPOSITORIES)
    served = serve_on_data_dir()
    job_id = create_job(served, [make_repo(f"repo{i}") for i in range(REPOSITORIES)])
    scene = InTurnTwo(served, job_id, fake_model)
    wait_for(lambda: len(scene.turn_two()) == REPOSITORIES)
    return scene


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_server_stopped_in_turn_two_then_restarted_ends_the_job_succeeded(
    stop: signal.Signals,
    in_turn_two: InTurnTwo,
    serve_on_data_dir: Callable[[], ServeProcess],
    second_turn: SecondTurnHeld,
) -> None:
    # GIVEN a server working a 5-repository job, every run waiting for the answer to its second turn
    served, job_id = in_turn_two.served, in_turn_two.job_id
    # WHEN the server is killed outright (its workers die with it), or stopped as a user or a service
    # manager stops it (its workers are stopped first), and started again on the same data dir
    workers = descendants(served.proc.pid)
    served.proc.send_signal(stop)
    code = served.proc.wait(timeout=PATIENCE)
    wait_for(lambda: not any(alive(pid) for pid in workers))
    assert code == (-signal.SIGKILL if stop is signal.SIGKILL else 0)
    second_turn.released.set()
    restarted = serve_on_data_dir()
    wait_for(lambda: stored_job_status(restarted.data_dir, job_id) is JobStatus.SUCCEEDED, timeout=2 * PATIENCE)
    # THEN every run succeeded, resumed once from turn 1 as the same attempt
    runs = stored_runs(restarted.data_dir, job_id)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * REPOSITORIES
    assert all(r.attempt == 1 for r in runs)
    resumed = [[(x.reason, x.from_turn) for x in r.resumptions] for r in runs]
    assert resumed == [[(ResumeReason.RESUMED, 1)]] * REPOSITORIES
    assert {x.cause for r in runs for x in r.resumptions} == {ORPHANED_CAUSE}
    assert all(r.patch is not None and [f.path for f in r.patch.files] == ["app.py"] for r in runs)
    # AND turn 1 was asked once per repository: no answered turn was asked again
    assert sum(1 for r in in_turn_two.model.requests if not tool_results(r)) == REPOSITORIES
    assert len(in_turn_two.turn_two()) == 2 * REPOSITORIES


def test_one_run_process_killed_in_turn_two_is_resumed_and_the_job_succeeds(
    in_turn_two: InTurnTwo, second_turn: SecondTurnHeld
) -> None:
    # GIVEN a server working a 5-repository job, every run waiting for the answer to its second turn
    served, job_id = in_turn_two.served, in_turn_two.job_id
    # WHEN one run process is killed outright, as the OOM killer would: one holding a connection to the model
    # (the processes forked ahead to wait for runs hold none; their pids need not be higher, as pids wrap)
    model_port = httpx.URL(in_turn_two.model.url).port
    assert model_port is not None
    victim = min(connected_to(model_port) & descendants(served.proc.pid))
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(in_turn_two.turn_two()) == REPOSITORIES + 1)
    second_turn.released.set()
    wait_for(lambda: in_turn_two.status() is JobStatus.SUCCEEDED, timeout=2 * PATIENCE)
    # THEN the job succeeded on the same server: that one run resumed from turn 1 as the same attempt
    runs = stored_runs(served.data_dir, job_id)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * REPOSITORIES
    assert all(r.attempt == 1 for r in runs)
    resumed = sorted([(x.reason, x.from_turn, x.cause) for x in r.resumptions] for r in runs)
    assert resumed == [[]] * (REPOSITORIES - 1) + [
        [(ResumeReason.RESUMED, 1, "the worker process was killed by SIGKILL")]
    ]
    assert all(r.patch is not None and [f.path for f in r.patch.files] == ["app.py"] for r in runs)
    # AND turn 1 was asked once per repository; the cut-off turn 2 was sent again once, exactly as before
    assert sum(1 for r in in_turn_two.model.requests if not tool_results(r)) == REPOSITORIES
    bodies = [json.dumps(_without_cache_marks(r.body), sort_keys=True) for r in in_turn_two.turn_two()]
    assert (len(bodies), len(set(bodies))) == (REPOSITORIES + 1, REPOSITORIES)


def _without_cache_marks(value: Any) -> Any:
    """A request body without its prompt-caching marks (where they sit moves as the thread grows)."""
    if isinstance(value, dict):
        return {k: _without_cache_marks(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_marks(v) for v in value]
    return value
