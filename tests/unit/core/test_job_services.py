"""Job use cases over a real SQLite store, with a dispatcher that records what it was asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core.errors import InputError, NotFoundError, RunCancelled
from core.models import EventKind, JobStatus, Message, OutputMode, RunStatus, Thread, Usage
from core.services.jobs import JobRequest, cancel_job, create_job, retry_runs
from core.services.progress import RunProgress, load_thread
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
