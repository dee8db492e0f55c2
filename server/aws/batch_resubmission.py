"""A resumed run's new Batch job: submitted once, even when its submitter dies half-way.

The write that resumes a run after its Batch child failed (server/aws/batch_failures.py) clears
the run's `batch_job_id` and records a `BatchSubmission` on it: the failed Batch job, a token
naming this resumption, and a claim held by the invocation that wrote it. The holder looks for a
Batch job of the run's job tagged with the token (ListJobs by job name, DescribeJobs for the
tags), submits one only when there is none, and records its id, clearing the submission.
SubmitJob takes no client token: the tag and that look-up are what let a second submitter find
the first one's job. A claim is taken with a conditional write, and only when nobody holds it or
its holder is gone (claimed longer ago than any invocation of the function lives), so two
submitters never overlap. A refused SubmitJob releases the claim and raises, so the event is
delivered again; a submitter that dies leaves its claim to expire. The scheduled sweep takes
every pending submission nobody holds; one Batch still refuses past a deadline fails the run
`WORKER_START_FAILED`, as a refused first submission does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from core.errors import RunErrorKind
from core.ids import utcnow
from core.models import BatchSubmission, RepositoryRun, RunError, RunStatus
from core.ports import Store
from core.services.recovery import unfinished_job_ids
from core.services.updates import update_run
from core.settings import Settings
from server.aws.batch_dispatcher import JOB_NAME_PREFIX, submit_job_request

logger = logging.getLogger(__name__)

TOKEN_TAG = "cody-batch:resumption"
"""The tag naming the resumption a Batch job was submitted for: `RUN_ID/ATTEMPT/RESUMPTIONS`."""
CLAIM = dt.timedelta(minutes=3)
"""Longer than the Batch failures function's timeout (1 minute): a claim this old has no living holder."""
DEADLINE = dt.timedelta(hours=2)
"""How long a resumption's submission is tried again before its run fails (EventBridge's event age, too)."""
SWEEP_MINUTES = 5
"""How often the schedule sweeps the pending submissions (the stack's rule and the emulator's)."""
SUBMIT_ERRORS = (ClientError, BotoCoreError, ValueError)


def resumption_token(run: RepositoryRun) -> str:
    """The token of the run's latest resumption: its Batch job carries it as a tag."""
    return f"{run.id}/{run.attempt}/{len(run.resumptions)}"


def awaiting_submission(run: RepositoryRun, replaces: str, now: dt.datetime) -> RepositoryRun:
    """`run`, resumed after Batch job `replaces` failed, waiting for its new Batch job; the caller holds the claim."""
    submission = BatchSubmission(replaces=replaces, token=resumption_token(run), since=now, claimed_at=now)
    return run.model_copy(update={"batch_job_id": None, "batch_submission": submission})


class Resubmitter:
    """Submits the new Batch job of a resumed run once: claim, look for it, submit if absent, record."""

    def __init__(self, settings: Settings, store: Store, batch: Any, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.settings = settings
        self.store = store
        self.batch = batch
        self.clock = clock

    def claim(self, job_id: str, run_id: str) -> BatchSubmission | None:
        """Take the run's pending submission if nobody holds it (or its holder is gone): the claimed one, else None."""
        now = self.clock()
        taken: BatchSubmission | None = None

        def mutate(run: RepositoryRun) -> RepositoryRun | None:
            nonlocal taken
            taken = None  # called again with a fresh row when a race is lost
            pending = run.batch_submission
            if pending is None:
                return None
            if run.status.finished or run.batch_job_id is not None:
                # Cancelled meanwhile, or its child recorded itself: nothing is left to submit.
                return run.model_copy(update={"batch_submission": None})
            if pending.claimed_at is not None and now - pending.claimed_at < CLAIM:
                return None
            taken = pending.model_copy(update={"claimed_at": now})
            return run.model_copy(update={"batch_submission": taken})

        update_run(self.store, job_id, run_id, mutate)
        return taken

    def submit(self, run: RepositoryRun, submission: BatchSubmission) -> str:
        """The claimed `submission`'s Batch job, found or submitted, recorded on the run: its id.
        Raises what Batch raised (the claim released) when it refuses."""
        try:
            batch_job_id = self._submitted(run.job_id, submission.token) or self._submit(run, submission.token)
        except SUBMIT_ERRORS:
            self._release(run, submission)
            raise
        self._record(run, submission, batch_job_id)
        return batch_job_id

    def sweep(self) -> dict[str, str]:
        """Submit every pending submission nobody holds; past the deadline, fail the runs Batch still refuses.
        What it did, by run id."""
        done: dict[str, str] = {}
        for job_id in unfinished_job_ids(self.store):
            for run in self.store.get_runs([job_id]).get(job_id, []):
                if run.batch_submission is None:
                    continue
                try:
                    what = self._sweep_one(run)
                except Exception:  # one run's trouble (a store error) must not hold the others back
                    logger.exception("could not sweep run %s; the next round tries again", run.id)
                    continue
                if what is not None:
                    done[run.id] = what
        return done

    def _sweep_one(self, run: RepositoryRun) -> str | None:
        """Submit one run's pending submission if nobody holds it: what was done, or None."""
        claimed = self.claim(run.job_id, run.id)
        if claimed is None:
            return None
        try:
            return f"submitted as Batch job {self.submit(run, claimed)}"
        except SUBMIT_ERRORS as err:
            logger.exception("AWS Batch refused the resumption of run %s", run.id)
            return self._refused(run, claimed, err)

    def _submitted(self, job_id: str, token: str) -> str | None:
        """The Batch job already submitted for `token`, if one was (by a submitter that died before recording it)."""
        name = f"{JOB_NAME_PREFIX}{job_id}"
        pages = self.batch.get_paginator("list_jobs").paginate(
            jobQueue=self.settings.job_queue, filters=[{"name": "JOB_NAME", "values": [name]}]
        )
        ids = [summary["jobId"] for page in pages for summary in page["jobSummaryList"]]
        for start in range(0, len(ids), 100):  # DescribeJobs takes at most 100 ids
            for job in self.batch.describe_jobs(jobs=ids[start : start + 100])["jobs"]:
                if job.get("tags", {}).get(TOKEN_TAG) == token:
                    return str(job["jobId"])
        return None

    def _submit(self, run: RepositoryRun, token: str) -> str:
        request = submit_job_request(self.settings, run.job_id, {run.index: run.attempt})
        request["tags"] = {**request["tags"], TOKEN_TAG: token}
        return str(self.batch.submit_job(**request)["jobId"])

    def _record(self, run: RepositoryRun, submission: BatchSubmission, batch_job_id: str) -> None:
        def mutate(current: RepositoryRun) -> RepositoryRun | None:
            pending = current.batch_submission
            if pending is None or pending.token != submission.token or current.batch_job_id not in (None, batch_job_id):
                return None  # its child recorded itself first, or the run moved on
            return current.model_copy(update={"batch_job_id": batch_job_id, "batch_submission": None})

        update_run(self.store, run.job_id, run.id, mutate)

    def _release(self, run: RepositoryRun, submission: BatchSubmission) -> None:
        def mutate(current: RepositoryRun) -> RepositoryRun | None:
            if current.batch_submission != submission:
                return None
            return current.model_copy(update={"batch_submission": submission.model_copy(update={"claimed_at": None})})

        update_run(self.store, run.job_id, run.id, mutate)

    def _refused(self, run: RepositoryRun, submission: BatchSubmission, err: Exception) -> str:
        """After a refused submission: tried again later, or, past the deadline, the run failed."""
        if self.clock() - submission.since < DEADLINE:
            return f"AWS Batch refused it, to be tried again: {err}"
        error = RunError(kind=RunErrorKind.WORKER_START_FAILED, message=f"AWS Batch did not accept the run: {err}")

        def mutate(current: RepositoryRun) -> RepositoryRun | None:
            if current.batch_submission is None or current.batch_submission.token != submission.token:
                return None
            update = {"batch_submission": None}
            if current.status.finished:
                return current.model_copy(update=update)
            return current.model_copy(update={**update, "status": RunStatus.FAILED, "error": error})

        update_run(self.store, run.job_id, run.id, mutate)
        return f"failed: {error.message}"
