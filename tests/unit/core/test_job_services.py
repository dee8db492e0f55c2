"""Job use cases over a real SQLite store, with a dispatcher that records what it was asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import InputError, NotFoundError, RunCancelled
from core.models import (
    Branch,
    CommandIsolation,
    EventKind,
    JobStatus,
    Message,
    OutputMode,
    Patch,
    PullRequest,
    RepositoryRun,
    RunStatus,
    Thread,
    Usage,
)
from core.services.jobs import JobRequest, cancel_job, create_job, retry_runs
from core.services.progress import RunProgress, load_thread
from core.services.updates import update_run
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.dispatcher import RecordingDispatcher


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


def count_jobs(store: SqliteStore) -> int:
    return len(store.list_jobs(100).jobs)


def test_create_job_stores_runs_and_dispatches(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    # GIVEN two allowed local repositories
    a, b = make_repo("a"), make_repo("b")
    # WHEN a job is created
    job = create_job(
        store, dispatcher, settings, JobRequest(prompt="Add type hints\nmore", repositories=[str(a), str(b)])
    )
    # THEN it is queued with runs in order, titled by the prompt's first line, and dispatched
    runs = store.get_runs([job.id])[job.id]
    assert job.status is JobStatus.QUEUED and job.title == "Add type hints"
    assert [r.location for r in runs] == [str(a), str(b)]
    assert dispatcher.dispatched == [(job.id, [0, 1])]


@pytest.mark.parametrize(
    ("request_fields", "field", "words"),
    [
        ({"prompt": "   "}, "prompt", "empty"),
        ({"prompt": "x" * 100_001}, "prompt", "100 KB"),
        ({"repositories": []}, "repositories", "at least one"),
        ({"repositories": ["/etc"]}, "repositories.0", "/etc is not allowed"),
        ({"repositories": ["/no/such/dir"]}, "repositories.0", "/no/such/dir is not allowed"),
        ({"repositories": ["evil/repo"]}, "repositories.0", "not allowed"),
        ({"repositories": ["https://user:pw@github.com/a/b"]}, "repositories.0", "credentials"),
        ({"model": "gpt-4"}, "model", "unknown model"),
        ({"check_command": "pytest"}, "checkCommand", "disabled"),
        ({"output": OutputMode.PULL_REQUEST}, "repositories.0", "github.com"),
    ],
)
def test_bad_input_is_an_input_error_and_writes_nothing(
    store: SqliteStore,
    dispatcher: RecordingDispatcher,
    settings: Settings,
    make_repo: Callable[..., Path],
    request_fields: dict[str, object],
    field: str,
    words: str,
) -> None:
    repo = make_repo("a")
    fields: dict[str, object] = {"prompt": "do it", "repositories": [str(repo)], **request_fields}
    with pytest.raises(InputError) as err:
        create_job(store, dispatcher, settings, JobRequest.model_validate(fields))
    assert err.value.field == field and words in err.value.message
    assert count_jobs(store) == 0 and dispatcher.dispatched == []


def test_too_many_and_duplicate_repositories(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    repos = [str(make_repo(f"r{i}")) for i in range(6)]
    with pytest.raises(InputError, match="at most 5"):
        create_job(store, dispatcher, settings, JobRequest(prompt="x", repositories=repos))
    with pytest.raises(InputError, match="twice") as err:
        create_job(store, dispatcher, settings, JobRequest(prompt="x", repositories=[repos[0], repos[1], repos[0]]))
    assert err.value.field == "repositories.2"
    assert count_jobs(store) == 0


def test_cancel_keeps_finished_runs_and_stops_workers(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a job whose first run succeeded and second is running
    job = create_job(
        store, dispatcher, settings, JobRequest(prompt="x", repositories=[str(make_repo("a")), str(make_repo("b"))])
    )
    first, second = store.get_runs([job.id])[job.id]
    RunProgress(store, first.id).advance(RunStatus.CLONING)
    RunProgress(store, first.id).advance(RunStatus.SUCCEEDED)
    RunProgress(store, second.id).advance(RunStatus.RUNNING_AGENT)
    # WHEN the job is cancelled
    cancelled = cancel_job(store, dispatcher, job.id)
    # THEN the finished run keeps its result, the other is cancelled, and the worker is signalled
    statuses = [r.status for r in store.get_runs([job.id])[job.id]]
    assert statuses == [RunStatus.SUCCEEDED, RunStatus.CANCELLED]
    assert cancelled.status is JobStatus.PARTIAL
    assert dispatcher.cancelled == [(job.id, [1])]
    # AND the worker of the cancelled run cannot write any more
    with pytest.raises(RunCancelled):
        RunProgress(store, second.id).advance(RunStatus.VALIDATING)


def test_retry_starts_a_new_attempt_and_keeps_the_old_one(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    job = create_job(store, dispatcher, settings, JobRequest(prompt="x", repositories=[str(make_repo("a"))]))
    (run,) = store.get_runs([job.id])[job.id]
    RunProgress(store, run.id).advance(RunStatus.CLONING)
    RunProgress(store, run.id).fail("MODEL_ERROR", "overloaded")
    assert store.get_job(job.id).status is JobStatus.FAILED  # type: ignore[union-attr]
    # WHEN the failed runs are retried
    retried = retry_runs(store, dispatcher, job.id)
    # THEN the run is pending again as attempt 2 with attempt 1 in its history
    (again,) = store.get_runs([job.id])[job.id]
    assert retried.status is JobStatus.QUEUED
    assert (again.status, again.attempt, again.error) == (RunStatus.PENDING, 2, None)
    assert [(a.attempt, a.status, a.error.kind if a.error else None) for a in again.attempts] == [
        (1, RunStatus.FAILED, "MODEL_ERROR")
    ]
    assert dispatcher.dispatched[-1] == (job.id, [0])


def test_retry_and_cancel_of_unknown_ids_are_not_found(store: SqliteStore, dispatcher: RecordingDispatcher) -> None:
    with pytest.raises(NotFoundError):
        cancel_job(store, dispatcher, "nope")
    with pytest.raises(NotFoundError):
        retry_runs(store, dispatcher, "nope")


def test_saved_thread_is_readable_and_usage_adds_up_to_the_job(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    job = create_job(
        store, dispatcher, settings, JobRequest(prompt="x", repositories=[str(make_repo("a")), str(make_repo("b"))])
    )
    runs = store.get_runs([job.id])[job.id]
    for run, cost in zip(runs, (0.5, 0.25), strict=True):
        RunProgress(store, run.id).advance(RunStatus.RUNNING_AGENT)
        thread = Thread(
            run_id=run.id,
            model="claude-sonnet-5-5",
            messages=[
                Message(index=0, role="user", content=[{"type": "text", "text": "hi"}]),
                Message(
                    index=1,
                    role="assistant",
                    content=[{"type": "text", "text": "ok"}],
                    usage=Usage(input_tokens=10, cost_usd=cost),
                ),
            ],
        )
        RunProgress(store, run.id).save_thread(thread)
    stored = store.get_job(job.id)
    assert stored is not None and stored.usage.cost_usd == 0.75 and stored.usage.input_tokens == 20
    loaded = load_thread(store, store.get_run(runs[0].id))  # type: ignore[arg-type]
    assert loaded is not None and loaded.turns == 1
    kinds = [e.kind for e in store.list_events(job.id)]
    assert kinds.count(EventKind.TURN) == 2 and EventKind.USAGE in kinds


def three_run_job(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> list[RepositoryRun]:
    """A job whose runs ended FAILED (with a summary, patch, usage and times), SUCCEEDED and CANCELLED."""
    repos = [str(make_repo(name)) for name in ("f", "s", "c")]
    job = create_job(store, dispatcher, settings, JobRequest(prompt="x", repositories=repos))
    failed, succeeded, cancelled = store.get_runs([job.id])[job.id]
    progress = RunProgress(store, failed.id)
    progress.advance(
        RunStatus.VALIDATING,
        step="validate",
        summary="tried",
        patch=Patch(artifact_key="patches/f/1.diff", additions=1),
        pull_request=PullRequest(url="https://github.com/acme/f/pull/3", number=3, branch="cody/f"),
        command_isolation=CommandIsolation(filesystem=False, network=True, reason="bubblewrap: refused"),
    )
    branch = Branch(repository="acme/f", name="cody/f", head="abc123")
    update_run(store, job.id, failed.id, lambda run: run.model_copy(update={"branch": branch}))
    answer = Message(index=0, role="assistant", content=[], usage=Usage(input_tokens=7, cost_usd=0.5))
    progress.save_thread(Thread(run_id=failed.id, model="claude-sonnet-5-5", messages=[answer]))
    progress.fail("INTERNAL", "the check command crashed")
    RunProgress(store, succeeded.id).advance(RunStatus.CLONING)
    RunProgress(store, succeeded.id).advance(RunStatus.SUCCEEDED, step="done")
    RunProgress(store, cancelled.id).advance(RunStatus.CANCELLED)
    dispatcher.dispatched.clear()
    return store.get_runs([job.id])[job.id]


def test_retry_by_default_restarts_only_the_failed_runs_and_keeps_everything_of_the_attempt(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a job with a failed, a succeeded and a cancelled run
    failed, succeeded, cancelled = three_run_job(store, dispatcher, settings, make_repo)
    # WHEN retried without naming runs
    job = retry_runs(store, dispatcher, failed.job_id)
    # THEN only the failed run starts again, as a clean attempt 2 that remembers all of attempt 1
    again, same_succeeded, same_cancelled = store.get_runs([job.id])[job.id]
    assert dispatcher.dispatched == [(job.id, [0])]
    assert (same_succeeded, same_cancelled) == (succeeded.model_copy(), cancelled.model_copy())
    assert (again.id, again.job_id, again.index, again.location) == (
        failed.id,
        failed.job_id,
        failed.index,
        failed.location,
    )
    assert (again.status, again.attempt, again.step, again.error, again.summary, again.patch) == (
        RunStatus.PENDING,
        2,
        None,
        None,
        None,
        None,
    )
    assert again.usage == Usage() and again.started_at is None and again.finished_at is None
    assert again.command_isolation is None  # recorded anew by the worker of attempt 2
    # AND it keeps publishing to the same pull request and branch, without reopening a closed one
    assert (again.pull_request, again.branch) == (failed.pull_request, failed.branch)
    assert again.pull_request is not None and again.branch is not None
    assert again.reopen_pull_request is False
    [earlier] = again.attempts
    assert earlier.model_dump() == {
        "attempt": 1,
        "status": RunStatus.FAILED,
        "step": "validate",
        "error": failed.error.model_dump() if failed.error else None,
        "summary": "tried",
        "patch": failed.patch.model_dump() if failed.patch else None,
        "validation": failed.validation.model_dump() if failed.validation else None,
        "command_isolation": {"filesystem": False, "network": True, "reason": "bubblewrap: refused"},
        "usage": failed.usage.model_dump(),
        "started_at": failed.started_at,
        "finished_at": failed.finished_at,
        "resumptions": [],
    }
    assert earlier.started_at is not None and earlier.finished_at is not None
    # AND the job spent what attempt 1 spent
    assert job.status is JobStatus.RUNNING and job.usage.cost_usd == 0.5


def test_retry_of_named_runs_restarts_those_once_each(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a job with a failed, a succeeded and a cancelled run
    failed, succeeded, cancelled = three_run_job(store, dispatcher, settings, make_repo)
    # WHEN the succeeded and the cancelled run are named (one twice), allowing closed pull requests to reopen
    retry_runs(store, dispatcher, failed.job_id, [cancelled.id, succeeded.id, cancelled.id], reopen_pull_requests=True)
    # THEN exactly those restart, each once, in the order named, and the failed one is left alone
    runs = store.get_runs([failed.job_id])[failed.job_id]
    assert [(r.status, r.attempt) for r in runs] == [
        (RunStatus.FAILED, 1),
        (RunStatus.PENDING, 2),
        (RunStatus.PENDING, 2),
    ]
    assert dispatcher.dispatched == [(failed.job_id, [2, 1])]
    assert [r.reopen_pull_request for r in runs] == [False, True, True]


def test_retry_refuses_unknown_and_unfinished_runs_and_changes_nothing(
    store: SqliteStore, dispatcher: RecordingDispatcher, settings: Settings, make_repo: Callable[..., Path]
) -> None:
    # GIVEN a job with one finished and one running run
    repos = [str(make_repo("a")), str(make_repo("b"))]
    job = create_job(store, dispatcher, settings, JobRequest(prompt="x", repositories=repos))
    done, running = store.get_runs([job.id])[job.id]
    RunProgress(store, done.id).fail("INTERNAL", "failed")
    RunProgress(store, running.id).advance(RunStatus.CLONING)
    before = store.get_runs([job.id])[job.id]
    dispatcher.dispatched.clear()
    # WHEN an unknown run is named THEN NotFoundError names it
    with pytest.raises(NotFoundError) as unknown:
        retry_runs(store, dispatcher, job.id, [done.id, "nope"])
    assert str(unknown.value) == f"job {job.id} has no run with id nope"
    # WHEN a running run is named THEN an InputError on runIds says to cancel it first
    with pytest.raises(InputError) as unfinished:
        retry_runs(store, dispatcher, job.id, [done.id, running.id])
    assert unfinished.value.field == "runIds"
    assert unfinished.value.message == f"run {running.id} is still CLONING; cancel it first"
    # AND nothing was written or dispatched
    assert store.get_runs([job.id])[job.id] == before and dispatcher.dispatched == []
    # AND a job with nothing failed retries nothing by default
    RunProgress(store, running.id).advance(RunStatus.SUCCEEDED)
    retry_runs(store, dispatcher, job.id, [])
    assert dispatcher.dispatched == []
