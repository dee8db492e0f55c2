"""One repository run from start to end: the steps in order, and every way it can finish."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

import anthropic

from core.errors import ConfigurationError, RunCancelled, RunErrorKind, RunFailure
from core.models import Job, JobKind, RepositoryRun, RunStatus
from core.ports import Store
from core.services.progress import RunProgress
from core.services.runs import find_run
from core.settings import Settings
from worker.git_auth import redact
from worker.republish import republishable
from worker.steps import (
    CheckConfiguration,
    Clone,
    Finished,
    Gate,
    GateRepository,
    MakePatch,
    Publish,
    Publisher,
    RestorePatch,
    RunAgent,
    RunContext,
    Step,
    Validate,
    run_secrets,
)
from worker.validation import CommandRunner, sandboxed_runner

logger = logging.getLogger(__name__)


@dataclass
class WorkerPorts:
    """What a worker needs from outside: settings, the store, a model client, GitHub."""

    settings: Settings
    store: Store
    client_factory: Callable[[], anthropic.Anthropic]
    gate: Gate | None = None
    publisher: Callable[[], Publisher] | None = None  # built only for a run that opens a pull request
    runner: CommandRunner | None = None


def plan(ports: WorkerPorts, job: Job, run: RepositoryRun) -> list[Step]:
    """The steps this attempt of a run takes, in order."""
    if job.kind is JobKind.ANALYZE:
        return [CheckConfiguration(), Clone(), RunAgent()]
    wants_pull_request = job.output.wants_pull_request
    steps: list[Step] = [CheckConfiguration()]
    if wants_pull_request:
        if ports.gate is None or ports.publisher is None:
            raise ConfigurationError("this worker cannot open pull requests: no GitHub publisher configured")
        earlier = republishable(run)
        if earlier is not None:
            # Only the publishing failed: publish the same patch again instead of paying Claude twice.
            return [GateRepository(ports.gate), RestorePatch(earlier), Publish(ports.publisher())]
        steps.append(GateRepository(ports.gate))
    steps += [Clone(), RunAgent(), Validate(), MakePatch()]
    if wants_pull_request:
        assert ports.publisher is not None
        steps.append(Publish(ports.publisher()))
    return steps


def run_repository(ports: WorkerPorts, job_id: str, index: int, attempt: int | None = None) -> None:
    """Run one repository of a job to a final status; never raises, never leaves the run unfinished.

    `attempt` is the attempt this worker was started for (default: the current one); when the
    run has moved past it, the worker does nothing, and every write it makes is fenced to it."""
    run = find_run(ports.store, job_id, index)
    job = ports.store.get_job(job_id)
    if run is None or job is None:
        logger.error("job %s has no repository %s", job_id, index)
        return
    if run.status.finished:
        logger.info("run %s is already %s", run.id, run.status)
        return
    if attempt is not None and run.attempt != attempt:
        logger.info("run %s is at attempt %s, not %s", run.id, run.attempt, attempt)
        return
    progress = RunProgress(ports.store, run.id, run.attempt)
    secrets = list(run_secrets(ports.settings))
    try:
        with ExitStack() as stack:
            token = ports.settings.github_token
            ctx = RunContext(
                settings=ports.settings,
                store=ports.store,
                job=job,
                run=run,
                progress=progress,
                stack=stack,
                client_factory=ports.client_factory,
                runner=ports.runner or sandboxed_runner(ports.settings.command_timeout),
                git_token=token.get_secret_value() if token else None,
            )
            try:
                for step in plan(ports, job, run):
                    step(ctx)
                ctx.ws()  # a clone that failed while Claude answered without tools still fails the run
                final = RunStatus.SUCCEEDED
            except Finished as finished:
                final = finished.status
            except RunCancelled:
                raise
            except Exception as err:
                # A failed clone is the real cause of whatever went wrong while it ran in the background.
                cause = _clone_error(ctx)
                if cause is None:
                    raise
                raise cause from err
            progress.check_cancelled()
            progress.advance(status=final)
    except RunCancelled:
        logger.info("run %s was cancelled", run.id)
    except RunFailure as err:
        # Set-up, agent limits, clone and publish problems: their messages are written for users.
        _fail(progress, err.kind, str(err), secrets, err.step)
    except Exception as err:
        logger.exception("run %s failed unexpectedly", run.id)
        _fail(progress, RunErrorKind.INTERNAL, f"unexpected error: {type(err).__name__}: {err}", secrets)


def _clone_error(ctx: RunContext) -> BaseException | None:
    pending = ctx.pending
    if pending is None or not pending.done() or pending.cancelled():
        return None
    return pending.exception()


def _fail(progress: RunProgress, kind: RunErrorKind, message: str, secrets: list[str], step: str | None = None) -> None:
    try:
        progress.fail(kind, redact(message, *secrets), step)
    except Exception:
        logger.exception("could not record the failure of run %s", progress.run_id)
