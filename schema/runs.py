"""Repository run types: status, result, patch, pull request, validation, attempts."""

from __future__ import annotations

import datetime as dt

import strawberry

from core import models
from resolvers import runs as run_resolvers
from schema.command_isolation import COMMAND_ISOLATION, CommandIsolation
from schema.context import Info
from schema.enums import (
    ActionOutcome,
    ChecksState,
    CheckStatus,
    FileChange,
    PullRequestState,
    ResumeReason,
    ReviewDecision,
    RunErrorKind,
    RunStatus,
)
from schema.threads import Thread
from schema.usage import Usage


@strawberry.type
class RunError:
    kind: RunErrorKind
    message: str

    @classmethod
    def from_model(cls, error: models.RunError | None) -> RunError | None:
        return None if error is None else cls(kind=error.kind, message=error.message)


@strawberry.type
class PatchFile:
    path: str
    change: FileChange
    additions: int
    deletions: int
    binary: bool

    @classmethod
    def from_model(cls, file: models.PatchFile) -> PatchFile:
        return cls(
            path=file.path, change=file.change, additions=file.additions, deletions=file.deletions, binary=file.binary
        )


@strawberry.type(description="A stored patch: stats here, the diff loaded on demand.")
class Patch:
    files_changed: int
    additions: int
    deletions: int
    files: list[PatchFile]
    base_commit: str | None
    size_bytes: int | None = strawberry.field(
        description="Bytes of the diff; null for patches stored before sizes were kept."
    )
    _model: strawberry.Private[models.Patch]
    _run: strawberry.Private[models.RepositoryRun]
    _attempt: strawberry.Private[int | None]

    @classmethod
    def from_model(
        cls, patch: models.Patch | None, run: models.RepositoryRun, attempt: int | None = None
    ) -> Patch | None:
        if patch is None:
            return None
        return cls(
            files_changed=patch.files_changed,
            additions=patch.additions,
            deletions=patch.deletions,
            files=[PatchFile.from_model(f) for f in patch.files],
            base_commit=patch.base_commit,
            size_bytes=patch.size_bytes,
            _model=patch,
            _run=run,
            _attempt=attempt,
        )

    @strawberry.field(
        description="The unified diff (git diff --binary); null when `maxBytes` is given and the diff is larger "
        "(a UI then offers `downloadUrl` instead of rendering megabytes)."
    )
    async def diff(self, info: Info, max_bytes: int | None = None) -> str | None:
        return await run_resolvers.patch_diff(info.context, self._model, max_bytes)

    @strawberry.field(description="A plain link that downloads the diff as a file.")
    def download_url(self, info: Info) -> str:
        url = run_resolvers.patch_download_url(info.context, self._run)
        if self._attempt is None:
            return url
        return f"{url}{'&' if '?' in url else '?'}attempt={self._attempt}"


@strawberry.type
class PullRequest:
    url: str
    number: int
    branch: str
    draft: bool = strawberry.field(description="Opened as a draft (its state now is `state`).")
    state: PullRequestState = strawberry.field(description="As last synced; before that, as opened.")
    checks: ChecksState = strawberry.field(description="Check runs and commit statuses on the head, together.")
    review_decision: ReviewDecision
    mergeable: bool | None = strawberry.field(description="Null while GitHub has not computed it, and once closed.")
    updated_at: dt.datetime | None = strawberry.field(description="When GitHub last changed it.")
    synced_at: dt.datetime | None = strawberry.field(description="When Cody Batch last heard from GitHub about it.")

    @classmethod
    def from_model(cls, pr: models.PullRequest | None) -> PullRequest | None:
        if pr is None:
            return None
        status = pr.status
        return cls(
            url=pr.url,
            number=pr.number,
            branch=pr.branch,
            draft=pr.draft,
            state=pr.state,
            checks=status.checks if status else ChecksState.NONE,
            review_decision=status.review_decision if status else ReviewDecision.NONE,
            mergeable=status.mergeable if status else None,
            updated_at=status.updated_at if status else None,
            synced_at=pr.synced_at,
        )


@strawberry.type
class ValidationCheck:
    name: str
    status: CheckStatus
    output: str
    pre_existing: bool = strawberry.field(
        description="True when it failed on the code before the change too: not the change's doing."
    )


@strawberry.type
class Validation:
    verdict: str
    checks: list[ValidationCheck]

    @classmethod
    def from_model(cls, validation: models.Validation | None) -> Validation | None:
        if validation is None:
            return None
        checks = [
            ValidationCheck(name=c.name, status=c.status, output=c.output, pre_existing=c.pre_existing)
            for c in validation.checks
        ]
        return cls(verdict=validation.verdict.value, checks=checks)


@strawberry.type(
    description="One time an attempt went on from its stored thread and workspace checkpoint instead of starting over."
)
class Resumption:
    reason: ResumeReason
    from_turn: int = strawberry.field(description="The turns already answered: the next request starts after them.")
    at: dt.datetime
    cause: str | None = strawberry.field(
        description="What stopped the run before it went on, in words (a killed worker, a stopped server, a "
        "terminated Batch child, or the limit the user raised)."
    )

    @classmethod
    def from_model(cls, resumption: models.Resumption) -> Resumption:
        return cls(reason=resumption.reason, from_turn=resumption.from_turn, at=resumption.at, cause=resumption.cause)


@strawberry.type(description="An earlier attempt of a run, kept when it was retried.")
class RunAttempt:
    attempt: int
    status: RunStatus
    step: str | None
    error: RunError | None
    summary: str | None
    patch: Patch | None
    usage: Usage
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    resumptions: list[Resumption] = strawberry.field(
        description="Each time this attempt went on from its stored state, oldest first."
    )
    command_isolation: CommandIsolation | None = strawberry.field(description=COMMAND_ISOLATION)

    @classmethod
    def from_model(cls, attempt: models.RunAttempt, run: models.RepositoryRun) -> RunAttempt:
        return cls(
            attempt=attempt.attempt,
            status=attempt.status,
            step=attempt.step,
            error=RunError.from_model(attempt.error),
            summary=attempt.summary,
            patch=Patch.from_model(attempt.patch, run, attempt.attempt),
            usage=Usage.from_model(attempt.usage),
            started_at=attempt.started_at,
            finished_at=attempt.finished_at,
            resumptions=[Resumption.from_model(r) for r in attempt.resumptions],
            command_isolation=CommandIsolation.from_model(attempt.command_isolation),
        )


@strawberry.type(description="One repository of a job: its current attempt and the earlier ones.")
class RepositoryRun:
    id: strawberry.ID
    index: int
    location: str
    status: RunStatus
    step: str | None = strawberry.field(
        description="What the run is doing now (or was, when it failed); on AWS, a PENDING run whose Batch "
        "submission was refused for a while (throttled) says here that it waits for AWS Batch to accept it."
    )
    attempt: int
    error: RunError | None
    summary: str | None
    patch: Patch | None
    pull_request: PullRequest | None
    validation: Validation | None
    usage: Usage
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    attempts: list[RunAttempt]
    resumptions: list[Resumption] = strawberry.field(
        description="Each time this attempt went on from its stored state (continued by the user, or resumed "
        "after its worker or server died), oldest first."
    )
    command_isolation: CommandIsolation | None = strawberry.field(description=COMMAND_ISOLATION)
    _model: strawberry.Private[models.RepositoryRun]

    @classmethod
    def from_model(cls, run: models.RepositoryRun) -> RepositoryRun:
        return cls(
            id=strawberry.ID(run.id),
            index=run.index,
            location=run.location,
            status=run.status,
            step=run.step,
            attempt=run.attempt,
            error=RunError.from_model(run.error),
            summary=run.summary,
            patch=Patch.from_model(run.patch, run),
            pull_request=PullRequest.from_model(run.pull_request),
            validation=Validation.from_model(run.validation),
            usage=Usage.from_model(run.usage),
            started_at=run.started_at,
            finished_at=run.finished_at,
            attempts=[RunAttempt.from_model(a, run) for a in run.attempts],
            resumptions=[Resumption.from_model(r) for r in run.resumptions],
            command_isolation=CommandIsolation.from_model(run.command_isolation),
            _model=run,
        )

    @strawberry.field(description="Claude's answers in the current attempt so far, as its thread holds them.")
    async def turns(self, info: Info) -> int:
        return await run_resolvers.turns(info.context, self._model)

    @strawberry.field(description="The exact messages exchanged with Claude; live while the run works.")
    async def thread(self, info: Info) -> Thread | None:
        thread = await run_resolvers.thread(info.context, self._model)
        return None if thread is None else Thread.from_model(thread)


@strawberry.type(description="What an action did, or would do, to one run's pull request, and why.")
class PullRequestActionResult:
    run_id: strawberry.ID
    location: str
    number: int | None
    url: str | None
    outcome: ActionOutcome
    message: str

    @classmethod
    def from_model(cls, result: models.ActionResult) -> PullRequestActionResult:
        return cls(
            run_id=strawberry.ID(result.run_id),
            location=result.location,
            number=result.number,
            url=result.url,
            outcome=result.outcome,
            message=result.message,
        )
