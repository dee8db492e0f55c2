"""Model faults between two turns, through the real SDK against the fake: the run ends SUCCEEDED with
the thread of every finished turn kept, a checkpoint of turn 1, and a patch that applies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.errors import RunErrorKind
from core.models import RunStatus
from core.services.progress import load_thread
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import (
    FakeAnthropic,
    edit,
    overloaded,
    rate_limited,
    server_error,
    text_turn,
    tool_results,
    tool_turn,
)
from tests.integration.worker.conftest import applies_to_fresh_clone, run_all, submit

EDIT = tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')"))


@pytest.mark.parametrize(
    "fault",
    [overloaded(), rate_limited(0.01), server_error()],
    ids=["529 overloaded", "429 retry-after", "500"],
)
def test_a_transient_model_fault_before_turn_two_is_retried_and_nothing_is_lost(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    tmp_path: Path,
    fault: dict[str, Any],
) -> None:
    # GIVEN a model that edits, then fails once, then ends its turn
    origin = make_repo("faulty")
    job = submit(model_settings, store, [origin])
    fake_model.script([EDIT, fault, text_turn("Changed the greeting.")])
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN it succeeded; the failed request was sent again as it was, not as a fresh conversation
    assert run.status is RunStatus.SUCCEEDED
    requests = fake_model.requests
    assert len(requests) == 3 and requests[1].body["messages"] == requests[2].body["messages"]
    assert tool_results(requests[2])
    # AND the thread, the checkpoint of turn 1 and the patch are all there
    thread = load_thread(store, run)
    assert thread is not None and thread.turns == 2
    assert run.checkpoint is not None and run.checkpoint.turn == 1
    assert run.patch is not None
    diff = store.get_artifact(run.patch.artifact_key)
    assert diff is not None
    assert (applies_to_fresh_clone(origin, diff, tmp_path) / "app.py").read_text() == "print('hello')\n"


def test_a_model_fault_past_the_retries_fails_keeping_the_finished_turn_and_its_checkpoint(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a model that edits, then stays overloaded
    job = submit(model_settings, store, [make_repo("down")])
    fake_model.script([EDIT, *[overloaded()] * 10])
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN it fails as MODEL_ERROR, keeping turn 1's thread and checkpoint (a retry starts a new attempt)
    assert run.status is RunStatus.FAILED and run.error is not None
    assert run.error.kind is RunErrorKind.MODEL_ERROR
    thread = load_thread(store, run)
    assert thread is not None and thread.turns == 1
    assert run.checkpoint is not None and run.checkpoint.turn == 1
    checkpoint = store.get_artifact(run.checkpoint.artifact_key)
    assert checkpoint is not None and b"print('hello')" in checkpoint
