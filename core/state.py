"""Run state machine and the job status derived from its runs."""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import TransitionError
from core.models import JobStatus, RunStatus

R = RunStatus

_WORKING = (R.CLONING, R.RUNNING_AGENT, R.VALIDATING, R.PUBLISHING)
_ENDS = (R.SUCCEEDED, R.NO_CHANGES, R.FAILED, R.CANCELLED)

# Forward only. A worker may skip steps (ANALYZE jobs never publish) but never go back;
# a retry is not a transition: it starts a new attempt (see core.services.retry).
ALLOWED: dict[RunStatus, frozenset[RunStatus]] = {
    R.PENDING: frozenset({*_WORKING, R.FAILED, R.CANCELLED}),
    R.CLONING: frozenset({R.RUNNING_AGENT, R.VALIDATING, R.PUBLISHING, *_ENDS}),
    R.RUNNING_AGENT: frozenset({R.VALIDATING, R.PUBLISHING, *_ENDS}),
    R.VALIDATING: frozenset({R.RUNNING_AGENT, R.PUBLISHING, *_ENDS}),
    R.PUBLISHING: frozenset(_ENDS),
    R.SUCCEEDED: frozenset(),
    R.NO_CHANGES: frozenset(),
    R.FAILED: frozenset(),
    R.CANCELLED: frozenset(),
}


def check_transition(old: RunStatus, new: RunStatus) -> None:
    """Raise TransitionError unless `old -> new` is allowed."""
    if new not in ALLOWED[old]:
        raise TransitionError(f"run cannot go from {old} to {new}")


def derive_job_status(statuses: Iterable[RunStatus]) -> JobStatus:
    """Job status from its runs' statuses, as DESIGN.md defines it."""
    runs = list(statuses)
    if not runs or all(s is R.PENDING for s in runs):
        return JobStatus.QUEUED
    if any(not s.finished for s in runs):
        return JobStatus.RUNNING
    ok = sum(1 for s in runs if s in (R.SUCCEEDED, R.NO_CHANGES))
    if ok == len(runs):
        return JobStatus.SUCCEEDED
    if ok == 0:
        if any(s is R.CANCELLED for s in runs):
            return JobStatus.CANCELLED
        return JobStatus.FAILED
    return JobStatus.PARTIAL
