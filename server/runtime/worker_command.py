"""`cody-batch worker run JOB_ID --repo N`: one repository run with ports built from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.errors import NotFoundError
from core.models import PullRequest, RepositoryRun
from core.ports import Store
from core.settings import Settings

if TYPE_CHECKING:
    from worker.pipeline import WorkerPorts


def worker_ports(settings: Settings, store: Store) -> WorkerPorts:
    """The worker's ports: the given store, a Claude client and GitHub (imported only when used)."""
    from worker.agent.client import make_client
    from worker.pipeline import WorkerPorts

    def gate(run: RepositoryRun) -> object:
        from worker.github.gate import gate_run

        return gate_run(settings, store, run)

    def publish(*args: Any) -> PullRequest:
        # (workspace, job, run, summary, validation, patch), as worker.steps.PublishFn passes them
        from worker.github.publish import Publisher

        return Publisher(settings, store).publish(*args)

    return WorkerPorts(
        settings=settings,
        store=store,
        client_factory=lambda: make_client(settings),
        gate=gate,
        publish=publish,
    )


def run_worker(settings: Settings, job_id: str, index: int, attempt: int | None = None) -> None:
    """Run repository `index` of job `job_id` to a final status, on the store directly; with
    `attempt`, only that attempt (nothing when the run has moved on)."""
    from server.runtime.hardening import make_undumpable
    from store.sqlite import SqliteStore
    from worker.pipeline import run_repository

    make_undumpable()  # commands this run starts must not read its keys from /proc
    store = SqliteStore(settings.database_path)
    try:
        # An unknown job or index is the caller's mistake: say so with a non-zero exit
        # (on AWS Batch that marks the child failed) instead of logging and exiting 0.
        runs = store.get_runs([job_id])[job_id]
        if not runs:
            raise NotFoundError(f"no job with id {job_id}")
        if not 0 <= index < len(runs):
            raise NotFoundError(f"job {job_id} has no repository {index} (it has {len(runs)}: 0..{len(runs) - 1})")
        run_repository(worker_ports(settings, store), job_id, index, attempt)
    finally:
        store.close()
