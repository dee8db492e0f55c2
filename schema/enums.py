"""GraphQL enums: the domain enums themselves, registered under their own names."""

from __future__ import annotations

import strawberry

from core.errors import RunErrorKind
from core.models import (
    ActionOutcome,
    ChecksState,
    CheckStatus,
    FileChange,
    JobKind,
    JobStatus,
    OutputMode,
    PullRequestAction,
    PullRequestState,
    ResumeReason,
    ReviewDecision,
    RunStatus,
    Strategy,
)

for _enum in (
    JobKind,
    OutputMode,
    Strategy,
    JobStatus,
    RunStatus,
    RunErrorKind,
    FileChange,
    CheckStatus,
    PullRequestState,
    ChecksState,
    ReviewDecision,
    ResumeReason,
    PullRequestAction,
    ActionOutcome,
):
    strawberry.enum(_enum)

__all__ = [
    "ActionOutcome",
    "CheckStatus",
    "ChecksState",
    "FileChange",
    "JobKind",
    "JobStatus",
    "OutputMode",
    "PullRequestAction",
    "PullRequestState",
    "ResumeReason",
    "ReviewDecision",
    "RunErrorKind",
    "RunStatus",
    "Strategy",
]
