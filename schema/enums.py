"""GraphQL enums: the domain enums themselves, registered under their own names."""

from __future__ import annotations

import strawberry

from core.errors import RunErrorKind
from core.models import CheckStatus, FileChange, JobKind, JobStatus, OutputMode, RunStatus, Strategy

for _enum in (JobKind, OutputMode, Strategy, JobStatus, RunStatus, RunErrorKind, FileChange, CheckStatus):
    strawberry.enum(_enum)

__all__ = ["CheckStatus", "FileChange", "JobKind", "JobStatus", "OutputMode", "RunErrorKind", "RunStatus", "Strategy"]
