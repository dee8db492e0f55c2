"""The pipeline end to end in-process: real git repos, the real SDK against a fake Claude over HTTP."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from core.models import EventKind, JobKind, JobStatus, RunStatus, Verdict
from core.services.progress import load_thread
from core.settings import Settings
from server.runtime.worker_command import worker_ports
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, server_error, text_turn, tool_turn, view
from tests.integration.worker.conftest import applies_to_fresh_clone, greeting_edit, run_all, submit
from worker.pipeline import run_repository


def test_job_over_three_repositories_succeeds_with_patches_that_apply(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    # GIVEN three repositories and a model that edits each
    repos = [make_repo(name) for name in ("one", "two", "three")]
    job = submit(model_settings, store, repos)
    fake_model.script(greeting_edit() * 3)
    # WHEN every run is worked
    runs = run_all(model_settings, store, job)
    # THEN each run succeeded with a patch that applies to a fresh clone of its repository
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 3
    for run, origin in zip(runs, repos, strict=True):
        assert run.patch is not None and [f.path for f in run.patch.files] == ["app.py"]
        assert run.summary == "Changed the greeting to hello."
        diff = store.get_artifact(run.patch.artifact_key)
        assert diff is not None
        fresh = applies_to_fresh_clone(origin, diff, tmp_path)
        assert (fresh / "app.py").read_text() == "print('hello')\n"
        # AND the thread, usage and cost were stored
        thread = load_thread(store, run)
        assert thread is not None and thread.turns == 2
        assert run.usage.total_tokens > 0 and run.usage.cost_usd > 0
        assert run.validation is not None and run.validation.verdict is Verdict.UNVERIFIED
    # AND the job finished, with TURN events and the steps recorded as they happened
    stored = store.get_job(job.id)
    assert stored is not None and stored.status is JobStatus.SUCCEEDED
    events = store.list_events(job.id, limit=1000)
    assert sum(1 for e in events if e.kind is EventKind.TURN) == 6
    steps = [e.new_value for e in events if e.kind is EventKind.STEP and e.run_id == runs[0].id]
    assert steps == ["clone", "agent", "validate", "patch"]


def test_model_that_edits_nothing_ends_no_changes(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a model that only looks and answers
    job = submit(model_settings, store, [make_repo("calm")])
    fake_model.script([tool_turn(view("app.py")), text_turn("Nothing to change.")])
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN it ends NO_CHANGES without a patch or a workspace checkpoint, keeping the summary
    assert run.status is RunStatus.NO_CHANGES
    assert run.patch is None and run.checkpoint is None
    assert store.get_artifact(f"checkpoints/{run.id}/{run.attempt}.diff") is None
    assert run.summary == "Nothing to change."


def test_analyze_job_reports_without_a_patch(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN an ANALYZE job
    job = submit(model_settings, store, [make_repo("read")], kind=JobKind.ANALYZE, prompt="What does it print?")
    fake_model.script([tool_turn(view("app.py")), text_turn("It prints hi.")])
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN the report is the summary, there is no patch, and the model was offered only reading
    assert run.status is RunStatus.SUCCEEDED
    assert run.summary == "It prints hi."
    assert run.patch is None
    assert [t["name"] for t in fake_model.requests[0].body["tools"]] == ["str_replace_based_edit_tool"]


def test_budget_exceeded_fails_with_kind_budget(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a job whose cost budget is smaller than one turn
    job = submit(model_settings, store, [make_repo("pricey")], budget={"max_cost_usd": 0.000001})
    fake_model.script(greeting_edit())
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN it fails as BUDGET, with what was spent recorded
    assert run.status is RunStatus.FAILED
    assert run.error is not None and run.error.kind == "BUDGET"
    assert run.usage.cost_usd > 0


def test_model_errors_after_retries_fail_with_model_error(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a model endpoint that keeps failing
    job = submit(model_settings, store, [make_repo("down")])
    fake_model.script([server_error()] * 10)
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN the SDK's bounded retries end in MODEL_ERROR
    assert run.status is RunStatus.FAILED
    assert run.error is not None and run.error.kind == "MODEL_ERROR"
    assert 1 < len(fake_model.requests) < 10


def test_missing_api_key_fails_at_once_with_configuration(
    settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN no API key and no demo mode
    job = submit(settings, store, [make_repo("nokey")])
    # WHEN the run is worked
    [run] = run_all(settings, store, job)
    # THEN it fails as CONFIGURATION before cloning, saying how to set the key
    assert run.status is RunStatus.FAILED
    assert run.error is not None and run.error.kind == "CONFIGURATION"
    assert "export ANTHROPIC_API_KEY" in run.error.message
    assert run.step is None
    assert fake_model.requests == []


def test_repository_gone_before_the_run_fails_the_clone(
    model_settings: Settings, store: SqliteStore, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a job whose repository disappears before the worker starts
    origin = make_repo("vanished")
    job = submit(model_settings, store, [origin])
    shutil.rmtree(origin)
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job)
    # THEN it fails while cloning, naming the repository
    assert run.status is RunStatus.FAILED
    assert run.error is not None and run.error.kind == "CLONE_FAILED"
    assert "vanished" in run.error.message
    assert run.step == "clone"


def test_an_empty_repository_fails_under_the_clone_step(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, repos_dir: Path
) -> None:
    # GIVEN a repository with no commits, and a model that answers at once
    empty = repos_dir / "empty"
    empty.mkdir()
    subprocess.run(["git", "init", "-q", empty], check=True)
    fake_model.script([text_turn("Nothing to do.")])
    job = submit(model_settings, store, [empty])
    # WHEN the run is worked (Claude's first call starts while the clone runs)
    [run] = run_all(model_settings, store, job)
    # THEN it fails as an empty repository, recorded under the clone step, not the agent's
    assert run.status is RunStatus.FAILED
    assert run.error is not None and run.error.kind == "EMPTY_REPOSITORY"
    assert run.step == "clone"


def test_unexpected_exception_fails_as_internal(
    model_settings: Settings, store: SqliteStore, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a worker whose model client cannot be built
    job = submit(model_settings, store, [make_repo("boom")])

    def broken_client() -> object:
        raise RuntimeError("no sockets left")

    ports = replace(worker_ports(model_settings, store), client_factory=broken_client)  # type: ignore[arg-type]
    # WHEN the run is worked
    [run] = run_all(model_settings, store, job, ports)
    # THEN the run is not stuck: it failed as INTERNAL with the reason
    assert run.status is RunStatus.FAILED
    assert run.error is not None and run.error.kind == "INTERNAL"
    assert "no sockets left" in run.error.message


def test_per_job_budget_counts_what_other_runs_spent(
    model_settings: Settings, store: SqliteStore, fake_model: FakeAnthropic, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a job whose first run has already spent money
    job = submit(model_settings, store, [make_repo("a"), make_repo("b")])
    fake_model.script(greeting_edit() * 2)
    ports = worker_ports(model_settings, store)
    run_repository(ports, job.id, 0)
    spent = store.get_runs([job.id])[job.id][0].usage.cost_usd
    # WHEN the second run works under a job budget below that spend
    tight = model_settings.model_copy(update={"max_job_cost_usd": spent / 2})
    requests_before = len(fake_model.requests)
    run_repository(worker_ports(tight, store), job.id, 1)
    # THEN it fails as JOB_BUDGET without calling the model, and the first run keeps its result
    first, second = store.get_runs([job.id])[job.id]
    assert first.status is RunStatus.SUCCEEDED
    assert second.status is RunStatus.FAILED
    assert second.error is not None and second.error.kind == "JOB_BUDGET" and "job" in second.error.message
    assert len(fake_model.requests) == requests_before
