"""The root types: each field maps arguments, calls a resolver, wraps the result."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from core import errors, models
from resolvers import jobs as job_resolvers
from resolvers import repositories as repository_resolvers
from resolvers import runs as run_resolvers
from resolvers import subscriptions
from resolvers.loaders import Loaders
from schema.context import Info
from schema.enums import JobStatus, PullRequestAction
from schema.inputs import BudgetInput, ContinueRunPayload, CreateJobInput, CreateJobPayload, InputError
from schema.jobs import Job, JobConnection, JobEvent
from schema.repositories import RepositoryCheck
from schema.runs import PullRequestActionResult, RepositoryRun
from schema.server_settings import ServerSettings


@strawberry.type
class Query:
    @strawberry.field(description="A job by id; null when unknown.")
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        job = await job_resolvers.get_job(info.context, str(id))
        return None if job is None else Job.from_model(job, info.context.loaders())

    @strawberry.field(description="One repository run by id (e.g. to load its thread alone); null when unknown.")
    async def run(self, info: Info, id: strawberry.ID) -> RepositoryRun | None:
        run = await run_resolvers.get_run(info.context, str(id))
        return None if run is None else RepositoryRun.from_model(run)

    @strawberry.field(description="Jobs, newest first (Relay connection; first <= 100).")
    async def jobs(
        self, info: Info, first: int | None = 20, after: str | None = None, status: JobStatus | None = None
    ) -> JobConnection:
        loaders = info.context.loaders()
        page = await job_resolvers.list_jobs(info.context, 20 if first is None else first, after, status)
        return JobConnection.from_page(page, loaders)

    @strawberry.field(description="Every event of a job after a cursor, oldest first.")
    async def job_events(
        self, info: Info, job_id: strawberry.ID, after: str | None = None, first: int | None = 100
    ) -> list[JobEvent]:
        events = await job_resolvers.job_events(info.context, str(job_id), after, 100 if first is None else first)
        return [JobEvent.from_model(e) for e in events]

    @strawberry.field(description="What this server allows and offers.")
    def settings(self, info: Info) -> ServerSettings:
        return ServerSettings.from_model(info.context.settings)

    @strawberry.field(
        description="What createJob would say about each repository reference (at most 100), creating nothing."
    )
    async def check_repositories(self, info: Info, repositories: list[str]) -> list[RepositoryCheck]:
        checks = await repository_resolvers.check_repositories(info.context, repositories)
        return [RepositoryCheck.from_model(c) for c in checks]


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Validate, store and start a job; bad input is an InputError.")
    async def create_job(self, info: Info, input: CreateJobInput) -> CreateJobPayload:
        try:
            job = await job_resolvers.create_job(info.context, input.to_request())
        except errors.InputError as err:
            return InputError.from_error(err)
        return Job.from_model(job, info.context.loaders())

    @strawberry.mutation(description="Cancel every unfinished run of a job.")
    async def cancel_job(self, info: Info, id: strawberry.ID) -> Job:
        job = await job_resolvers.cancel_job(info.context, str(id))
        return Job.from_model(job, info.context.loaders())

    @strawberry.mutation(
        description="Start a new attempt of the named runs (default: the failed ones). A pull request closed "
        "on GitHub stays closed unless reopenClosedPullRequests is true; when GitHub refuses to reopen it, "
        "a new pull request links it."
    )
    async def retry_repositories(
        self,
        info: Info,
        job_id: strawberry.ID,
        run_ids: list[strawberry.ID] | None = None,
        reopen_closed_pull_requests: bool = False,
    ) -> Job:
        ids = None if run_ids is None else [str(i) for i in run_ids]
        job = await job_resolvers.retry_runs(info.context, str(job_id), ids, reopen_closed_pull_requests)
        return Job.from_model(job, info.context.loaders())

    @strawberry.mutation(
        description="Continue a run that its budget (BUDGET), its job's cost limit (JOB_BUDGET), its turn limit or "
        "its time limit stopped, with `budget`'s limits raised, or one that failed INTERRUPTED or WORKER_DIED once "
        "the server's own resumptions were used up, with `budget`'s limits (if any; `{}` keeps the run's) over its "
        "own: the same attempt goes on from its stored thread and workspace checkpoint (answered turns are not "
        "asked again; usage adds up). A JOB_BUDGET run needs `maxJobCostUsd`, the job's new cost limit for all its "
        "runs together, above what the job has spent (the job keeps it); without it that run is an InputError, as "
        "is any other run or one with no stored thread."
    )
    async def continue_run(
        self,
        info: Info,
        run_id: strawberry.ID,
        budget: BudgetInput,
        max_job_cost_usd: Annotated[
            float | None,
            strawberry.argument(description="The job's new cost limit in USD (all its runs together)."),
        ] = None,
    ) -> ContinueRunPayload:
        try:
            job = await job_resolvers.continue_run(info.context, str(run_id), budget.to_model(), max_job_cost_usd)
        except errors.InputError as err:
            return InputError.from_error(err)
        return Job.from_model(job, info.context.loaders())

    @strawberry.mutation(
        description="Read the job's pull requests from GitHub now (conditional requests: what did not change "
        "costs no rate limit) and store their state; each change is an event."
    )
    async def refresh_pull_requests(self, info: Info, job_id: strawberry.ID) -> Job:
        job = await job_resolvers.refresh_job_pull_requests(info.context, str(job_id))
        return Job.from_model(job, info.context.loaders())

    @strawberry.mutation(
        description="Apply one action to the pull requests of the named runs (default: all of the job's), "
        "each decided on its state on GitHub now; a result per pull request. dryRun: say what would happen."
    )
    async def pull_request_action(
        self,
        info: Info,
        job_id: strawberry.ID,
        action: PullRequestAction,
        run_ids: list[strawberry.ID] | None = None,
        comment: str | None = None,
        dry_run: bool = False,
    ) -> list[PullRequestActionResult]:
        ids = None if run_ids is None else [str(i) for i in run_ids]
        results = await job_resolvers.pull_request_action(info.context, str(job_id), action, ids, comment, dry_run)
        return [PullRequestActionResult.from_model(r) for r in results]


async def _wrap(jobs: AsyncGenerator[models.Job, None], info: Info) -> AsyncGenerator[Job, None]:
    # Fresh loaders per event: a long subscription never serves rows read for an earlier one.
    try:
        async for job in jobs:
            yield Job.from_model(job, Loaders(info.context.read))
    finally:
        await jobs.aclose()


# Subscriptions whose every result is the subject's whole current state: a subscriber joining a
# running execution of one may start from its latest result (server/web/shared_subscriptions.py).
STATE_SUBSCRIPTIONS = frozenset({"jobUpdated"})


@strawberry.type
class Subscription:
    @strawberry.subscription(description="The job now (with `after`: only if it changed since), then on each change.")
    async def job_updated(self, info: Info, id: strawberry.ID, after: str | None = None) -> AsyncGenerator[Job, None]:
        return _wrap(await subscriptions.job_updates(info.context, str(id), after), info)

    @strawberry.subscription(description="Any job, each time it changes.")
    async def jobs_updated(self, info: Info) -> AsyncGenerator[Job, None]:
        return _wrap(await subscriptions.jobs_updates(info.context), info)
