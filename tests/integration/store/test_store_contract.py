"""Store contract: every adapter (SQLite, DynamoDB on moto) must pass these tests."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing
from pathlib import Path

import pytest

from core.errors import ConflictError
from core.models import CommandIsolation, EventKind, Job, JobStatus, NewEvent, RepositoryRun, RunStatus
from core.ports import Change, Store
from core.services.progress import RunProgress
from store.sqlite import SqliteStore
from tests.fakes import moto_aws


def make_sqlite(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "contract.sqlite3")


ADAPTERS: dict[str, Callable[[Path], AbstractContextManager[Store]]] = {
    "sqlite": lambda tmp_path: closing(make_sqlite(tmp_path)),
    "dynamodb": lambda _: moto_aws.dynamo_store(),
}


@pytest.fixture(params=sorted(ADAPTERS))
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with ADAPTERS[request.param](tmp_path) as adapter:
        yield adapter


def new_job(store: Store, n_runs: int = 2, title: str = "t") -> tuple[Job, list[RepositoryRun]]:
    job = Job(title=title, prompt="p", model="claude-sonnet-5-5")
    runs = [RepositoryRun(job_id=job.id, index=i, location=f"/r/{i}") for i in range(n_runs)]
    store.commit(
        Change(
            job=job,
            job_version=None,
            runs=[(r, None) for r in runs],
            events=[NewEvent(kind=EventKind.STATUS, new_value="QUEUED")],
        )
    )
    stored_job = store.get_job(job.id)
    assert stored_job is not None
    return stored_job, store.get_runs([job.id])[job.id]


def test_created_job_reads_back_with_runs_in_order_and_first_event(any_store: Store) -> None:
    # GIVEN a job with three runs WHEN it is stored
    job, runs = new_job(any_store, 3)
    # THEN it reads back with version 1, its runs by index and one numbered event
    assert job.version == 1 and job.last_seq == 1
    assert [r.index for r in runs] == [0, 1, 2]
    assert [r.version for r in runs] == [1, 1, 1]
    events = any_store.list_events(job.id)
    assert [(e.seq, e.kind, e.new_value) for e in events] == [(1, EventKind.STATUS, "QUEUED")]
    assert job.cursor == events[-1].cursor


def test_stale_writer_loses_and_changes_nothing(any_store: Store) -> None:
    # GIVEN a job read at version 1, then updated by someone else
    job, runs = new_job(any_store)
    first = runs[0].model_copy(update={"status": RunStatus.CLONING})
    any_store.commit(
        Change(
            job=job,
            job_version=1,
            runs=[(first, 1)],
            events=[NewEvent(run_id=first.id, kind=EventKind.STATUS, new_value="CLONING")],
        )
    )
    # WHEN a writer still holding version 1 writes
    stale = runs[0].model_copy(update={"status": RunStatus.FAILED})
    with pytest.raises(ConflictError):
        any_store.commit(
            Change(
                job=job,
                job_version=1,
                runs=[(stale, 1)],
                events=[NewEvent(run_id=stale.id, kind=EventKind.STATUS, new_value="FAILED")],
            )
        )
    # THEN the first write stands and no event of the lost write exists
    stored_run = any_store.get_run(runs[0].id)
    assert stored_run is not None and stored_run.status is RunStatus.CLONING and stored_run.version == 2
    assert [e.new_value for e in any_store.list_events(job.id)] == ["QUEUED", "CLONING"]


def test_stale_run_version_rolls_back_the_job_update_too(any_store: Store) -> None:
    # GIVEN a current job version but a stale run version
    job, runs = new_job(any_store)
    bumped = runs[1].model_copy(update={"step": "x"})
    any_store.commit(Change(job=job, job_version=1, runs=[(bumped, 1)]))
    job2 = any_store.get_job(job.id)
    assert job2 is not None
    # WHEN the job is written with the current version but the run with a stale one
    with pytest.raises(ConflictError):
        any_store.commit(
            Change(
                job=job2.model_copy(update={"status": JobStatus.RUNNING}),
                job_version=job2.version,
                runs=[(runs[1], 1)],
                events=[NewEvent(kind=EventKind.STATUS, new_value="RUNNING")],
            )
        )
    # THEN nothing of it was applied
    after = any_store.get_job(job.id)
    assert after is not None and after.version == job2.version and after.status is JobStatus.QUEUED


def test_a_runs_command_isolation_reads_back_and_a_resumed_worker_keeps_the_weaker(any_store: Store) -> None:
    # GIVEN a run whose first worker recorded isolated commands as its agent step began
    _, runs = new_job(any_store)
    progress = RunProgress(any_store, runs[0].id)
    progress.advance(RunStatus.CLONING)
    isolated = CommandIsolation(filesystem=True, network=True)
    progress.advance(RunStatus.RUNNING_AGENT, command_isolation=isolated)
    first = any_store.get_run(runs[0].id)
    # WHEN a worker of the same attempt records that its commands ran without filesystem isolation
    refused = CommandIsolation(filesystem=False, network=True, reason="bubblewrap: Operation not permitted")
    progress.advance(RunStatus.RUNNING_AGENT, step="agent", command_isolation=refused)
    # THEN each read gives back what the run held then: isolated first, then the weaker of the two;
    # the other run, whose commands were off, has none
    assert first is not None and first.command_isolation == isolated
    after = any_store.get_run(runs[0].id)
    assert after is not None and after.command_isolation == refused
    other = any_store.get_run(runs[1].id)
    assert other is not None and other.command_isolation is None


def test_double_insert_is_a_conflict(any_store: Store) -> None:
    job, _ = new_job(any_store)
    with pytest.raises(ConflictError):
        any_store.commit(Change(job=job, job_version=None))


def test_pages_are_newest_first_stable_and_filterable(any_store: Store) -> None:
    # GIVEN seven jobs, two of them RUNNING
    ids = []
    for i in range(7):
        job, _ = new_job(any_store, 1, title=f"job {i}")
        if i in (2, 5):
            any_store.commit(Change(job=job.model_copy(update={"status": JobStatus.RUNNING}), job_version=job.version))
        ids.append(job.id)
    # WHEN paging three at a time
    seen, after = [], None
    while True:
        page = any_store.list_jobs(3, after)
        seen.extend(j.id for j in page.jobs)
        if not page.has_next:
            break
        after = page.end_cursor
    # THEN every job appears once, newest first
    assert seen == list(reversed(ids))
    running = any_store.list_jobs(10, status=JobStatus.RUNNING)
    assert [j.id for j in running.jobs] == [ids[5], ids[2]] and not running.has_next


def test_a_foreign_page_cursor_is_a_value_error(any_store: Store) -> None:
    with pytest.raises(ValueError):
        any_store.list_jobs(3, "not-a-cursor!")


def test_batch_reads_keep_order_and_unknown_ids(any_store: Store) -> None:
    a, _ = new_job(any_store, 1)
    b, _ = new_job(any_store, 2)
    jobs = any_store.get_jobs([b.id, "missing", a.id])
    assert [j.id if j else None for j in jobs] == [b.id, None, a.id]
    runs = any_store.get_runs([a.id, b.id, "missing"])
    assert (len(runs[a.id]), len(runs[b.id]), runs["missing"]) == (1, 2, [])


def test_artifacts_and_cache(any_store: Store) -> None:
    any_store.put_artifact("patches/x", b"\x00binary")
    assert any_store.get_artifact("patches/x") == b"\x00binary"
    assert any_store.get_artifact("nope") is None
    any_store.cache_put("k", "v", 60)
    any_store.cache_put("old", "v", -1)
    assert any_store.cache_get("k") == "v"
    assert any_store.cache_get("old") is None


def test_cache_add_puts_only_where_nothing_unexpired_is(any_store: Store) -> None:
    # GIVEN one live entry and one expired entry
    any_store.cache_put("live", "first", 60)
    any_store.cache_put("stale", "first", -1)
    # WHEN each, and a new key, is added to
    added = [any_store.cache_add(key, "second", 60) for key in ("live", "stale", "new")]
    # THEN only the live entry refused, and kept its value
    assert added == [False, True, True]
    assert [any_store.cache_get(key) for key in ("live", "stale", "new")] == ["first", "second", "second"]
    # AND a deleted entry can be added again
    any_store.cache_delete("live")
    assert any_store.cache_get("live") is None
    assert any_store.cache_add("live", "third", 60) is True


def test_events_after_a_sequence(any_store: Store) -> None:
    job, runs = new_job(any_store, 1)
    for step in ("a", "b", "c"):
        current = any_store.get_job(job.id)
        run = any_store.get_run(runs[0].id)
        assert current is not None and run is not None
        any_store.commit(
            Change(
                job=current,
                job_version=current.version,
                runs=[(run.model_copy(update={"step": step}), run.version)],
                events=[NewEvent(run_id=run.id, kind=EventKind.STEP, new_value=step)],
            )
        )
    assert [e.new_value for e in any_store.list_events(job.id, after_seq=2)] == ["b", "c"]
    assert [e.seq for e in any_store.list_events(job.id, after_seq=1, limit=2)] == [2, 3]


def _write_from_other_process(path: str, job_id: str) -> None:
    other = SqliteStore(path)
    job = other.get_job(job_id)
    assert job is not None
    other.commit(
        Change(job=job, job_version=job.version, events=[NewEvent(kind=EventKind.STEP, new_value="from child")])
    )
    other.close()


def test_sqlite_feed_sees_commits_of_another_process(tmp_path: Path) -> None:
    # GIVEN a store and its data_version
    store = make_sqlite(tmp_path)
    job, _ = new_job(store, 1)
    version = store.data_version()
    last = store.last_feed_id()
    # WHEN another process commits
    proc = multiprocessing.get_context("spawn").Process(target=_write_from_other_process, args=(store.path, job.id))
    proc.start()
    proc.join(30)
    assert proc.exitcode == 0
    # THEN data_version moved and the feed has the event
    assert store.data_version() != version
    assert [e.new_value for _, e in store.feed_since(last)] == ["from child"]
    store.close()
