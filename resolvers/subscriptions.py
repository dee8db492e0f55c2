"""Live job updates: a snapshot first, then the job again after each later event."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from core.errors import CodyBatchError, NotFoundError
from core.models import Job
from resolvers.context import Context, EventFeed, EventSubscription
from resolvers.jobs import event_seq
from resolvers.reads import job_row


def _feed(ctx: Context) -> EventFeed:
    if ctx.feed is None:
        raise CodyBatchError("subscriptions are not available on this server")
    return ctx.feed


async def job_updates(ctx: Context, job_id: str, after: str | None) -> AsyncGenerator[Job, None]:
    """The job now (or only if it changed since `after`), then after each later event.

    The feed is subscribed before the snapshot is read, so no change between the
    two is lost; events the snapshot already reflects are not repeated.
    """
    after_seq = event_seq(after)
    subscription = _feed(ctx).subscribe(job_id)
    try:
        job = await ctx.read(job_row(job_id))
    except BaseException:
        subscription.close()
        raise
    if job is None:
        subscription.close()
        raise NotFoundError(f"no job with id {job_id}")
    return _follow(ctx, subscription, job, send_first=after is None or job.last_seq > after_seq)


async def _follow(
    ctx: Context, subscription: EventSubscription, job: Job, send_first: bool
) -> AsyncGenerator[Job, None]:
    try:
        if send_first:
            yield job
        seen = job.last_seq
        while True:
            event = await subscription.next()
            if event is None:
                return
            if event.job_id != job.id or event.seq <= seen:
                continue
            current = await ctx.read(job_row(job.id))
            if current is None:
                return
            seen = current.last_seq
            yield current
    finally:
        subscription.close()


async def jobs_updates(ctx: Context) -> AsyncGenerator[Job, None]:
    """Every job, each time it changes."""
    subscription = _feed(ctx).subscribe(None)
    return _follow_all(ctx, subscription)


async def _follow_all(ctx: Context, subscription: EventSubscription) -> AsyncGenerator[Job, None]:
    seen: dict[str, int] = {}
    try:
        while True:
            event = await subscription.next()
            if event is None:
                return
            if event.seq <= seen.get(event.job_id, 0):
                continue
            job = await ctx.read(job_row(event.job_id))
            if job is None:
                continue
            seen[job.id] = job.last_seq
            yield job
    finally:
        subscription.close()
