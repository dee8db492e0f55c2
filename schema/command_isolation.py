"""How a run's commands ran: the GraphQL view of `core.models.CommandIsolation`."""

from __future__ import annotations

import strawberry

from core import models

COMMAND_ISOLATION = (
    "How this attempt's commands ran; null when commands were off for it (or none could run yet). Recorded as "
    "Claude's step begins; a resumed attempt keeps the weaker isolation of its workers."
)


@strawberry.type(
    description="How a run's commands (Claude's and the check command) ran: what of the worker's machine they "
    "could reach."
)
class CommandIsolation:
    filesystem: bool = strawberry.field(
        description="True: they saw the workspace and system files only (bubblewrap); false: the filesystem as "
        "the worker sees it, its home included."
    )
    network: bool = strawberry.field(description="True: they had no network but loopback.")
    reason: str | None = strawberry.field(
        description="Why an isolation is missing, in the refusing tool's words; null when both held."
    )

    @classmethod
    def from_model(cls, isolation: models.CommandIsolation | None) -> CommandIsolation | None:
        if isolation is None:
            return None
        return cls(filesystem=isolation.filesystem, network=isolation.network, reason=isolation.reason)
