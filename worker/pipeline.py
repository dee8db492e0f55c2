"""One repository run from start to end: the steps in order, and every way it can finish."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

import anthropic

from core.errors import ConfigurationError, RunCancelled, RunErrorKind, RunFailure
from core.models import Job, JobKind, RunStatus
from core.ports import Store
from core.services.progress import RunProgress, load_thread
from core.services.runs import find_run
from worker.git_auth import redact
from worker.republish import republishable
from worker.run_config import ModelEndpoint, RunConfig
from worker.steps import (
    Attempt,
    Finished,
    Gate,
    Publisher,
    check_configuration,
    gate_repository,
    make_patch,
    publish,
    restore_earlier,
    resume_clone,
    run_agent,
    start_clone,
    validate_change,
)
from worker.validation import CommandRunner, sandboxed_runner

logger = logging.getLogger(__name__)


@dataclass
class WorkerPorts:
    """What a worker needs from outside: its configuration, the store, a model client, GitHub."""

    config: RunConfig
    model: ModelEndpoint
    store: Store
    client_factory: Callable[[], anthropic.Anthropic]
    gate: Gate | None = None
    publisher: Callable[[], Publisher] | None = None  # built only for a run that opens a pull request
    runner: CommandRunner | None = None


def run_repository(
    ports: WorkerPorts, job_id: str, index: int, attempt: int | None = None, resumptions: int | None = None
) -> None:
    """Run one repository of a job to a final status; never raises, never leaves the run unfinished.

    `attempt` is the attempt this worker was started for (default: the current one), `resumptions`
    how often it had been resumed then (default: as now); when the run has moved past them, the
    worker does nothing, and every write it makes is fenced to them."""
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
    if resumptions is not None and len(run.resumptions) != resumptions:
        logger.info("run %s was resumed by another worker since this one started", run.id)
        return
    progress = RunProgress(ports.store, run.id, run.attempt, len(run.resumptions))
    config = ports.config
    secrets = list(config.secret_values())
    try:
        with ExitStack() as stack:
            runner = ports.runner or sandboxed_runner(config.limits.command_timeout, config.command_sandbox)
            scope = Attempt(config, ports.store, job, run, progress, stack, runner, config.git_token_value())
            try:
                final = run_attempt(scope, ports)
            except Finished as finished:
                final = finished.status
            progress.advance(status=final)  # refused, as every write, once the run was cancelled
    except RunCancelled:
        logger.info("run %s was cancelled", run.id)
    except RunFailure as err:
        # Set-up, agent limits, clone and publish problems: their messages are written for users.
        _fail(progress, err.kind, str(err), secrets, err.step)
    except Exception as err:
        logger.exception("run %s failed unexpectedly", run.id)
        _fail(progress, RunErrorKind.INTERNAL, f"unexpected error: {type(err).__name__}: {err}", secrets)


def run_attempt(attempt: Attempt, ports: WorkerPorts) -> RunStatus:
    """One attempt of a run, step by step; its final status (or Finished, RunFailure, RunCancelled)."""
    check_configuration(ports.model)
    job, run = attempt.job, attempt.run
    publisher = _publisher(ports, job)
    if publisher is not None:
        assert ports.gate is not None
        gate_repository(attempt, ports.gate)
        earlier = republishable(run)
        if earlier is not None:
            # Only the publishing failed: publish the same patch again instead of paying Claude twice.
            restored = restore_earlier(attempt, earlier)
            publish(attempt, publisher, restored.workspace, restored.summary, restored.validation, restored.patch)
            return RunStatus.SUCCEEDED
    # A thread stored for this attempt means it went on before (continued, or its worker died): resume it.
    stored = load_thread(attempt.store, run)
    pending = start_clone(attempt) if stored is None else resume_clone(attempt, stored)
    # Claude's first call overlaps the clone; whatever fails from here, a failed clone is the cause.
    with pending.as_cause():
        worked = run_agent(attempt, pending, ports.client_factory, stored)
        workspace = pending.workspace()  # a clone that failed while Claude answered without tools fails the run
        if job.kind is JobKind.ANALYZE:
            return RunStatus.SUCCEEDED
        validated = validate_change(attempt, pending, worked)
        patch = make_patch(attempt, workspace, validated.diff)
        if publisher is not None:
            publish(attempt, publisher, workspace, validated.summary, validated.validation, patch)
    return RunStatus.SUCCEEDED


def _publisher(ports: WorkerPorts, job: Job) -> Publisher | None:
    """The publisher of a job that opens pull requests (ANALYZE jobs only report); None otherwise."""
    if job.kind is JobKind.ANALYZE or not job.output.wants_pull_request:
        return None
    if ports.gate is None or ports.publisher is None:
        raise ConfigurationError("this worker cannot open pull requests: no GitHub publisher configured")
    return ports.publisher()


def _fail(progress: RunProgress, kind: RunErrorKind, message: str, secrets: list[str], step: str | None = None) -> None:
    try:
        progress.fail(kind, redact(message, *secrets), step)
    except Exception:
        logger.exception("could not record the failure of run %s", progress.run_id)
