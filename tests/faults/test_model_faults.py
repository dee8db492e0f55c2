"""Model faults between two turns, through the real SDK against the fake: the run ends SUCCEEDED with
the thread of every finished turn kept, a checkpoint of turn 1, and a patch that applies; or, past
the SDK's retries, FAILED `MODEL_ERROR` keeping the same. Malformed tool input is Claude's to correct."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import anthropic
import pytest

from core.errors import RunErrorKind
from core.models import RepositoryRun, RunStatus
from core.services.progress import load_thread
from core.settings import Settings
from server.runtime.worker_command import worker_ports
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import (
    EDITOR,
    FakeAnthropic,
    RecordedRequest,
    Step,
    cut_off,
    edit,
    overloaded,
    rate_limited,
    server_error,
    text_turn,
    tool_results,
    tool_turn,
    tool_use,
)
from tests.integration.worker.conftest import applies_to_fresh_clone, run_all, submit, wait_for
from tests.patience import PATIENCE
from tests.security.processes import hung_up
from worker.agent.client import MAX_RETRIES
from worker.pipeline import WorkerPorts

EDIT = tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')"))
# The SDK's request timeout for the timeout row (the product's is minutes): the reply kept back until the
# client gives up outlasts it; the row's other answers, from this very process, come well within it even
# on a loaded machine. The other rows keep the product's timeout: nothing of theirs is meant to time out.
TIMEOUT = 15.0


def too_late(request: RecordedRequest) -> dict[str, Any]:
    """A reply the SDK times out on: kept back until the client has hung up (whatever the load, not for a
    fixed time that a slow client might outwait), then sent to no one."""
    port = int(request.headers["host"].rsplit(":", 1)[1])
    wait_for(lambda: hung_up(port), timeout=PATIENCE)
    return text_turn("Too late.")


def impatient(settings: Settings, store: SqliteStore) -> WorkerPorts:
    """The worker's ports with the real SDK client as the product builds it, but a short request timeout."""
    assert settings.anthropic_api_key is not None
    client = lambda: anthropic.Anthropic(  # noqa: E731
        api_key=settings.anthropic_api_key.get_secret_value(),  # type: ignore[union-attr]
        base_url=settings.anthropic_base_url,
        max_retries=MAX_RETRIES,
        timeout=TIMEOUT,
    )
    return replace(worker_ports(settings, store), client_factory=client)


@pytest.fixture
def work_one(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> Callable[..., RepositoryRun]:
    """Work one run over a fresh repository, the model scripted with `steps` (through `ports` when given)."""

    def work(steps: list[Step], ports: Callable[..., WorkerPorts] | None = None) -> RepositoryRun:
        job = submit(model_settings, store, [make_repo("greeter")])
        fake_model.script(steps)
        [run] = run_all(model_settings, store, job, ports(model_settings, store) if ports else None)
        return run

    return work


def assert_greeting_patch(store: SqliteStore, run: RepositoryRun, workdir: Path) -> None:
    """The run's patch changes app.py alone, and applies to a fresh clone of its repository to say hello."""
    assert run.patch is not None and [f.path for f in run.patch.files] == ["app.py"]
    diff = store.get_artifact(run.patch.artifact_key)
    assert diff is not None
    fresh = applies_to_fresh_clone(Path(run.location), diff, workdir)
    assert (fresh / "app.py").read_text() == "print('hello')\n"


def assert_kept_turn_one(store: SqliteStore, run: RepositoryRun) -> None:
    """The run failed as MODEL_ERROR, keeping turn 1's thread and checkpoint (a retry starts a new attempt)."""
    assert run.status is RunStatus.FAILED and run.error is not None
    assert run.error.kind is RunErrorKind.MODEL_ERROR
    thread = load_thread(store, run)
    assert thread is not None and thread.turns == 1
    assert run.checkpoint is not None and run.checkpoint.turn == 1
    checkpoint = store.get_artifact(run.checkpoint.artifact_key)
    assert checkpoint is not None and b"print('hello')" in checkpoint


@pytest.mark.parametrize(
    "fault",
    [
        overloaded(),
        rate_limited(0.01),
        server_error(),
        too_late,
        cut_off(text_turn("Changed the greeting.")),
        cut_off(overloaded()),
    ],
    ids=["529 overloaded", "429 retry-after", "500", "timeout", "connection cut mid-reply", "cut mid-error"],
)
def test_a_transient_model_fault_before_turn_two_is_retried_and_nothing_is_lost(
    work_one: Callable[..., RepositoryRun],
    store: SqliteStore,
    fake_model: FakeAnthropic,
    tmp_path: Path,
    fault: Step,
) -> None:
    # GIVEN a model that edits, then fails once, then ends its turn
    # WHEN the run is worked
    run = work_one([EDIT, fault, text_turn("Changed the greeting.")], impatient if fault is too_late else None)
    # THEN it succeeded; the failed request was sent again as it was, not as a fresh conversation
    assert run.status is RunStatus.SUCCEEDED
    requests = fake_model.requests
    assert len(requests) == 3 and requests[1].body["messages"] == requests[2].body["messages"]
    assert tool_results(requests[2])
    # AND the thread, the checkpoint of turn 1 and the patch are all there
    thread = load_thread(store, run)
    assert thread is not None and thread.turns == 2
    assert run.checkpoint is not None and run.checkpoint.turn == 1
    assert_greeting_patch(store, run, tmp_path)


def test_a_model_fault_past_the_retries_fails_keeping_the_finished_turn_and_its_checkpoint(
    work_one: Callable[..., RepositoryRun], store: SqliteStore
) -> None:
    # GIVEN a model that edits, then stays overloaded
    # WHEN the run is worked
    run = work_one([EDIT, *[overloaded()] * 10])
    # THEN it fails as MODEL_ERROR, keeping turn 1's thread and checkpoint
    assert_kept_turn_one(store, run)


def test_a_connection_cut_past_the_retries_fails_keeping_the_finished_turn(
    work_one: Callable[..., RepositoryRun], store: SqliteStore, fake_model: FakeAnthropic
) -> None:
    # GIVEN a model that edits, then drops every connection halfway through its reply
    # WHEN the run is worked
    run = work_one([EDIT, *[cut_off(text_turn("Changed."))] * (MAX_RETRIES + 1)])
    # THEN it fails as MODEL_ERROR saying the API could not be reached, keeping turn 1 and its checkpoint
    assert_kept_turn_one(store, run)
    assert run.error is not None and "Could not reach the Anthropic API" in run.error.message
    assert len(fake_model.requests) == 1 + MAX_RETRIES + 1 and fake_model.remaining == 0


@pytest.mark.parametrize(
    ("call", "said"),
    [
        (tool_use(EDITOR, {"path": "app.py"}), "Unknown command None"),
        (tool_use(EDITOR, {"command": "view", "path": 42}), "A non-empty `path` is required."),
        (edit("str_replace", "app.py", new_str="print('hello')"), "`old_str` is required"),
        (edit("str_replace", "app.py", old_str="print('hi')", new_str=[]), "`new_str` must be a string"),
        (edit("insert", "app.py", insert_line="1", new_str="x"), "Invalid `insert_line` '1'"),
        (edit("create", "app.py", file_text={"print": "hello"}), "`file_text` is required"),
        (edit("create", "new.py", file_text="\ud800"), "not valid Unicode"),
        (edit("view", "\ud800.py"), "not valid Unicode"),
        (tool_use("bash", {"command": "sed -i s/hi/hello/ app.py"}), "There is no tool named 'bash'"),
    ],
    ids=[
        "no command",
        "path not a string",
        "no old_str",
        "new_str an empty list",
        "line a string",
        "text an object",
        "surrogate in text",
        "surrogate in path",
        "bash",
    ],
)
def test_malformed_tool_input_is_answered_as_an_error_and_changes_nothing(
    work_one: Callable[..., RepositoryRun],
    store: SqliteStore,
    fake_model: FakeAnthropic,
    tmp_path: Path,
    call: dict[str, Any],
    said: str,
) -> None:
    # GIVEN a model whose first tool call does not match the tool's schema, then corrects itself
    # WHEN the run is worked
    run = work_one([tool_turn(call), EDIT, text_turn("Changed the greeting.")])
    # THEN the bad call was answered with an error result saying what was wrong, and changed nothing
    assert run.status is RunStatus.SUCCEEDED, run.error
    [result] = tool_results(fake_model.requests[1])
    assert result["is_error"] is True and said in str(result["content"]), result
    # AND the corrected call's edit is the whole patch, and the thread holds all three turns
    thread = load_thread(store, run)
    assert thread is not None and thread.turns == 3
    assert_greeting_patch(store, run, tmp_path)
