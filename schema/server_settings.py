"""ServerSettings: what a client needs to know about this server."""

from __future__ import annotations

import strawberry

from core.samples import list_samples
from core.settings import Settings


@strawberry.type
class ServerSettings:
    backend: str
    allowed_repositories: list[str]
    max_repositories: int
    models: list[str]
    default_model: str
    commands_enabled: bool
    demo: bool = strawberry.field(description="True when the model is a recorded session, not Claude.")
    sample_repositories: list[str] = strawberry.field(
        default_factory=list, description="Allowed sample repositories in the data dir, to try a first job on."
    )

    @classmethod
    def from_model(cls, settings: Settings) -> ServerSettings:
        return cls(
            backend=settings.backend,
            allowed_repositories=settings.allowlist,
            max_repositories=settings.max_repositories,
            models=settings.models,
            default_model=settings.model,
            commands_enabled=settings.allow_commands,
            demo=settings.demo,
            sample_repositories=list_samples(settings),
        )
