"""ServerSettings: what a client needs to know about this server."""

from __future__ import annotations

import strawberry

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
        )
