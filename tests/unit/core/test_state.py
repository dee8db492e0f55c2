"""Run state machine and derived job status."""

from __future__ import annotations

import pytest

from core.errors import TransitionError
from core.models import JobStatus, RunStatus
from core.state import check_transition, derive_job_status

R = RunStatus


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (R.PENDING, R.CLONING),
        (R.CLONING, R.RUNNING_AGENT),
        (R.VALIDATING, R.RUNNING_AGENT),
        (R.PUBLISHING, R.SUCCEEDED),
    ],
)
def test_forward_transitions_are_allowed(old: RunStatus, new: RunStatus) -> None:
    check_transition(old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [(R.SUCCEEDED, R.FAILED), (R.CANCELLED, R.CLONING), (R.RUNNING_AGENT, R.CLONING), (R.PUBLISHING, R.VALIDATING)],
)
def test_backward_and_after_end_transitions_are_refused(old: RunStatus, new: RunStatus) -> None:
    with pytest.raises(TransitionError):
        check_transition(old, new)


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
