"""Run state machine and derived job status."""

from __future__ import annotations

import pytest

from core.errors import TransitionError
from core.models import JobStatus, RunStatus
from core.state import check_transition, derive_job_status

R = RunStatus


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        ([R.PENDING, R.PENDING], JobStatus.QUEUED),
        ([R.PENDING, R.CLONING], JobStatus.RUNNING),
        ([R.SUCCEEDED, R.VALIDATING], JobStatus.RUNNING),
        ([R.SUCCEEDED, R.NO_CHANGES], JobStatus.SUCCEEDED),
        ([R.FAILED, R.FAILED], JobStatus.FAILED),
        ([R.FAILED, R.CANCELLED], JobStatus.CANCELLED),
        ([R.SUCCEEDED, R.FAILED], JobStatus.PARTIAL),
        ([R.SUCCEEDED, R.CANCELLED], JobStatus.PARTIAL),
    ],
)
def test_job_status_is_derived_from_runs(runs: list[RunStatus], expected: JobStatus) -> None:
    assert derive_job_status(runs) is expected


# The run lifecycle as DESIGN.md states it, written out here rather than read from core.state:
# forward only, steps may be skipped, a fix round goes from VALIDATING back to RUNNING_AGENT,
# a run that has not started can only start, fail or be cancelled, and an end is final.
ENDS = {R.SUCCEEDED, R.NO_CHANGES, R.FAILED, R.CANCELLED}
SPEC: dict[RunStatus, set[RunStatus]] = {
    R.PENDING: {R.CLONING, R.RUNNING_AGENT, R.VALIDATING, R.PUBLISHING, R.FAILED, R.CANCELLED},
    R.CLONING: {R.RUNNING_AGENT, R.VALIDATING, R.PUBLISHING, *ENDS},
    R.RUNNING_AGENT: {R.VALIDATING, R.PUBLISHING, *ENDS},
    R.VALIDATING: {R.RUNNING_AGENT, R.PUBLISHING, *ENDS},
    R.PUBLISHING: set(ENDS),
    **{end: set() for end in ENDS},
}
REFUSED = [(old, new) for old in RunStatus for new in RunStatus if new not in SPEC[old]]


def test_the_spec_names_every_status() -> None:
    assert set(SPEC) == set(RunStatus)


@pytest.mark.parametrize(("old", "new"), REFUSED, ids=[f"{old.value}->{new.value}" for old, new in REFUSED])
def test_every_transition_outside_the_lifecycle_is_refused(old: RunStatus, new: RunStatus) -> None:
    # GIVEN a run in `old` WHEN it is moved to a status the lifecycle does not allow THEN it is refused
    with pytest.raises(TransitionError, match=f"from {old} to {new}"):
        check_transition(old, new)


ALLOWED_PAIRS = [(old, new) for old in RunStatus for new in SPEC[old]]


@pytest.mark.parametrize(("old", "new"), ALLOWED_PAIRS, ids=[f"{old.value}->{new.value}" for old, new in ALLOWED_PAIRS])
def test_every_transition_of_the_lifecycle_is_allowed(old: RunStatus, new: RunStatus) -> None:
    check_transition(old, new)
