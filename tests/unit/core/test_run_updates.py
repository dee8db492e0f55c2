"""Writing runs with their job and events: derived job status and usage, events per change, lost races retried."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ConflictError, NotFoundError
from core.ids import utcnow
from core.models import EventKind, Job, JobStatus, NewEvent, RepositoryRun, RunAttempt, RunStatus, Usage
from core.services.updates import MAX_RACE_RETRIES, MILLISECOND, refresh_job, update_run, update_runs
from store.sqlite import SqliteStore
from tests.unit.core.pull_request_runs import store_job


def _job(store: SqliteStore, count: int = 2) -> tuple[Job, list[RepositoryRun]]:
    job = Job(title="t", prompt="p", model="claude-test")
    job = store_job(store, [RepositoryRun(job_id=job.id, index=i, location=f"/srv/r{i}") for i in range(count)], job)
    return job, store.get_runs([job.id])[job.id]


def _events(
    store: SqliteStore, job_id: str, after: int = 0
) -> list[tuple[str | None, EventKind, str | None, str | None]]:
    return [(e.run_id, e.kind, e.old_value, e.new_value) for e in store.list_events(job_id, after)]


def test_a_run_change_writes_an_event_per_changed_field_and_the_jobs_derived_status_and_usage(
    store: SqliteStore,
) -> None:
    # GIVEN a queued job of two runs, the second with an earlier attempt that cost something
    job, runs = _job(store)
    earlier = RunAttempt(attempt=1, status=RunStatus.FAILED, usage=Usage(input_tokens=100, cost_usd=0.25))
    update_run(store, job.id, runs[1].id, lambda r: r.model_copy(update={"attempt": 2, "attempts": [earlier]}))
    seq = store.list_events(job.id)[-1].seq if store.list_events(job.id) else 0
    # WHEN the first run starts its agent step and spends, all in one write
    spent = Usage(input_tokens=10, output_tokens=5, cost_usd=0.5)

    def start(run: RepositoryRun) -> RepositoryRun:
        return run.model_copy(update={"status": RunStatus.RUNNING_AGENT, "step": "agent", "usage": spent})

    stored = update_run(store, job.id, runs[0].id, start)
    # THEN status, step and usage each have their event, then the job's status change
    assert _events(store, job.id, seq) == [
        (runs[0].id, EventKind.STATUS, RunStatus.PENDING, RunStatus.RUNNING_AGENT),
        (runs[0].id, EventKind.STEP, None, "agent"),
        (runs[0].id, EventKind.USAGE, "0.000000", "0.500000"),
        (None, EventKind.STATUS, JobStatus.QUEUED, JobStatus.RUNNING),
    ]
    # AND the run is returned as stored, and the job's usage adds every run and earlier attempt
    assert stored == store.get_run(runs[0].id) and stored.version == runs[0].version + 1
    written = store.get_job(job.id)
    assert written is not None and written.status is JobStatus.RUNNING
    assert written.usage == Usage(input_tokens=110, output_tokens=5, cost_usd=0.75)
    assert written.updated_at > job.updated_at


def test_a_finished_run_gets_its_finish_time_unless_it_brings_one(store: SqliteStore) -> None:
    # GIVEN two working runs
    job, runs = _job(store)
    for run in runs:
        update_run(store, job.id, run.id, lambda r: r.model_copy(update={"status": RunStatus.RUNNING_AGENT}))
    given = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    # WHEN one fails and the other succeeds with a finish time of its own
    before = utcnow()
    update_run(store, job.id, runs[0].id, lambda r: r.model_copy(update={"status": RunStatus.FAILED}))
    after = utcnow()
    update_run(
        store, job.id, runs[1].id, lambda r: r.model_copy(update={"status": RunStatus.SUCCEEDED, "finished_at": given})
    )
    # THEN the first was stamped at its write (in milliseconds, as stored: a fast machine may make the job and
    # finish its run within one), the second keeps its own; a working run has none
    first, second = store.get_runs([job.id])[job.id]
    assert first.finished_at is not None and before <= first.finished_at <= after
    assert second.finished_at == given
    assert store.get_job(job.id).status is JobStatus.PARTIAL  # type: ignore[union-attr]


def test_an_unchanged_run_writes_nothing_but_artifacts_alone_are_written(store: SqliteStore) -> None:
    # GIVEN a job
    job, runs = _job(store)
    # WHEN nothing changes THEN nothing is written: the job is as stored
    assert update_runs(store, job.id, lambda _: {}) == store.get_job(job.id) == job
    # WHEN only an artifact is given THEN it is stored with the job written once, without events
    update_run(store, job.id, runs[0].id, lambda _: None, artifacts={"notes/a": b"x"})
    assert store.get_artifact("notes/a") == b"x"
    assert store.get_job(job.id).version == job.version + 1  # type: ignore[union-attr]
    assert store.list_events(job.id) == []


def test_extra_events_are_written_after_the_runs_own(store: SqliteStore) -> None:
    job, runs = _job(store)
    extra = NewEvent(run_id=runs[0].id, kind=EventKind.PULL_REQUEST, old_value="a", new_value="b")

    def step(run: RepositoryRun) -> RepositoryRun:
        return run.model_copy(update={"step": "clone"})

    update_run(store, job.id, runs[0].id, step, extra_events=[extra])
    assert [(e.kind, e.new_value) for e in store.list_events(job.id)] == [
        (EventKind.STEP, "clone"),
        (EventKind.PULL_REQUEST, "b"),
    ]


def test_a_lost_race_is_decided_again_on_the_fresh_rows(store: SqliteStore) -> None:
    # GIVEN a running run that another writer cancels while this one decides
    job, runs = _job(store, 1)
    update_run(store, job.id, runs[0].id, lambda r: r.model_copy(update={"status": RunStatus.RUNNING_AGENT}))
    seen: list[RunStatus] = []

    def finish(current: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        seen.append(current[0].status)
        if len(seen) == 1:
            update_run(store, job.id, runs[0].id, lambda r: r.model_copy(update={"status": RunStatus.CANCELLED}))
        if current[0].status.finished:
            return {}
        return {current[0].id: current[0].model_copy(update={"status": RunStatus.SUCCEEDED})}

    # WHEN this writer's commit loses THEN it decides again on the cancelled row, and the cancel stands
    returned = update_runs(store, job.id, finish)
    assert seen == [RunStatus.RUNNING_AGENT, RunStatus.CANCELLED]
    assert store.get_runs([job.id])[job.id][0].status is RunStatus.CANCELLED
    assert returned == store.get_job(job.id)


def test_a_job_that_keeps_changing_is_given_up_on_after_the_last_retry(store: SqliteStore) -> None:
    # GIVEN a writer that loses every race: another write lands each time it decides
    job, runs = _job(store, 1)
    calls = 0

    def always_late(current: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        nonlocal calls
        calls += 1
        update_run(store, job.id, runs[0].id, lambda r: r.model_copy(update={"step": f"s{calls}"}))
        return {current[0].id: current[0].model_copy(update={"summary": "late"})}

    # WHEN it writes THEN it gives up after the last retry with a ConflictError naming the job
    with pytest.raises(ConflictError) as err:
        update_runs(store, job.id, always_late)
    assert str(err.value) == f"job {job.id} kept changing; gave up after {MAX_RACE_RETRIES} attempts"
    assert calls == MAX_RACE_RETRIES
    assert store.get_runs([job.id])[job.id][0].summary is None


def test_updating_an_unknown_job_or_run_is_not_found_and_writes_nothing(store: SqliteStore) -> None:
    job, _ = _job(store, 1)
    with pytest.raises(NotFoundError, match="no job with id nope"):
        update_runs(store, "nope", lambda _: {})
    with pytest.raises(NotFoundError, match=f"job {job.id} has no run with id nope"):
        update_run(store, job.id, "nope", lambda r: r.model_copy(update={"step": "x"}))
    assert store.get_job(job.id) == job


def test_a_step_change_names_the_step_it_leaves_and_a_change_made_in_place_is_seen(store: SqliteStore) -> None:
    # GIVEN a run in its agent step
    job, runs = _job(store, 1)
    update_run(store, job.id, runs[0].id, lambda r: r.model_copy(update={"step": "agent"}))
    seq = store.list_events(job.id)[-1].seq

    # WHEN a writer moves it on, changing its usage in place on the copy it was handed
    def spend_and_validate(run: RepositoryRun) -> RepositoryRun:
        run.usage.cost_usd = 0.25
        run.step = "validate"
        return run

    update_run(store, job.id, runs[0].id, spend_and_validate)
    # THEN the step event names the step left, and the usage change is an event too
    assert _events(store, job.id, seq) == [
        (runs[0].id, EventKind.STEP, "agent", "validate"),
        (runs[0].id, EventKind.USAGE, "0.000000", "0.250000"),
    ]


def test_a_run_mutation_that_changes_nothing_writes_nothing_and_artifacts_go_with_any_update(
    store: SqliteStore,
) -> None:
    # GIVEN a job
    job, runs = _job(store, 1)
    # WHEN a one-run mutation answers None THEN neither the job nor the run is written
    assert update_run(store, job.id, runs[0].id, lambda _: None) == runs[0]
    assert store.get_job(job.id) == job
    # WHEN a many-run update brings only an artifact THEN the artifact is stored
    update_runs(store, job.id, lambda _: {}, artifacts={"notes/b": b"y"})
    assert store.get_artifact("notes/b") == b"y"


def test_a_jobs_updated_at_moves_forward_with_each_change_even_within_the_clocks_millisecond() -> None:
    # GIVEN a job last changed at a time the clock has not passed yet (the same millisecond, or a clock set back)
    later = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=1)
    job = Job(title="t", prompt="p", model="claude-test", updated_at=later)
    run = RepositoryRun(job_id=job.id, index=0, location="/srv/r0", status=RunStatus.RUNNING_AGENT)
    # WHEN a change of its run refreshes it, twice
    once, _ = refresh_job(job, [run])
    twice, _ = refresh_job(once, [run])
    # THEN each refresh is one millisecond (the stored times' resolution) after the one before
    assert (once.updated_at, twice.updated_at) == (later + MILLISECOND, later + 2 * MILLISECOND)
