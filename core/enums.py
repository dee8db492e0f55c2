"""The choices a job is made of, and its statuses: plain enums, no pydantic.

They live apart from core.models so the command line can declare its options with them without
loading pydantic (most of its start-up time); core.models uses and re-exports them.
"""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    CHANGE = "CHANGE"
    ANALYZE = "ANALYZE"


class OutputMode(StrEnum):
    PATCH = "PATCH"
    PULL_REQUEST = "PULL_REQUEST"
    DRAFT_PULL_REQUEST = "DRAFT_PULL_REQUEST"

    @property
    def wants_pull_request(self) -> bool:
        return self is not OutputMode.PATCH


class Strategy(StrEnum):
    GENERIC = "GENERIC"
    BUGFIX = "BUGFIX"
    REFACTOR = "REFACTOR"
    DEPENDENCY_UPGRADE = "DEPENDENCY_UPGRADE"
    TESTS = "TESTS"
    DOCS = "DOCS"


class JobStatus(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
