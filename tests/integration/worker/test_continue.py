"""Continue a run a limit stopped: the same attempt goes on from its thread and checkpoint, no turn asked twice."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.errors import InputError, RunErrorKind
from core.models import Budget, ResumeReason, RunStatus
from core.services.continuation import continue_run
from core.services.progress import load_thread
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, edit, text_turn, tool_turn, view
from tests.fakes.dispatcher import RecordingDispatcher
from tests.integration.worker.conftest import applies_to_fresh_clone, run_all, submit


def test_a_run_stopped_by_its_turn_limit_continues_from_its_thread_to_succeeded(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    # GIVEN a run limited to 2 turns that edits in turn 1, looks in turn 2, and so stops at its turn limit
    origin = make_repo("limited")
    job = submit(model_settings, store, [origin], budget=Budget(max_turns=2))
    fake_model.script(
        [
            tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")),
            tool_turn(view("app.py")),
        ]
    )
    [stopped] = run_all(model_settings, store, job)
    assert stopped.status is RunStatus.FAILED and stopped.error is not None
    assert stopped.error.kind is RunErrorKind.TURN_LIMIT
    before = load_thread(store, stopped)
    assert before is not None and before.turns == 2
    usage_before = stopped.usage
    # WHEN it is continued with 4 turns and worked again
    dispatcher = RecordingDispatcher()
    continue_run(store, dispatcher, stopped.id, Budget(max_turns=4))
    assert dispatcher.dispatched == [(job.id, [0])]
    fake_model.script([text_turn("Changed the greeting to hello.")])
    [run] = run_all(model_settings, store, job)
    # THEN it succeeded as the same attempt, recording that it went on from turn 2
    assert run.status is RunStatus.SUCCEEDED and run.error is None
    assert run.attempt == 1 and run.attempts == []
    assert [(r.reason, r.from_turn) for r in run.resumptions] == [(ResumeReason.CONTINUED, 2)]
    # AND the model got exactly one more request, carrying the whole stored thread: no turn asked twice
    requests = fake_model.requests
    assert len(requests) == 3
    stored = [{"role": m.role, "content": m.content} for m in before.messages]
    sent = requests[2].body["messages"]
    assert [m["role"] for m in sent] == [m["role"] for m in stored]
    assert _texts(sent) == _texts(stored)
    # AND the patch holds the turn-1 edit restored from the checkpoint, and usage added up
    assert run.patch is not None
    diff = store.get_artifact(run.patch.artifact_key)
    assert diff is not None
    assert (applies_to_fresh_clone(origin, diff, tmp_path) / "app.py").read_text() == "print('hello')\n"
    thread = load_thread(store, run)
    assert thread is not None and thread.turns == 3
    assert run.usage.total_tokens > usage_before.total_tokens
    assert run.usage == thread.usage


def test_a_run_stopped_by_its_budget_runs_the_tools_of_its_last_reply_first(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a run whose first reply (an edit) already goes over its cost budget, so its tool never ran
    job = submit(model_settings, store, [make_repo("costly")], budget=Budget(max_cost_usd=0.001))
    fake_model.script([tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')"))])
    [stopped] = run_all(model_settings, store, job)
    assert stopped.error is not None and stopped.error.kind is RunErrorKind.BUDGET
    # WHEN it is continued with a larger budget
    continue_run(store, RecordingDispatcher(), stopped.id, Budget(max_cost_usd=1.0))
    fake_model.script([text_turn("Changed the greeting.")])
    [run] = run_all(model_settings, store, job)
    # THEN the stored reply's edit was made, and the next request answers it with its tool result
    assert run.status is RunStatus.SUCCEEDED
    assert run.patch is not None and [f.path for f in run.patch.files] == ["app.py"]
    last_request = fake_model.requests[-1].body["messages"]
    assert last_request[-1]["role"] == "user"
    assert last_request[-1]["content"][0]["type"] == "tool_result"
    assert len(fake_model.requests) == 2


def test_a_run_stopped_by_its_jobs_cost_limit_goes_on_only_under_a_higher_job_limit(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a server whose job cost limit the run's first reply already goes over
    tight = model_settings.model_copy(update={"max_job_cost_usd": 0.001})
    job = submit(tight, store, [make_repo("shared")])
    fake_model.script([tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')"))])
    [stopped] = run_all(tight, store, job)
    # THEN the run says the job's limit stopped it, not its own
    assert stopped.error is not None and stopped.error.kind is RunErrorKind.JOB_BUDGET
    assert "The job cost" in stopped.error.message
    # WHEN it is continued with only a higher run limit THEN that is refused, naming the job's limit; nothing changes
    dispatcher = RecordingDispatcher()
    with pytest.raises(InputError, match="stopped by its job's cost limit") as refused:
        continue_run(store, dispatcher, stopped.id, Budget(max_cost_usd=1.0))
    assert refused.value.field == "maxJobCostUsd"
    assert store.get_run(stopped.id) == stopped and dispatcher.dispatched == []
    # WHEN it is continued with a higher job limit and worked again under the same server settings
    continue_run(store, dispatcher, stopped.id, Budget(), max_job_cost_usd=1.0)
    fake_model.script([text_turn("Changed the greeting.")])
    [run] = run_all(tight, store, job)
    # THEN it went on to SUCCEEDED, the job keeping its new limit
    assert run.status is RunStatus.SUCCEEDED and run.error is None
    assert [(r.reason, r.from_turn) for r in run.resumptions] == [(ResumeReason.CONTINUED, 1)]
    stored = store.get_job(job.id)
    assert stored is not None and stored.max_job_cost_usd == 1.0
    assert len(fake_model.requests) == 2


def test_only_a_run_stopped_by_a_limit_can_be_continued(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a run that succeeded
    job = submit(model_settings, store, [make_repo("done")])
    fake_model.script(
        [
            tool_turn(edit("str_replace", "app.py", old_str="print('hi')", new_str="print('hello')")),
            text_turn("Done."),
        ]
    )
    [run] = run_all(model_settings, store, job)
    dispatcher = RecordingDispatcher()
    # WHEN it is continued, THEN that is an input error that changes nothing
    with pytest.raises(InputError, match="only a run stopped by its budget"):
        continue_run(store, dispatcher, run.id, Budget(max_turns=10))
    assert store.get_run(run.id) == run
    assert dispatcher.dispatched == []


def _texts(messages: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Each message's content blocks without the prompt-cache breakpoint the request adds."""
    return [[{k: v for k, v in block.items() if k != "cache_control"} for block in m["content"]] for m in messages]
