"""Job queries and mutations: plain functions over the Context, returning core objects."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence

from core.errors import CodyBatchError, InputError, NotFoundError
from core.models import ActionResult, Budget, Event, Job, JobStatus, PullRequestAction, decode_cursor
from core.ports import Page, PullRequestHost
from core.services import continuation
from core.services import jobs as job_service
from core.services.jobs import JobRequest
from core.services.pull_requests import refresh_pull_requests
from resolvers.context import Context

MAX_PAGE = 100
MAX_EVENTS = 500


def check_first(first: int, limit: int = MAX_PAGE) -> int:
    """`first` within 1..limit, else an InputError naming the argument."""
    if not 1 <= first <= limit:
        raise InputError(f"first must be between 1 and {limit}", "first")
    return first


def event_seq(cursor: str | None, field: str = "after") -> int:
    """The sequence number in an event cursor; InputError for a foreign one."""
    try:
        return decode_cursor(cursor)
    except ValueError as err:
        raise InputError(str(err), field) from None


async def get_job(ctx: Context, job_id: str) -> Job | None:
    """One job, or None when unknown."""
    return await ctx.loaders().jobs.load(job_id)


async def require_job(ctx: Context, job_id: str) -> Job:
    """One job; NotFoundError when unknown."""
    job = await asyncio.to_thread(ctx.store.get_job, job_id)
    if job is None:
        raise NotFoundError(f"no job with id {job_id}")
    return job


async def list_jobs(ctx: Context, first: int, after: str | None, status: JobStatus | None) -> Page:
    """A page of jobs, newest first."""
    check_first(first)
    try:
        page = await asyncio.to_thread(ctx.store.list_jobs, first, after, status)
    except ValueError as err:
        raise InputError(str(err), "after") from None
    loaders = ctx.loaders()
    for job in page.jobs:
        loaders.jobs.prime(job.id, job)
    return page


async def job_events(ctx: Context, job_id: str, after: str | None, first: int) -> list[Event]:
    """A job's events after a cursor, oldest first."""
    check_first(first, MAX_EVENTS)
    after_seq = event_seq(after)
    await require_job(ctx, job_id)
    return await asyncio.to_thread(ctx.store.list_events, job_id, after_seq, first)


async def create_job(ctx: Context, request: JobRequest) -> Job:
    """Validate, store and dispatch a job; InputError names the bad field."""
    return await asyncio.to_thread(job_service.create_job, ctx.store, ctx.dispatcher, ctx.settings, request)


async def cancel_job(ctx: Context, job_id: str) -> Job:
    """Cancel every unfinished run of a job."""
    return await asyncio.to_thread(job_service.cancel_job, ctx.store, ctx.dispatcher, job_id)


async def retry_runs(ctx: Context, job_id: str, run_ids: Sequence[str] | None, reopen: bool = False) -> Job:
    """Start a new attempt of the named runs, or of the failed ones."""
    ids = None if run_ids is None else list(run_ids)
    return await asyncio.to_thread(
        functools.partial(job_service.retry_runs, reopen_pull_requests=reopen), ctx.store, ctx.dispatcher, job_id, ids
    )


async def continue_run(ctx: Context, run_id: str, budget: Budget, max_job_cost_usd: float | None = None) -> Job:
    """Continue a run a limit stopped, with raised limits, from its stored thread and checkpoint."""
    return await asyncio.to_thread(
        continuation.continue_run, ctx.store, ctx.dispatcher, run_id, budget, max_job_cost_usd
    )


async def refresh_job_pull_requests(ctx: Context, job_id: str) -> Job:
    """Read a job's pull requests from GitHub now and store what changed."""
    return await asyncio.to_thread(refresh_pull_requests, ctx.store, _host(ctx), job_id)


def _host(ctx: Context) -> PullRequestHost:
    if ctx.pull_requests is None:
        raise CodyBatchError("this server does not read pull requests from GitHub")
    return ctx.pull_requests


async def pull_request_action(
    ctx: Context,
    job_id: str,
    action: PullRequestAction,
    run_ids: Sequence[str] | None,
    comment: str | None,
    dry_run: bool,
) -> list[ActionResult]:
    """Apply one action to many pull requests of a job; a result for each."""
    # Bulk actions are rare: the module stays out of every other request's cold start.
    from core.services.pull_request_actions import act_on_pull_requests

    ids = None if run_ids is None else list(run_ids)
    return await asyncio.to_thread(act_on_pull_requests, ctx.store, _host(ctx), job_id, action, ids, comment, dry_run)
