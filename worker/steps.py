"""The steps of one repository run. Each is named: it records its step and status as it begins
(so status, cancellation and resumption stay per step), takes what it needs and returns what
the next step needs. `worker/pipeline.py` calls them in order."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import anthropic

from core.errors import ConfigurationError
from core.locations import Location, parse_location
from core.models import (
    CommandIsolation,
    FileChange,
    Job,
    JobKind,
    Patch,
    PullRequest,
    RepositoryRun,
    RunAttempt,
    RunStatus,
    Thread,
    Validation,
)
from core.ports import Store
from core.services.progress import RunProgress, WorkspaceState
from core.services.updates import job_usage
from worker.agent.isolation import command_isolation
from worker.agent.loop import Agent, AgentConfig
from worker.agent.prompts import build_system_prompt
from worker.checkpoint import LastStaged, last_turn_changed_files, take_checkpoint, thread_changed_files
from worker.lazy_files import LazyFiles
from worker.patch import Diff, patch_key, stage, to_patch
from worker.pending_workspace import Checkpointed, PendingWorkspace, before_check
from worker.republish import RestoreError, restore_patch
from worker.run_config import ModelEndpoint, RunConfig
from worker.validation import CommandRunner, validate
from worker.workspace import Workspace, scratch_dir

Gate = Callable[[RepositoryRun], object]


class Publisher(Protocol):
    """Opens a run's one pull request, or finds it again (on GitHub: worker.github.publish.Publisher)."""

    def publish(
        self,
        workspace: Workspace,
        job: Job,
        run: RepositoryRun,
        summary: str | None,
        validation: Validation | None,
        patch: Patch,
    ) -> PullRequest:
        """Push the workspace's changes to the job's branch and return its pull request."""
        ...


MISSING_KEY = (
    "ANTHROPIC_API_KEY is not set. Set it in the environment of the server (or of `cody-batch worker run`), "
    "e.g. `export ANTHROPIC_API_KEY=sk-ant-...`, or start the server with `cody-batch serve --demo` "
    "to replay a recorded session instead."
)


class Finished(Exception):  # a control-flow signal, like StopIteration
    """The run ends early with this status (e.g. NO_CHANGES); not an error."""

    def __init__(self, status: RunStatus) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Step:
    """A step's name and the run status it records as it begins."""

    name: str
    status: RunStatus


GATE = Step("gate", RunStatus.CLONING)
RESTORE = Step("restore", RunStatus.CLONING)
CLONE = Step("clone", RunStatus.CLONING)
AGENT = Step("agent", RunStatus.RUNNING_AGENT)
VALIDATE = Step("validate", RunStatus.VALIDATING)
PATCH = Step("patch", RunStatus.VALIDATING)
PUBLISH = Step("publish", RunStatus.PUBLISHING)


@dataclass(frozen=True)
class Attempt:
    """What every step of one attempt shares; all of it is known before the first step."""

    config: RunConfig
    store: Store
    job: Job
    run: RepositoryRun
    progress: RunProgress
    stack: ExitStack  # clean-up when the attempt ends: scratch dirs, the clone's thread
    runner: CommandRunner
    git_token: str | None

    @property
    def location(self) -> Location:
        return parse_location(self.run.location)

    @property
    def check_command(self) -> str | None:
        return self.job.check_command if self.config.allow_commands else None

    @property
    def runs_commands(self) -> bool:
        """Whether a command can run in this attempt: Claude's (not for ANALYZE jobs) or the check command."""
        return self.config.allow_commands and (self.job.kind is not JobKind.ANALYZE or self.check_command is not None)

    def begin(self, step: Step, command_isolation: CommandIsolation | None = None) -> None:
        """Stop here if the run was cancelled; otherwise record that `step` has begun (and how commands run)."""
        # One read and one write: the write decides on the run as stored, refusing a cancelled one.
        self.progress.advance(status=step.status, step=step.name, command_isolation=command_isolation)


@dataclass(frozen=True)
class Worked:
    """Claude's work on the task: the agent (for fix rounds), its summary, the diff its last checkpoint staged."""

    agent: Agent
    summary: str | None
    staged: LastStaged


@dataclass(frozen=True)
class Validated:
    """A checked change: the verdict, the diff it was given for, and the summary after any fix rounds."""

    validation: Validation
    diff: Diff
    summary: str | None


@dataclass(frozen=True)
class Restored:
    """An earlier attempt's result put back: its workspace, patch, summary and verdict."""

    workspace: Workspace
    patch: Patch
    summary: str | None
    validation: Validation | None


def check_configuration(model: ModelEndpoint) -> None:
    """Fail at once, before any work, when no model can be reached."""
    if model.api_key is None and not model.demo:
        raise ConfigurationError(MISSING_KEY)


def gate_repository(attempt: Attempt, gate: Gate) -> None:
    """Pull-request jobs: check the repository can take a PR before any token is spent."""
    attempt.begin(GATE)
    gate(attempt.run)


def start_clone(attempt: Attempt) -> PendingWorkspace:
    """Start a fresh lazy clone (and, with a check command, its run on the unchanged code) in the background."""
    attempt.begin(CLONE)
    check = before_check(attempt.check_command, attempt.runner)
    location = attempt.location
    return PendingWorkspace(attempt.stack, attempt.config.workspace_dir, location.clone_url, attempt.git_token, check)


def resume_clone(attempt: Attempt, thread: Thread) -> PendingWorkspace:
    """A resumed run's workspace in the background: a clone at the checkpoint's base commit, its diff applied."""
    attempt.begin(CLONE)
    check = before_check(attempt.check_command, attempt.runner)
    location, checkpoint = attempt.location, attempt.run.checkpoint
    if checkpoint is not None:
        diff = attempt.store.get_artifact(checkpoint.artifact_key)
        if diff is None:
            raise RestoreError(f"the workspace checkpoint of turn {checkpoint.turn} is no longer stored")
        restore = Checkpointed(checkpoint.base_commit, diff)
    elif thread_changed_files(thread):
        raise RestoreError("the run changed files but has no workspace checkpoint to resume from")
    else:
        restore = Checkpointed(None, b"")
    return PendingWorkspace(
        attempt.stack, attempt.config.workspace_dir, location.clone_url, attempt.git_token, check, restore
    )


def run_agent(
    attempt: Attempt,
    pending: PendingWorkspace,
    client_factory: Callable[[], anthropic.Anthropic],
    stored: Thread | None = None,
) -> Worked:
    """Claude works on the task (or, for ANALYZE jobs, reads and reports); with a `stored` thread, goes on from it."""
    # Recorded as the step begins, in the same write: the check command started with the clone, and
    # Claude's commands may come with the first reply. The probe behind it runs once per process.
    isolation = command_isolation(attempt.config.command_sandbox) if attempt.runs_commands else None
    attempt.begin(AGENT, isolation)
    staged = LastStaged(reusable=not attempt.config.allow_commands)
    agent = _agent(attempt, pending, client_factory, stored, staged)
    result = agent.resume() if stored is not None else agent.run(attempt.job.prompt)
    attempt.progress.advance(summary=result.summary)
    return Worked(agent, result.summary, staged)


def _agent(
    attempt: Attempt,
    pending: PendingWorkspace,
    client_factory: Callable[[], anthropic.Anthropic],
    stored: Thread | None,
    staged: LastStaged,
) -> Agent:
    job, run = attempt.job, attempt.run
    run_config = attempt.config
    limits = run_config.limits
    budget = run.budget or job.budget
    runs = attempt.store.get_runs([job.id]).get(job.id, [])
    others = [r for r in runs if r.id != run.id]
    spent_before = job_usage(others).cost_usd + sum(a.usage.cost_usd for a in run.attempts)
    config = AgentConfig(
        model=job.model,
        system_prompt=build_system_prompt(
            job.strategy, job.kind, attempt.location.name or Path(run.location).name, run_config.allow_commands
        ),
        max_turns=budget.max_turns or limits.max_turns,
        max_tokens_per_call=limits.max_tokens_per_call,
        max_run_tokens=budget.max_tokens or limits.max_run_tokens,
        max_cost_usd=budget.max_cost_usd or limits.max_cost_usd,
        max_wall_seconds=limits.max_wall_seconds,
        prices=run_config.prices,
        allow_commands=run_config.allow_commands,
        read_only=job.kind is JobKind.ANALYZE,
        command_timeout=limits.command_timeout,
        spent_before_usd=spent_before,
        max_job_cost_usd=job.max_job_cost_usd or limits.max_job_cost_usd,
        secrets=run_config.secret_values(),
        command_sandbox=run_config.command_sandbox,
    )
    thread = stored or Thread(run_id=run.id, attempt=run.attempt, model=job.model)
    return Agent(
        client_factory(),
        config,
        pending.path,
        thread,
        on_turn=lambda saved: _ignore(
            attempt.progress.save_thread(saved, _checkpoint(attempt, pending, saved, staged))
        ),
        check_cancelled=_check_after_the_first(attempt.progress),
        before_tools=lambda: _ignore(pending.workspace()),
        files=LazyFiles(pending.workspace),
    )


def _checkpoint(
    attempt: Attempt, pending: PendingWorkspace, thread: Thread, staged: LastStaged
) -> WorkspaceState | None:
    """This turn's workspace checkpoint, when its tools may have changed files (the clone is done by then)."""
    if not last_turn_changed_files(thread):
        return None
    return take_checkpoint(pending.workspace(), thread, attempt.config.limits.max_patch_bytes, staged)


def _check_after_the_first(progress: RunProgress) -> Callable[[], None]:
    """The agent's cancellation check before each request, but the first: the step's write that
    precedes it has just made that check, and the first request waits for nothing else."""
    checks = iter([False])

    def check() -> None:
        if next(checks, True):
            progress.check_cancelled()

    return check


def _ignore(_: Any) -> None:
    return None


def validate_change(attempt: Attempt, pending: PendingWorkspace, worked: Worked) -> Validated:
    """Check the change; feed failures back to Claude for a bounded number of rounds. No change: NO_CHANGES."""
    attempt.begin(VALIDATE)
    workspace, fix_rounds = pending.workspace(), attempt.config.limits.fix_rounds
    summary = worked.summary
    for round_number in range(1, fix_rounds + 2):
        # Nothing changed the files since the last checkpoint staged them: its diff is the one (4 git calls saved).
        kept = worked.staged.take()
        diff = kept if kept is not None else stage(workspace, attempt.config.limits.max_patch_bytes)
        if diff.empty:
            raise Finished(RunStatus.NO_CHANGES)
        paths = [f.path for f in diff.files if f.change is not FileChange.DELETED]
        outcome = validate(
            workspace, paths, command=attempt.check_command, before=pending.before(), runner=attempt.runner
        )
        attempt.progress.advance(validation=outcome.validation)
        if outcome.feedback is None or round_number > fix_rounds:
            return Validated(outcome.validation, diff, summary)  # nothing changed since: the patch can use it
        attempt.progress.advance(status=RunStatus.RUNNING_AGENT, step=f"fix round {round_number}")
        summary = worked.agent.run(outcome.feedback).summary
        attempt.progress.advance(status=RunStatus.VALIDATING, step=VALIDATE.name, summary=summary)
    raise AssertionError("unreachable: the last round returns")


def make_patch(attempt: Attempt, workspace: Workspace, diff: Diff) -> Patch:
    """Store the diff as an artifact and its stats on the run."""
    attempt.begin(PATCH)
    key = patch_key(attempt.run.id, attempt.run.attempt)
    attempt.store.put_artifact(key, diff.data)
    patch = to_patch(diff, key, workspace.base_commit)
    attempt.progress.advance(patch=patch)
    return patch


def restore_earlier(attempt: Attempt, earlier: RunAttempt) -> Restored:
    """A retry after a failed publish: the earlier attempt's patch, summary and verdict, Claude not asked again."""
    attempt.begin(RESTORE)
    patch = earlier.patch
    assert patch is not None, "only attempts with a patch are republished"
    diff = attempt.store.get_artifact(patch.artifact_key)
    if diff is None:
        raise RestoreError(f"the patch of attempt {earlier.attempt} is no longer stored")
    tmp = attempt.stack.enter_context(scratch_dir(attempt.config.workspace_dir))
    workspace = restore_patch(attempt.location.clone_url, tmp / "repo", attempt.git_token, patch.base_commit, diff)
    key = patch_key(attempt.run.id, attempt.run.attempt)
    attempt.store.put_artifact(key, diff)
    patch = patch.model_copy(update={"artifact_key": key})
    attempt.progress.advance(patch=patch, summary=earlier.summary, validation=earlier.validation)
    return Restored(workspace, patch, earlier.summary, earlier.validation)


def publish(
    attempt: Attempt,
    publisher: Publisher,
    workspace: Workspace,
    summary: str | None,
    validation: Validation | None,
    patch: Patch,
) -> PullRequest:
    """Push a branch and open (or find) the pull request."""
    attempt.begin(PUBLISH)
    pull_request = publisher.publish(workspace, attempt.job, attempt.progress.run(), summary, validation, patch)
    attempt.progress.advance(pull_request=pull_request)
    return pull_request
