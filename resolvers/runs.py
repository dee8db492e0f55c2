"""What a repository run's heavier fields load: its thread and its patch."""

from __future__ import annotations

import asyncio

from core.models import Patch, RepositoryRun, Thread
from core.services.progress import load_thread
from resolvers.context import Context
from resolvers.links import patch_path, signed


async def get_run(ctx: Context, run_id: str) -> RepositoryRun | None:
    """One repository run, or None when unknown."""
    return await asyncio.to_thread(ctx.store.get_run, run_id)


async def thread(ctx: Context, run: RepositoryRun) -> Thread | None:
    """The stored thread of the run's current attempt."""
    # Read and parsed together: a thread too large to read on the loop is parsed in the thread too.
    return await ctx.read(lambda rows: load_thread(rows, run))


async def turns(ctx: Context, run: RepositoryRun) -> int:
    """The turns of the run's current attempt, kept on the run; read from its thread for a run stored before."""
    # Usage comes only with a saved turn, so a count of 0 beside some usage is a row written before runs
    # kept their count: its thread is read once more rather than showing 0 turns.
    if run.turns or run.usage.total_tokens == 0:
        return run.turns
    stored = await thread(ctx, run)
    return 0 if stored is None else stored.turns


async def patch_diff(ctx: Context, patch: Patch, max_bytes: int | None = None) -> str | None:
    """The diff text of a stored patch (empty when the artifact is missing); None when over `max_bytes`."""
    if max_bytes is not None and patch.size_bytes is not None and patch.size_bytes > max_bytes:
        return None  # known from the stats: the artifact is not even read
    data = await asyncio.to_thread(ctx.store.get_artifact, patch.artifact_key)
    if data is not None and max_bytes is not None and len(data) > max_bytes:
        return None
    return "" if data is None else data.decode("utf-8", errors="replace")


def patch_download_url(ctx: Context, run: RepositoryRun) -> str:
    """Where a browser downloads the run's patch; signed when the API needs a token."""
    return signed(patch_path(run.job_id, run.id), ctx.download_secret)
