"""Job use cases: create (validated), cancel, retry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from core.errors import InputError, NotFoundError
from core.limits import MAX_COST_LIMIT_USD, MAX_TURNS_LIMIT
from core.locations import Location, check_local_repository, is_allowed, normalize
from core.models import (
    Budget,
    EventKind,
    Job,
    JobKind,
    NewEvent,
    OutputMode,
    RepositoryRun,
    RunStatus,
    Strategy,
)
from core.ports import Change, Dispatcher, Store
from core.services.updates import update_runs
from core.settings import Settings

MAX_PROMPT_BYTES = 100_000
MAX_TITLE_CHARS = 200
MAX_CHECK_COMMAND_BYTES = 10_000


class JobRequest(BaseModel):
    """What a user asks for; validated by `create_job`."""

    model_config = ConfigDict(defer_build=True)

    prompt: str
    repositories: list[str]
    title: str | None = None
    kind: JobKind = JobKind.CHANGE
    output: OutputMode = OutputMode.PATCH
    strategy: Strategy = Strategy.GENERIC
    model: str | None = None
    check_command: str | None = None
    budget: Budget = Field(default_factory=Budget)


def _check_prompt(prompt: str) -> str:
    prompt = prompt.strip()
    if not prompt:
        raise InputError("the instruction is empty", "prompt")
    if len(prompt.encode()) > MAX_PROMPT_BYTES:
        raise InputError(f"the instruction is over {MAX_PROMPT_BYTES // 1000} KB", "prompt")
    return prompt


def _check_title(title: str | None, prompt: str) -> str:
    if title is None or not title.strip():
        first = prompt.splitlines()[0].strip()
        return first if len(first) <= 80 else first[:79] + "…"
    title = title.strip()
    if len(title) > MAX_TITLE_CHARS:
        raise InputError(f"the title is over {MAX_TITLE_CHARS} characters", "title")
    return title


@dataclass(frozen=True)
class RepositoryCheck:
    """One repository reference as this server sees it: where it points, whether the allowlist
    lets it in, and the problem that would refuse it in a job (None when there is none)."""

    reference: str
    location: Location | None
    allowed: bool
    problem: str | None


def inspect_repositories(refs: Sequence[str], settings: Settings, base: Path | None = None) -> list[RepositoryCheck]:
    """What `createJob` would say about each reference, without refusing the list as a whole."""
    seen: dict[str, int] = {}
    checks = []
    for i, ref in enumerate(refs):
        check = _inspect(ref, settings, base)
        if check.problem is None and check.location is not None:
            first = seen.setdefault(check.location.value, i)
            if first != i:
                check = replace(check, problem=f"{check.location} is listed twice (also at {first})")
        checks.append(check)
    return checks


def _inspect(ref: str, settings: Settings, base: Path | None) -> RepositoryCheck:
    try:
        # The allowlist comes before any look at the disk, so paths outside it stay unprobed.
        location = normalize(ref, base=base, check=False)
    except InputError as err:
        return RepositoryCheck(ref, None, False, err.message)
    if not is_allowed(location, settings.allowlist):
        problem = f"{location} is not allowed; allowed patterns: {', '.join(settings.allowlist)}"
        return RepositoryCheck(ref, location, False, problem)
    try:
        if not location.is_github:
            check_local_repository(location)
    except InputError as err:
        return RepositoryCheck(ref, location, True, err.message)
    return RepositoryCheck(ref, location, True, None)


def check_repositories(refs: Sequence[str], settings: Settings, base: Path | None = None) -> list[Location]:
    """Normalize and allow-check every reference; the first problem is an InputError."""
    if not refs:
        raise InputError("give at least one repository", "repositories")
    if len(refs) > settings.max_repositories:
        raise InputError(
            f"{len(refs)} repositories given; a job takes at most {settings.max_repositories}", "repositories"
        )
    locations = []
    for i, check in enumerate(inspect_repositories(refs, settings, base)):
        if check.problem is not None or check.location is None:
            raise InputError(check.problem or "not a repository reference", f"repositories.{i}")
        locations.append(check.location)
    return locations


def check_budget(budget: Budget) -> Budget:
    """`budget` when every limit it sets is in range; InputError naming the field otherwise."""
    if budget.max_turns is not None and not 1 <= budget.max_turns <= MAX_TURNS_LIMIT:
        raise InputError(f"maxTurns must be between 1 and {MAX_TURNS_LIMIT}", "budget.maxTurns")
    if budget.max_tokens is not None and not 1000 <= budget.max_tokens <= 100_000_000:
        raise InputError("maxTokens must be between 1,000 and 100,000,000", "budget.maxTokens")
    if budget.max_cost_usd is not None and not 0 < budget.max_cost_usd <= MAX_COST_LIMIT_USD:
        raise InputError(f"maxCostUsd must be above 0 and at most {MAX_COST_LIMIT_USD:g}", "budget.maxCostUsd")
    return budget


def build_job(request: JobRequest, settings: Settings) -> tuple[Job, list[RepositoryRun]]:
    """Validate a request into a job and its runs; InputError names the bad field."""
    prompt = _check_prompt(request.prompt)
    title = _check_title(request.title, prompt)
    locations = check_repositories(request.repositories, settings)
    model = request.model or settings.model
    if model not in settings.models and model not in settings.prices:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(settings.models)}", "model")
    check_command = (request.check_command or "").strip() or None
    if check_command is not None:
        if not settings.allow_commands:
            raise InputError(
                "check commands are disabled on this server (CODY_BATCH_ALLOW_COMMANDS is off)", "checkCommand"
            )
        if len(check_command.encode()) > MAX_CHECK_COMMAND_BYTES:
            raise InputError("the check command is too long", "checkCommand")
    if request.output.wants_pull_request:
        if request.kind is JobKind.ANALYZE:
            raise InputError("ANALYZE jobs only report; use output PATCH", "output")
        for i, location in enumerate(locations):
            if not location.is_github:
                raise InputError(f"pull requests need a github.com repository, not {location}", f"repositories.{i}")
        if settings.github_token is None:
            raise InputError("pull requests need GITHUB_TOKEN set on the server", "output")
    job = Job(
        title=title,
        prompt=prompt,
        kind=request.kind,
        output=request.output,
        strategy=request.strategy,
        model=model,
        budget=check_budget(request.budget),
        check_command=check_command,
    )
    runs = [RepositoryRun(job_id=job.id, index=i, location=loc.value) for i, loc in enumerate(locations)]
    return job, runs


def create_job(store: Store, dispatcher: Dispatcher, settings: Settings, request: JobRequest) -> Job:
    """Validate, store and dispatch a job."""
    job, runs = build_job(request, settings)
    events = store.commit(
        Change(
            job=job,
            job_version=None,
            runs=[(run, None) for run in runs],
            events=[NewEvent(kind=EventKind.STATUS, old_value=None, new_value=job.status)],
        )
    )
    dispatcher.dispatch(job.id, [run.index for run in runs])
    # As written (a new row is version 1); its cursor marks the creation, so a subscription
    # resumed from it sees whatever the workers did since.
    return job.model_copy(update={"version": 1, "last_seq": events[-1].seq})


def cancel_job(store: Store, dispatcher: Dispatcher, job_id: str) -> Job:
    """Cancel every unfinished run of a job; finished runs keep their result."""
    cancelled: list[int] = []

    def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        cancelled.clear()
        out = {}
        for run in runs:
            if not run.status.finished:
                cancelled.append(run.index)
                out[run.id] = run.model_copy(update={"status": RunStatus.CANCELLED})
        return out

    job = update_runs(store, job_id, mutate)
    if cancelled:
        dispatcher.cancel(job_id, cancelled)
    return job


def retry_runs(
    store: Store,
    dispatcher: Dispatcher,
    job_id: str,
    run_ids: Sequence[str] | None = None,
    *,
    reopen_pull_requests: bool = False,
) -> Job:
    """Start a new attempt of the named runs (default: the failed ones).

    A pull request closed on GitHub stays closed unless `reopen_pull_requests` is set.
    """
    if store.get_job(job_id) is None:
        raise NotFoundError(f"no job with id {job_id}")
    retried: list[int] = []

    def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
        retried.clear()
        by_id = {r.id: r for r in runs}
        if run_ids is None:
            chosen = [r for r in runs if r.status is RunStatus.FAILED]
        else:
            unknown = [i for i in run_ids if i not in by_id]
            if unknown:
                raise NotFoundError(f"job {job_id} has no run with id {unknown[0]}")
            chosen = [by_id[i] for i in dict.fromkeys(run_ids)]
            running = [r for r in chosen if not r.status.finished]
            if running:
                raise InputError(f"run {running[0].id} is still {running[0].status}; cancel it first", "runIds")
        out = {}
        for run in chosen:
            retried.append(run.index)
            out[run.id] = RepositoryRun(
                id=run.id,
                job_id=run.job_id,
                index=run.index,
                location=run.location,
                attempt=run.attempt + 1,
                attempts=[*run.attempts, run.as_attempt()],
                pull_request=run.pull_request,
                branch=run.branch,
                reopen_pull_request=reopen_pull_requests,
            )
        return out

    job = update_runs(store, job_id, mutate)
    if retried:
        dispatcher.dispatch(job_id, retried)
    return job
