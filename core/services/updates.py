"""Applying a change to one run together with its job and events, retrying lost races."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.errors import ConflictError, NotFoundError
from core.ids import utcnow
from core.models import EventKind, Job, NewEvent, RepositoryRun, Usage
from core.ports import Change, Store
from core.state import derive_job_status

MILLISECOND = dt.timedelta(milliseconds=1)  # the stored times' resolution (core.ids.utcnow)
RunMutation = Callable[[RepositoryRun], RepositoryRun | None]
MAX_RACE_RETRIES = 50


def job_usage(runs: list[RepositoryRun]) -> Usage:
    """What a job spent: every run, earlier attempts included."""
    total = Usage()
    for run in runs:
        total = total + run.usage
        for attempt in run.attempts:
            total = total + attempt.usage
    return total


def run_events(old: RepositoryRun, new: RepositoryRun) -> list[NewEvent]:
    """Events describing how a run changed."""
    events: list[NewEvent] = []
    if old.status != new.status:
        events.append(NewEvent(run_id=new.id, kind=EventKind.STATUS, old_value=old.status, new_value=new.status))
    if old.step != new.step:
        events.append(NewEvent(run_id=new.id, kind=EventKind.STEP, old_value=old.step, new_value=new.step))
    if old.usage != new.usage:
        events.append(
            NewEvent(
                run_id=new.id,
                kind=EventKind.USAGE,
                old_value=f"{old.usage.cost_usd:.6f}",
                new_value=f"{new.usage.cost_usd:.6f}",
            )
        )
    return events


def refresh_job(job: Job, runs: list[RepositoryRun]) -> tuple[Job, list[NewEvent]]:
    """The job with status and usage derived from its runs, and the job-level event."""
    status = derive_job_status(r.status for r in runs)
    # Strictly later than the job's last change, even within the clock's millisecond: a client that
    # keeps the newest `updatedAt` it has seen must never take a change for one it already has.
    updated_at = max(utcnow(), job.updated_at + MILLISECOND)
    updated = job.model_copy(update={"status": status, "usage": job_usage(runs), "updated_at": updated_at})
    events = []
    if status != job.status:
        events.append(NewEvent(kind=EventKind.STATUS, old_value=job.status, new_value=status))
    return updated, events


def update_runs(
    store: Store,
    job_id: str,
    mutate: Callable[[list[RepositoryRun]], dict[str, RepositoryRun]],
    *,
    extra_events: Callable[[dict[str, RepositoryRun]], list[NewEvent]] | None = None,
    artifacts: dict[str, bytes] | None = None,
    job_fields: dict[str, object] | None = None,
) -> Job:
    """Read a job's runs, let `mutate` return replacements by id, write all atomically (with
    `job_fields` set on the job when it replaced any).

    Lost races (another writer bumped a version) are retried on fresh rows, so `mutate`
    always decides on the current state: a cancelled run stays cancelled.
    """
    job, _ = _update(store, job_id, mutate, extra_events, artifacts, job_fields)
    return job


def _update(
    store: Store,
    job_id: str,
    mutate: Callable[[list[RepositoryRun]], dict[str, RepositoryRun]],
    extra_events: Callable[[dict[str, RepositoryRun]], list[NewEvent]] | None,
    artifacts: dict[str, bytes] | None,
    job_fields: dict[str, object] | None = None,
) -> tuple[Job, list[RepositoryRun]]:
    """update_runs, returning the job and its runs as written (no re-read: a successful
    commit bumps each written version by one and numbers the events after the job's)."""
    for _ in range(MAX_RACE_RETRIES):
        job = store.get_job(job_id)
        if job is None:
            raise NotFoundError(f"no job with id {job_id}")
        runs = store.get_runs([job_id]).get(job_id, [])
        replaced = mutate(runs)
        if not replaced and not artifacts:
            return job, runs
        now = utcnow()
        events: list[NewEvent] = []
        changed: list[tuple[RepositoryRun, int | None]] = []
        merged: list[RepositoryRun] = []
        for run in runs:
            new = replaced.get(run.id)
            if new is None:
                merged.append(run)
                continue
            new = new.model_copy(update={"version": run.version})
            if new.status != run.status and new.status.finished and new.finished_at is None:
                new.finished_at = now
            events.extend(run_events(run, new))
            changed.append((new, run.version))
            merged.append(new.model_copy(update={"version": run.version + 1}))
        if extra_events is not None:
            events.extend(extra_events(replaced))
        new_job, job_events = refresh_job(job.model_copy(update=job_fields or {}), merged)
        events += job_events
        try:
            store.commit(
                Change(
                    job=new_job,
                    job_version=job.version,
                    runs=changed,
                    events=events,
                    artifacts=dict(artifacts or {}),
                )
            )
        except ConflictError:
            continue
        written = new_job.model_copy(update={"version": job.version + 1, "last_seq": job.last_seq + len(events)})
        return written, merged
    raise ConflictError(f"job {job_id} kept changing; gave up after {MAX_RACE_RETRIES} attempts")


def update_run(
    store: Store,
    job_id: str,
    run_id: str,
    mutate: RunMutation,
    *,
    extra_events: list[NewEvent] | None = None,
    artifacts: dict[str, bytes] | None = None,
) -> RepositoryRun:
    """Apply `mutate` to one run of a job (None from it means: no change); the run as stored."""

    def one(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        current = _run_of(runs, job_id, run_id)
        new = mutate(current.model_copy(deep=True))
        return {} if new is None else {run_id: new}

    _, runs = _update(store, job_id, one, lambda _: list(extra_events or []), artifacts)
    return _run_of(runs, job_id, run_id)


def _run_of(runs: list[RepositoryRun], job_id: str, run_id: str) -> RepositoryRun:
    found = next((r for r in runs if r.id == run_id), None)
    if found is None:
        raise NotFoundError(f"job {job_id} has no run with id {run_id}")
    return found
