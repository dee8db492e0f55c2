"""The steps of one repository run, each a named command object over a shared RunContext."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

import anthropic

from core.errors import ConfigurationError
from core.locations import Location, parse_location
from core.models import (
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
from core.services.progress import RunProgress
from core.services.updates import job_usage
from core.settings import Settings
from worker.agent.command import kill_running_commands
from worker.agent.loop import Agent, AgentConfig
from worker.agent.prompts import build_system_prompt
from worker.lazy_files import LazyFiles
from worker.patch import Diff, patch_key, stage, to_patch
from worker.republish import RestoreError, restore_patch
from worker.validation import CheckRun, CommandRunner, run_check, validate
from worker.workspace import Workspace, clone, scratch_dir

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


def run_secrets(settings: Settings) -> tuple[str, ...]:
    """The secrets a run knows (the API key, the tokens): hidden from tool output and failure messages."""
    held = (settings.anthropic_api_key, settings.github_token, settings.api_token)
    return tuple(secret.get_secret_value() for secret in held if secret)


class Finished(Exception):  # a control-flow signal, like StopIteration
    """The run ends early with this status (e.g. NO_CHANGES); not an error."""

    def __init__(self, status: RunStatus) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class RunContext:
    """What the steps of one run share: ports, the job and run, and what earlier steps made."""

    settings: Settings
    store: Store
    job: Job
    run: RepositoryRun
    progress: RunProgress
    stack: ExitStack
    client_factory: Callable[[], anthropic.Anthropic]
    runner: CommandRunner | None
    git_token: str | None = None
    workspace_path: Path | None = None
    pending: Future[Workspace] | None = None
    workspace: Workspace | None = None
    before: CheckRun | None = None
    agent: Agent | None = None
    summary: str | None = None
    validation: Validation | None = None
    diff: Diff | None = None
    patch: Patch | None = None

    @property
    def location(self) -> Location:
        return parse_location(self.run.location)

    @property
    def check_command(self) -> str | None:
        return self.job.check_command if self.settings.allow_commands else None

    def ws(self) -> Workspace:
        """The workspace, once cloned (waiting for the clone; raising its error if it failed)."""
        if self.workspace is None:
            assert self.pending is not None, "the Clone step runs first"
            self.workspace = self.pending.result()
        return self.workspace


class Step:
    """One named step: the status and step name it records, then its work."""

    name: ClassVar[str]
    status: ClassVar[RunStatus]

    def __call__(self, ctx: RunContext) -> None:
        ctx.progress.check_cancelled()
        ctx.progress.advance(status=self.status, step=self.name)
        self.run(ctx)

    def run(self, ctx: RunContext) -> None:
        raise NotImplementedError


class CheckConfiguration(Step):
    """Fail at once, before any work, when no model can be reached."""

    name = "configuration"
    status = RunStatus.CLONING

    def __call__(self, ctx: RunContext) -> None:
        self.run(ctx)

    def run(self, ctx: RunContext) -> None:
        if ctx.settings.anthropic_api_key is None and not ctx.settings.demo:
            raise ConfigurationError(MISSING_KEY)


@dataclass
class GateRepository(Step):
    """Pull-request jobs: check the repository can take a PR before any token is spent."""

    gate: Gate
    name = "gate"
    status = RunStatus.CLONING

    def run(self, ctx: RunContext) -> None:
        self.gate(ctx.run)


class Clone(Step):
    """Start a fresh lazy clone (and, with a check command, its run on the unchanged code) in the background.

    Claude's first call needs no files, so it overlaps the clone; the tools and every
    later step wait for it (`RunContext.ws`).
    """

    name = "clone"
    status = RunStatus.CLONING

    def run(self, ctx: RunContext) -> None:
        tmp = ctx.stack.enter_context(scratch_dir(ctx.settings.workspace_dir))
        ctx.workspace_path = tmp / "repo"
        ctx.workspace_path.mkdir()
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clone")
        ctx.stack.callback(executor.shutdown, wait=True, cancel_futures=True)
        # Unwinding (a cancelled run) ends the check command first, so the shutdown above does not
        # wait for it: callbacks run last-registered first.
        ctx.stack.callback(kill_running_commands)
        ctx.pending = executor.submit(self._prepare, ctx, ctx.workspace_path)

    @staticmethod
    def _prepare(ctx: RunContext, dest: Path) -> Workspace:
        # Lazy: only the root files now; the file tools check out what they touch, a command gets all.
        workspace = clone(ctx.location.clone_url, dest, token=ctx.git_token, lazy=True)
        command = ctx.check_command
        if command and ctx.runner is not None:
            ctx.before = run_check(ctx.runner, workspace, command)
        return workspace


class RunAgent(Step):
    """Claude works on the task (or, for ANALYZE jobs, reads and reports)."""

    name = "agent"
    status = RunStatus.RUNNING_AGENT

    def run(self, ctx: RunContext) -> None:
        ctx.agent = self._agent(ctx)
        result = ctx.agent.run(ctx.job.prompt)
        ctx.summary = result.summary
        ctx.progress.advance(summary=result.summary)

    def _agent(self, ctx: RunContext) -> Agent:
        settings, job, run = ctx.settings, ctx.job, ctx.run
        runs = ctx.store.get_runs([job.id]).get(job.id, [])
        others = [r for r in runs if r.id != run.id]
        spent_before = job_usage(others).cost_usd + sum(a.usage.cost_usd for a in run.attempts)
        read_only = job.kind is JobKind.ANALYZE
        config = AgentConfig(
            model=job.model,
            system_prompt=build_system_prompt(
                job.strategy, job.kind, ctx.location.name or Path(run.location).name, settings.allow_commands
            ),
            max_turns=job.budget.max_turns or settings.max_turns,
            max_tokens_per_call=settings.max_tokens_per_call,
            max_run_tokens=job.budget.max_tokens or settings.max_run_tokens,
            max_cost_usd=job.budget.max_cost_usd or settings.max_cost_usd,
            max_wall_seconds=settings.max_wall_seconds,
            prices=settings.prices,
            allow_commands=settings.allow_commands,
            read_only=read_only,
            command_timeout=settings.command_timeout,
            spent_before_usd=spent_before,
            max_job_cost_usd=settings.max_job_cost_usd,
            secrets=run_secrets(settings),
        )
        thread = Thread(run_id=run.id, attempt=run.attempt, model=job.model)
        return Agent(
            ctx.client_factory(),
            config,
            ctx.workspace_path or ctx.ws().path,
            thread,
            on_turn=lambda saved: _ignore(ctx.progress.save_thread(saved)),
            check_cancelled=lambda: _ignore(ctx.progress.check_cancelled()),
            before_tools=lambda: _ignore(ctx.ws()),
            files=LazyFiles(ctx.ws),
        )


def _ignore(_: Any) -> None:
    return None


class Validate(Step):
    """Check the change; feed failures back to Claude for a bounded number of rounds."""

    name = "validate"
    status = RunStatus.VALIDATING

    def run(self, ctx: RunContext) -> None:
        workspace = ctx.ws()
        for round_number in range(1, ctx.settings.fix_rounds + 2):
            diff = stage(workspace, ctx.settings.max_patch_bytes)
            if diff.empty:
                raise Finished(RunStatus.NO_CHANGES)
            paths = [f.path for f in diff.files if f.change is not FileChange.DELETED]
            outcome = validate(workspace, paths, command=ctx.check_command, before=ctx.before, runner=ctx.runner)
            ctx.validation = outcome.validation
            ctx.progress.advance(validation=outcome.validation)
            if outcome.feedback is None or round_number > ctx.settings.fix_rounds or ctx.agent is None:
                ctx.diff = diff  # nothing changed since: the Patch step can use it as it is
                return
            ctx.progress.advance(status=RunStatus.RUNNING_AGENT, step=f"fix round {round_number}")
            result = ctx.agent.run(outcome.feedback)
            ctx.summary = result.summary
            ctx.progress.advance(status=RunStatus.VALIDATING, step=self.name, summary=result.summary)


class MakePatch(Step):
    """Store the diff as an artifact and its stats on the run; nothing changed ends NO_CHANGES."""

    name = "patch"
    status = RunStatus.VALIDATING

    def run(self, ctx: RunContext) -> None:
        workspace = ctx.ws()
        # Over the size cap, staging fails before anything is stored or pushed.
        diff = ctx.diff or stage(workspace, ctx.settings.max_patch_bytes)
        if diff.empty:
            raise Finished(RunStatus.NO_CHANGES)
        key = patch_key(ctx.run.id, ctx.run.attempt)
        ctx.store.put_artifact(key, diff.data)
        ctx.patch = to_patch(diff, key, workspace.base_commit)
        ctx.progress.advance(patch=ctx.patch)


@dataclass
class RestorePatch(Step):
    """A retry after a failed publish: the earlier attempt's patch, summary and verdict, Claude not asked again."""

    earlier: RunAttempt
    name = "restore"
    status = RunStatus.CLONING

    def run(self, ctx: RunContext) -> None:
        patch = self.earlier.patch
        assert patch is not None, "only attempts with a patch are republished"
        diff = ctx.store.get_artifact(patch.artifact_key)
        if diff is None:
            raise RestoreError(f"the patch of attempt {self.earlier.attempt} is no longer stored")
        tmp = ctx.stack.enter_context(scratch_dir(ctx.settings.workspace_dir))
        ctx.workspace = restore_patch(ctx.location.clone_url, tmp / "repo", ctx.git_token, patch.base_commit, diff)
        ctx.workspace_path = ctx.workspace.path
        key = patch_key(ctx.run.id, ctx.run.attempt)
        ctx.store.put_artifact(key, diff)
        ctx.patch = patch.model_copy(update={"artifact_key": key})
        ctx.summary, ctx.validation = self.earlier.summary, self.earlier.validation
        ctx.progress.advance(patch=ctx.patch, summary=ctx.summary, validation=ctx.validation)


@dataclass
class Publish(Step):
    """Push a branch and open (or find) the pull request."""

    publisher: Publisher
    name = "publish"
    status = RunStatus.PUBLISHING

    def run(self, ctx: RunContext) -> None:
        assert ctx.patch is not None, "the Patch step runs first"
        pull_request = self.publisher.publish(
            ctx.ws(), ctx.job, ctx.progress.run(), ctx.summary, ctx.validation, ctx.patch
        )
        ctx.progress.advance(pull_request=pull_request)
