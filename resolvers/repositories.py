"""Repository references checked as `createJob` would check them, so a form can say so as the user types."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from core.errors import InputError
from core.services.jobs import RepositoryCheck, inspect_repositories
from resolvers.context import Context

# A form checks what is in its box; this bounds the disk lookups one request can ask for.
MAX_CHECKED = 100


async def check_repositories(ctx: Context, refs: Sequence[str]) -> list[RepositoryCheck]:
    """Each reference's location, whether it is allowed, and why `createJob` would refuse it."""
    if len(refs) > MAX_CHECKED:
        raise InputError(f"check at most {MAX_CHECKED} repositories at once", "repositories")
    # Off the event loop: a local path is looked at on disk.
    return await asyncio.to_thread(inspect_repositories, refs, ctx.settings)
