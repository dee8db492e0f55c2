"""RepositoryCheck: one repository reference as the server sees it."""

from __future__ import annotations

import strawberry

from core.services import jobs


@strawberry.type(description="One repository reference as createJob would see it.")
class RepositoryCheck:
    reference: str = strawberry.field(description="The reference as given.")
    location: str | None = strawberry.field(
        description="Where it points (github.com/owner/name or an absolute path); null when not understood."
    )
    allowed: bool = strawberry.field(description="True when the server's allowlist lets it in.")
    problem: str | None = strawberry.field(description="Why createJob would refuse it; null when it would not.")

    @classmethod
    def from_model(cls, check: jobs.RepositoryCheck) -> RepositoryCheck:
        return cls(
            reference=check.reference,
            location=None if check.location is None else check.location.value,
            allowed=check.allowed,
            problem=check.problem,
        )
