"""A Batch child that failed outside Batch's retry rules: its run resumed on a new child, or failed.

Batch starts a child again only when the capacity under it went away (the job definition's
retry rules). A child killed out of memory, by its time limit, by an operator's TerminateJob or
with a lost host after the last retry ends FAILED and nothing starts it again: its run would
stay unfinished (nothing was recorded) or FAILED `TERMINATED` (the worker's SIGTERM record).
An EventBridge rule sends every FAILED "Batch Job State Change" of the worker queue here. The
run that Batch job ran is resumed as the same attempt from its thread and checkpoint on a new
Batch child while it has resumptions left (CODY_BATCH_MAX_RESUMES); past that an unfinished run
fails `WORKER_DIED` with Batch's reason. A cancelled or otherwise finished run is left alone.

EventBridge delivers at least once: the decision is one conditional write that also replaces the
run's `batch_job_id` with a pending submission (server/aws/batch_submission.py), so a second
delivery of the same event resumes nothing again; it finds the run by that submission and submits
the new child only if the first delivery did not. A scheduled event sweeps the submissions no
delivery finished.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import RunErrorKind
from core.models import BatchSubmission, RepositoryRun, RunError, RunStatus
from core.ports import Store
from core.services.recovery import resume, resumes_left
from core.services.updates import update_run
from core.settings import Settings
from server.aws.batch_request import JOB_NAME_PREFIX
from server.aws.batch_submission import Submitter, awaiting_submission
from server.aws.batch_sweep import sweep

if TYPE_CHECKING:
    from botocore.client import BaseClient

logger = logging.getLogger(__name__)

SOURCE = "aws.batch"
DETAIL_TYPE = "Batch Job State Change"
FAILED = "FAILED"
SCHEDULE_SOURCE = "aws.events"
SCHEDULE_DETAIL_TYPE = "Scheduled Event"


def failed_jobs_pattern(job_queue_arn: str) -> dict[str, Any]:
    """The EventBridge pattern of a FAILED job of the worker queue (the stack's rules and the emulator's)."""
    detail = {"status": [FAILED], "jobQueue": [job_queue_arn]}
    return {"source": [SOURCE], "detail-type": [DETAIL_TYPE], "detail": detail}


class BatchContainer(BaseModel):
    """What the event says of the job's container: how it ended."""

    model_config = ConfigDict(populate_by_name=True)

    exit_code: int | None = Field(default=None, alias="exitCode")
    reason: str | None = None


class BatchJobDetail(BaseModel):
    """The fields of a "Batch Job State Change" detail this handler reads (the rest is DescribeJobs' job)."""

    model_config = ConfigDict(populate_by_name=True)

    job_id: str = Field(alias="jobId", min_length=1)
    job_name: str = Field(alias="jobName")
    job_queue: str = Field(alias="jobQueue")
    status: str
    status_reason: str | None = Field(default=None, alias="statusReason")
    container: BatchContainer | None = None


class BatchJobStateChange(EventBridgeModel):
    """A "Batch Job State Change" event from EventBridge."""

    source: Literal["aws.batch"]
    detail_type: Literal["Batch Job State Change"] = Field(alias="detail-type")
    detail: BatchJobDetail


class Outcome(StrEnum):
    """What an event did to its run."""

    RESUMED = "resumed"
    FAILED = "failed"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Settled:
    """The outcome for one event, the run it concerned (if any) and why, in words."""

    outcome: Outcome
    why: str
    run_id: str | None = None

    def answer(self) -> dict[str, str | None]:
        """The handler's result (EventBridge ignores it; it shows in the function's logs and in tests)."""
        return {"outcome": self.outcome.value, "runId": self.run_id, "why": self.why}


def _ended(detail: BatchJobDetail) -> str:
    """How Batch says the child ended, for the run's history and error."""
    parts = [detail.status_reason or "no reason given"]
    container = detail.container
    if container is not None and container.reason:
        parts.append(container.reason)
    if container is not None and container.exit_code is not None:
        parts.append(f"exit code {container.exit_code}")
    return f"AWS Batch job {detail.job_id} failed: {'; '.join(parts)}"


def _stopped(run: RepositoryRun) -> bool:
    """Left unfinished (queued or mid-step) or recorded as TERMINATED by its worker: a child's death stopped it."""
    if run.status is RunStatus.FAILED:
        return run.error is not None and run.error.kind == RunErrorKind.TERMINATED
    return not run.status.finished


def _scheduled(event: object) -> bool:
    """The schedule rule's Scheduled Event (anything else goes to the parser, which may refuse it)."""
    if not isinstance(event, Mapping):
        return False
    return event.get("source") == SCHEDULE_SOURCE and event.get("detail-type") == SCHEDULE_DETAIL_TYPE


def _same_queue(event_queue: str, configured: str | None) -> bool:
    """The event's queue ARN is the configured queue (given as its ARN or its name)."""
    if not configured:
        return True
    return event_queue == configured or event_queue.endswith(f":job-queue/{configured}")


class BatchFailures:
    """The handler of the worker queue's FAILED Batch jobs: resume or fail the run each one ran."""

    def __init__(self, settings: Settings, store: Store, batch: Any, submitter: Submitter | None = None) -> None:
        self.settings = settings
        self.store = store
        self.submitter = submitter or Submitter(settings, store, batch)

    @classmethod
    def from_clients(
        cls, settings: Settings, *, dynamodb: BaseClient, s3: BaseClient, batch: BaseClient
    ) -> BatchFailures:
        """The handler over the table, bucket and Batch queue the settings name, through these clients."""
        from server.aws.clients import required
        from store.dynamodb import DynamoStore

        table, bucket = required(settings, "table", "bucket")
        return cls(settings, DynamoStore(dynamodb, s3, table, bucket), batch)

    def handle(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """One EventBridge delivery; a malformed or foreign event is logged and ignored, never raised.
        The schedule's event sweeps the submissions whose Batch job nobody submitted or recorded."""
        if _scheduled(event):
            swept = sweep(self.submitter)
            for run_id, what in swept.items():
                logger.warning("run %s: %s", run_id, what)
            return {"outcome": "swept", "runs": swept}
        try:
            change = parse(event=dict(event), model=BatchJobStateChange)
        except (ValidationError, TypeError, ValueError) as err:
            settled = Settled(Outcome.IGNORED, f"not a Batch Job State Change event: {err.__class__.__name__}")
            logger.warning("ignored an event: %s", settled.why)
            return settled.answer()
        settled = self.settle(change.detail)
        log = logger.warning if settled.outcome is not Outcome.IGNORED else logger.info
        log("Batch job %s: %s (%s)", change.detail.job_id, settled.outcome.value, settled.why)
        return settled.answer()

    def settle(self, detail: BatchJobDetail) -> Settled:
        """Resume or fail the run that the failed Batch job `detail` ran; nothing for any other job."""
        if detail.status != FAILED:
            return Settled(Outcome.IGNORED, f"status {detail.status}, not {FAILED}")
        if not _same_queue(detail.job_queue, self.settings.job_queue):
            return Settled(Outcome.IGNORED, f"job queue {detail.job_queue} is not this deployment's")
        job_id = detail.job_name.removeprefix(JOB_NAME_PREFIX)
        if job_id == detail.job_name or not job_id:
            return Settled(Outcome.IGNORED, f"job name {detail.job_name!r} is not a Cody Batch job's")
        runs = self.store.get_runs([job_id]).get(job_id, [])
        run = next((r for r in runs if r.batch_job_id == detail.job_id), None)
        if run is None:
            return self._redelivered(job_id, runs, detail)
        outcome, submission = self._decide(job_id, run, detail)
        if submission is not None:
            # Raises when Batch refuses: the event comes again, and so does the schedule's sweep.
            new_job = self.submitter.submit(job_id, submission, fresh=True)
            return Settled(outcome, f"resumed on Batch job {new_job} after: {_ended(detail)}", run.id)
        if outcome is Outcome.FAILED:
            return Settled(outcome, f"no resumption left after: {_ended(detail)}", run.id)
        return Settled(outcome, "the run had finished, was cancelled or moved on", run.id)

    def _redelivered(self, job_id: str, runs: list[RepositoryRun], detail: BatchJobDetail) -> Settled:
        """An event whose run was already resumed: its new Batch job submitted now if no one did or is doing it."""
        pending = [(r, r.batch_submission) for r in runs if r.batch_submission]
        run, submission = next(((r, s) for r, s in pending if s.replaces == detail.job_id), (None, None))
        if run is None or submission is None:
            # An array job's parent, or a child whose run was already resumed on a new Batch job.
            return Settled(Outcome.IGNORED, f"no run of job {job_id} is in Batch job {detail.job_id}")
        claimed = self.submitter.claim(job_id, submission.token)
        if claimed is None:
            return Settled(Outcome.IGNORED, "already resumed; its new Batch job is being submitted", run.id)
        new_job = self.submitter.submit(job_id, claimed)
        return Settled(Outcome.RESUMED, f"already resumed; its new Batch job is {new_job}", run.id)

    def _decide(
        self, job_id: str, run: RepositoryRun, detail: BatchJobDetail
    ) -> tuple[Outcome, BatchSubmission | None]:
        """One conditional write on the run as stored: resumed (with the claim on its submission), failed
        or left as it is."""
        decided = Outcome.IGNORED
        ended = _ended(detail)
        now = self.submitter.clock()

        def mutate(current: RepositoryRun) -> RepositoryRun | None:
            nonlocal decided
            decided = Outcome.IGNORED  # called again with a fresh row when a race is lost
            if current.batch_job_id != detail.job_id or current.attempt != run.attempt or not _stopped(current):
                return None
            if resumes_left(current, self.settings.max_resumes):
                decided = Outcome.RESUMED
                # The new child's submission pending, claimed by this invocation, until its id is recorded.
                return awaiting_submission(resume(self.store, current, ended), detail.job_id, now)
            decided = Outcome.FAILED
            if current.status.finished:
                return None  # FAILED TERMINATED already: the error its worker recorded is the one to keep
            message = f"the worker died before finishing the run ({ended})"
            error = RunError(kind=RunErrorKind.WORKER_DIED, message=message)
            return current.model_copy(update={"status": RunStatus.FAILED, "error": error})

        written = update_run(self.store, job_id, run.id, mutate)
        return decided, (written.batch_submission if decided is Outcome.RESUMED else None)
