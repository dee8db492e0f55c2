"""Job types: the job, its page (Relay connection) and its events."""

from __future__ import annotations

import datetime as dt

import strawberry

from core import models
from core.ports import Page
from core.services.pull_requests import tally
from resolvers.loaders import Loaders
from schema.enums import JobKind, JobStatus, OutputMode, Strategy
from schema.runs import RepositoryRun
from schema.usage import Usage


@strawberry.type
class Budget:
    max_turns: int | None
    max_tokens: int | None
    max_cost_usd: float | None


@strawberry.type(description="One instruction applied to up to a few repositories.")
class Job:
    id: strawberry.ID
    title: str
    prompt: str
    kind: JobKind
    output: OutputMode
    strategy: Strategy
    model: str
    budget: Budget
    max_job_cost_usd: float | None = strawberry.field(
        description="What all the job's runs together may cost, in USD, once raised by continuing a run that "
        "limit stopped; null: the server's limit."
    )
    check_command: str | None
    status: JobStatus
    cursor: str = strawberry.field(description="Marks the job's latest event (see jobUpdated's `after`).")
    created_at: dt.datetime
    updated_at: dt.datetime
    usage: Usage
    _loaders: strawberry.Private[Loaders]

    @classmethod
    def from_model(cls, job: models.Job, loaders: Loaders) -> Job:
        """The GraphQL job; `loaders` belong to the operation (request or event) showing it."""
        return cls(
            id=strawberry.ID(job.id),
            title=job.title,
            prompt=job.prompt,
            kind=job.kind,
            output=job.output,
            strategy=job.strategy,
            model=job.model,
            budget=Budget(
                max_turns=job.budget.max_turns,
                max_tokens=job.budget.max_tokens,
                max_cost_usd=job.budget.max_cost_usd,
            ),
            max_job_cost_usd=job.max_job_cost_usd,
            check_command=job.check_command,
            status=job.status,
            cursor=job.cursor,
            created_at=job.created_at,
            updated_at=job.updated_at,
            usage=Usage.from_model(job.usage),
            _loaders=loaders,
        )

    @strawberry.field(description="One run per repository, in the order given.")
    async def repositories(self) -> list[RepositoryRun]:
        runs = await self._loaders.runs_by_job.load(str(self.id))
        return [RepositoryRun.from_model(run) for run in runs]

    @strawberry.field(description="The job's pull requests by state.")
    async def pull_requests(self) -> PullRequestTally:
        counts = tally(await self._loaders.runs_by_job.load(str(self.id)))
        return PullRequestTally(
            open=counts.open,
            draft=counts.draft,
            merged=counts.merged,
            closed=counts.closed,
            checks_failing=counts.checks_failing,
        )


@strawberry.type(description="How many of a job's pull requests are in each state, as last synced.")
class PullRequestTally:
    open: int
    draft: int
    merged: int
    closed: int
    checks_failing: int = strawberry.field(description="Open or merged ones whose checks fail.")


@strawberry.type
class JobEdge:
    cursor: str
    node: Job


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class JobConnection:
    edges: list[JobEdge]
    page_info: PageInfo

    @classmethod
    def from_page(cls, page: Page, loaders: Loaders) -> JobConnection:
        edges = [
            JobEdge(cursor=cursor, node=Job.from_model(job, loaders))
            for job, cursor in zip(page.jobs, page.cursors, strict=True)
        ]
        return cls(edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor))


@strawberry.type(description="One change of a job, in order; `cursor` resumes after it.")
class JobEvent:
    cursor: str
    kind: str
    run_id: strawberry.ID | None
    old_value: str | None
    new_value: str | None
    at: dt.datetime

    @classmethod
    def from_model(cls, event: models.Event) -> JobEvent:
        return cls(
            cursor=event.cursor,
            kind=event.kind.value,
            run_id=None if event.run_id is None else strawberry.ID(event.run_id),
            old_value=event.old_value,
            new_value=event.new_value,
            at=event.at,
        )
