"""GraphQL enums: the domain enums themselves, registered under their own names."""

from __future__ import annotations

import strawberry

from core.models import JobKind, JobStatus, OutputMode, RunStatus, Strategy

for _enum in (JobKind, OutputMode, Strategy, JobStatus, RunStatus):
    strawberry.enum(_enum)

__all__ = ["JobKind", "JobStatus", "OutputMode", "RunStatus", "Strategy"]
