"""`cody-batch worker run JOB_ID --repo N`: one repository run with ports built from settings."""

from __future__ import annotations

import logging
import os
import signal
from types import FrameType
from typing import TYPE_CHECKING

from core.errors import NotFoundError, RunErrorKind
from core.models import RepositoryRun
from core.ports import Store
from core.services.progress import RunProgress
from core.services.runs import find_run
from core.settings import Settings
from server.aws.batch_owner import owns_run
from server.aws.batch_retry import attempt_to_run
from server.runtime.backend import open_pacer, open_store
from server.runtime.hardening import detach_terminal, make_undumpable
from server.runtime.signal_relay import relayed_to_main_thread
from server.runtime.worker_config import github_config, model_endpoint, run_config

if TYPE_CHECKING:
    from worker.pipeline import WorkerPorts
    from worker.steps import Publisher

logger = logging.getLogger(__name__)

TERMINATED_MESSAGE = "the worker was stopped (SIGTERM: a timeout, a Spot reclaim or TerminateJob) before it finished"


class WorkerTerminated(BaseException):
    """SIGTERM arrived: unwind the run (a BaseException, so no `except Exception` in the worker keeps it)."""


def _terminated(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a repeat must not cut the unwinding or the record short
    raise WorkerTerminated(signum)


def worker_ports(settings: Settings, store: Store) -> WorkerPorts:
    """The worker's ports: the given store, a Claude client and GitHub (imported only when used)."""
    # The worker is imported here, not above: the server imports this module (its dispatcher's run
    # processes start here) without running a run itself, and `import anthropic` alone takes seconds.
    from worker.agent.client import make_client
    from worker.pipeline import WorkerPorts

    # Files in the data dir, shared by every run on this machine; on AWS an item of the table.
    pacer = open_pacer(settings)
    model, github = model_endpoint(settings), github_config(settings)

    def gate(run: RepositoryRun) -> object:
        from worker.github.client import github_pace
        from worker.github.gate import gate_run

        return gate_run(github, store, run, github_pace(github.access, pacer))

    def publisher() -> Publisher:
        from worker.github.client import github_pace
        from worker.github.publish import Publisher as GitHubPublisher

        return GitHubPublisher(github, store, pace=github_pace(github.access, pacer))

    return WorkerPorts(
        config=run_config(settings),
        model=model,
        store=store,
        client_factory=lambda: make_client(model),
        gate=gate,
        publisher=publisher,
    )


def run_worker(
    settings: Settings, job_id: str, index: int, attempt: int | None = None, resumptions: int | None = None
) -> None:
    """Run repository `index` of job `job_id` to a final status, on the store directly; with
    `attempt` (and `resumptions`), only that attempt as resumed so often (nothing when the run has moved on)."""
    store = open_store(settings)
    try:
        run_on_store(settings, store, job_id, index, attempt, resumptions)
    finally:
        store.close()


def run_worker_until_terminated(settings: Settings, job_id: str, index: int, attempt: int | None = None) -> int:
    """`run_worker`, recording a SIGTERM on the run before exiting; the exit code (143 after SIGTERM).

    On AWS Batch nothing watches the worker from outside: a timeout, a Spot reclaim or TerminateJob
    sends SIGTERM (SIGKILL follows ~30 s later), so the worker itself records why it stopped. The
    write is conditional on the run's version and leaves a finished run (e.g. CANCELLED), or one
    that moved on to a later attempt, as it is.
    """
    store = open_store(settings)
    previous = signal.signal(signal.SIGTERM, _terminated)
    resumptions: int | None = None
    try:
        try:
            if not owns_run(store, os.environ, job_id, index):
                logger.info("run %s of job %s is another Batch job's: this child leaves it", index, job_id)
                return 0
            attempt = attempt_to_run(store, os.environ, job_id, index, attempt, settings.max_resumes)
            # The resumption this child owns from here: if another child resumes the run while this one
            # is thought dead, every later write of this one (its SIGTERM record too) is refused.
            run = find_run(store, job_id, index)
            resumptions = len(run.resumptions) if run is not None and run.attempt == attempt else None
            with relayed_to_main_thread(signal.SIGTERM):  # the run's helper threads may take it
                run_on_store(settings, store, job_id, index, attempt, resumptions)
        except WorkerTerminated:
            _record_termination(store, job_id, index, attempt, resumptions)
            return 128 + signal.SIGTERM
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        store.close()


def _record_termination(store: Store, job_id: str, index: int, attempt: int | None, resumptions: int | None) -> None:
    run = find_run(store, job_id, index)
    if run is None or (attempt is not None and run.attempt != attempt):
        return
    try:
        RunProgress(store, run.id, run.attempt, resumptions).fail(RunErrorKind.TERMINATED, TERMINATED_MESSAGE)
    except Exception:
        logger.exception("could not record that run %s was terminated", run.id)


def run_on_store(
    settings: Settings,
    store: Store,
    job_id: str,
    index: int,
    attempt: int | None = None,
    resumptions: int | None = None,
) -> None:
    """Run repository `index` of job `job_id` on `store`; NotFoundError for an unknown job or index."""
    from worker.pipeline import run_repository

    make_undumpable()  # commands this run starts must not read its keys from /proc
    detach_terminal()  # nor type into the terminal the server was started from
    # An unknown job or index is the caller's mistake: say so with a non-zero exit
    # (on AWS Batch that marks the child failed) instead of logging and exiting 0.
    runs = store.get_runs([job_id]).get(job_id, [])
    if not runs:
        raise NotFoundError(f"no job with id {job_id}")
    if not 0 <= index < len(runs):
        raise NotFoundError(f"job {job_id} has no repository {index} (it has {len(runs)}: 0..{len(runs) - 1})")
    run_repository(worker_ports(settings, store), job_id, index, attempt, resumptions)
