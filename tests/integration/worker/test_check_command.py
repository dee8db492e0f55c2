"""A job's check command, run before and after the change, with fix rounds fed back to Claude."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.models import EventKind, RunStatus, Verdict
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, edit, text_turn, tool_turn
from tests.integration.worker.conftest import greeting_edit, run_all, submit


@pytest.fixture
def command_settings(model_settings: Settings) -> Settings:
    return model_settings.model_copy(update={"allow_commands": True, "fix_rounds": 1})


@pytest.mark.parametrize(
    ("check", "verdict", "fix_rounds"),
    [
        ("grep -q hello app.py", Verdict.VERIFIED, 0),
        ("grep -q hi app.py", Verdict.REGRESSED, 1),
        ("echo always broken; false", Verdict.PRE_EXISTING_FAILURE, 1),
    ],
)
def test_check_command_verdict(
    command_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    check: str,
    verdict: Verdict,
    fix_rounds: int,
) -> None:
    # GIVEN a job with a check command and a model that edits once, then answers any feedback in words
    job = submit(command_settings, store, [make_repo("checked")], check_command=check)
    fake_model.script([*greeting_edit(), text_turn("That failure is unrelated to my change.")])
    # WHEN the run is worked
    [run] = run_all(command_settings, store, job)
    # THEN the verdict follows the check before and after, and the patch is still kept
    assert run.status is RunStatus.SUCCEEDED
    assert run.validation is not None and run.validation.verdict is verdict
    assert run.patch is not None
    # AND a failure after the change went back to Claude for the allowed number of rounds
    feedback = [r for r in fake_model.requests if "check command" in str(r.body["messages"][-1]["content"])]
    assert len(feedback) == fix_rounds
    if fix_rounds:
        assert f"`{check}` failed" in str(feedback[0].body["messages"][-1]["content"])


def test_fix_round_repairs_a_failing_check(
    command_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a check the first edit does not satisfy, and a model that fixes it when told
    job = submit(command_settings, store, [make_repo("fixable")], check_command="grep -q 'hello world' app.py")
    fake_model.script(
        [
            *greeting_edit(),
            tool_turn(edit("str_replace", "app.py", old_str="print('hello')", new_str="print('hello world')")),
            text_turn("Now it says hello world."),
        ]
    )
    # WHEN the run is worked
    [run] = run_all(command_settings, store, job)
    # THEN the fixed change is verified, and the run went back to the agent once
    assert run.validation is not None and run.validation.verdict is Verdict.VERIFIED
    assert run.summary == "Now it says hello world."
    statuses = [e.new_value for e in store.list_events(job.id, limit=1000) if e.kind is EventKind.STATUS and e.run_id]
    assert statuses == ["CLONING", "RUNNING_AGENT", "VALIDATING", "RUNNING_AGENT", "VALIDATING", "SUCCEEDED"]


def test_check_command_is_ignored_when_commands_are_off(
    command_settings: Settings,
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a job stored with a check command, worked by a worker where commands are disabled
    job = submit(command_settings, store, [make_repo("nocmd")], check_command="false")
    fake_model.script(greeting_edit())
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN the command never ran: the change is unverified
    assert run.validation is not None and run.validation.verdict is Verdict.UNVERIFIED
    assert run.status is RunStatus.SUCCEEDED
