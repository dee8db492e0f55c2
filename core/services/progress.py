"""What a worker records about its run: status, step, thread turns, results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from core.errors import NotFoundError, RunCancelled, RunErrorKind, RunSuperseded
from core.ids import utcnow
from core.models import (
    Checkpoint,
    CommandIsolation,
    EventKind,
    Job,
    NewEvent,
    Patch,
    PullRequest,
    RepositoryRun,
    RunError,
    RunStatus,
    Thread,
    Validation,
    thread_key,
)
from core.ports import Store
from core.services.pull_request_index import index_pull_request
from core.services.updates import RunMutation, update_run
from core.state import check_transition


@dataclass(frozen=True)
class WorkspaceState:
    """A turn's workspace checkpoint and its diff bytes; `checkpoint` None: none could be taken (the
    stored one is dropped, so nothing resumes from files older than the thread)."""

    checkpoint: Checkpoint | None
    diff: bytes = b""


class RunProgress:
    """A worker's handle on one attempt of its run: the attempt fence.

    Every write decides on the run as stored and goes through only while the run is unfinished
    and still at this handle's attempt; the store commits it only if the run's version is still
    the one read (`update_run` retries lost races on fresh rows), so nothing can slip in between
    the check and the write. A stale worker (an older attempt, or one whose run was cancelled or
    ended by the server) gets RunCancelled / RunSuperseded and cannot change a newer attempt.

    The handle also owns one resumption of its attempt: a resumed run goes on as the same attempt
    in a new worker, and the worker it replaced may not be dead (a "terminated" Batch child can
    still write), so a write is refused once the attempt has been resumed past this handle's.
    """

    def __init__(self, store: Store, run_id: str, attempt: int | None = None, resumptions: int | None = None) -> None:
        self.store = store
        self.run_id = run_id
        # The attempt this handle owns; None: the one current when the handle first reads the run.
        self.attempt = attempt
        # How many times that attempt had been resumed when this worker took it; None: as first read.
        self.resumptions = resumptions
        self._job_id: str | None = None  # a run never changes jobs: read once

    def run(self) -> RepositoryRun:
        run = self.store.get_run(self.run_id)
        if run is None:
            raise NotFoundError(f"no run with id {self.run_id}")
        self._job_id = run.job_id
        self._pin(run)
        return run

    def _pin(self, run: RepositoryRun) -> None:
        if self.attempt is None:
            self.attempt = run.attempt
        if self.resumptions is None and run.attempt == self.attempt:
            self.resumptions = len(run.resumptions)

    @property
    def job_id(self) -> str:
        return self._job_id if self._job_id is not None else self.run().job_id

    def _update(self, mutate: RunMutation, **options: Any) -> RepositoryRun:
        return update_run(self.store, self.job_id, self.run_id, mutate, **options)

    def job(self) -> Job:
        job = self.store.get_job(self.run().job_id)
        if job is None:
            raise NotFoundError(f"no job for run {self.run_id}")
        return job

    def owns(self, run: RepositoryRun) -> bool:
        """Whether `run` (as stored) is still this handle's attempt, not resumed since by another worker."""
        self._pin(run)
        return run.attempt == self.attempt and len(run.resumptions) == self.resumptions

    def check_cancelled(self) -> RepositoryRun:
        """The current run; RunCancelled when it was cancelled, RunSuperseded when it moved on."""
        run = self.run()
        self._guarded(run)
        return run

    def _guarded(self, run: RepositoryRun) -> None:
        if not self.owns(run):
            where = f"attempt {run.attempt}, resumed {len(run.resumptions)} time(s)"
            raise RunSuperseded(
                f"run {self.run_id} is at {where}; this worker's attempt {self.attempt}"
                f" (resumed {self.resumptions} time(s)) is over"
            )
        if run.status is RunStatus.CANCELLED:
            raise RunCancelled(f"run {self.run_id} was cancelled")
        if run.status.finished:
            raise RunSuperseded(f"run {self.run_id} already ended as {run.status}")

    def advance(
        self,
        status: RunStatus | None = None,
        step: str | None = None,
        *,
        summary: str | None = None,
        validation: Validation | None = None,
        patch: Patch | None = None,
        pull_request: PullRequest | None = None,
        command_isolation: CommandIsolation | None = None,
    ) -> RepositoryRun:
        """Move to `status` (checked by the state machine) and/or `step`, recording the results given.

        `command_isolation` joins what the attempt recorded before: a run resumed on another worker keeps
        the weaker of the two, since its earlier commands ran under the first."""
        # Named, typed fields: `model_copy(update=...)` below does not validate what it is handed.
        results = {"summary": summary, "validation": validation, "patch": patch, "pull_request": pull_request}

        def mutate(run: RepositoryRun) -> RepositoryRun:
            self._guarded(run)
            update: dict[str, Any] = {name: value for name, value in results.items() if value is not None}
            if status is not None and status != run.status:
                check_transition(run.status, status)
                update["status"] = status
                if run.started_at is None:
                    update["started_at"] = utcnow()
            if step is not None:
                update["step"] = step
            if command_isolation is not None:
                earlier = run.command_isolation
                update["command_isolation"] = (
                    command_isolation if earlier is None else earlier.weakest(command_isolation)
                )
            return run.model_copy(update=update)

        stored = self._update(mutate)
        if pull_request is not None and stored.branch is not None:
            # So a webhook delivery, which names only repository and number or branch, finds this run.
            index_pull_request(self.store, stored.branch.repository, stored)
        return stored

    def save_thread(self, thread: Thread, workspace: WorkspaceState | None = None) -> RepositoryRun:
        """Store the thread so far, its usage and turn count on the run, and a TURN event; with `workspace`, the
        checkpoint of this turn's files in the same write (or, when none could be taken, none)."""
        turns = thread.turns
        usage = thread.usage
        artifacts = {thread_key(thread.run_id, thread.attempt): thread.model_dump_json().encode()}
        update: dict[str, Any] = {"usage": usage, "turns": turns}
        if workspace is not None:
            update["checkpoint"] = workspace.checkpoint
            if workspace.checkpoint is not None:
                artifacts[workspace.checkpoint.artifact_key] = workspace.diff

        def mutate(run: RepositoryRun) -> RepositoryRun:
            self._guarded(run)
            return run.model_copy(update=update)

        return self._update(
            mutate,
            extra_events=[NewEvent(run_id=self.run_id, kind=EventKind.TURN, new_value=str(turns))],
            artifacts=artifacts,
        )

    def fail(self, kind: RunErrorKind, message: str, step: str | None = None) -> RepositoryRun:
        """Finish as FAILED with an error (and the step it happened in, when the run's current step
        is not it); a finished run, or a newer attempt, is left as it is."""

        def mutate(run: RepositoryRun) -> RepositoryRun | None:
            if run.status.finished or not self.owns(run):
                return None
            update: dict[str, object] = {"status": RunStatus.FAILED, "error": RunError(kind=kind, message=message)}
            if step is not None:
                update["step"] = step
            return run.model_copy(update=update)

        return self._update(mutate)


class ArtifactReads(Protocol):
    """Where a thread is read from: any store, or the reads of one (resolvers read on the event loop)."""

    def get_artifact(self, key: str) -> bytes | None: ...


def load_thread(store: ArtifactReads, run: RepositoryRun) -> Thread | None:
    """The stored thread of the run's current attempt, if any turn was saved."""
    data = store.get_artifact(thread_key(run.id, run.attempt))
    return None if data is None else Thread.model_validate_json(data)
