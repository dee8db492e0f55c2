"""A run's Batch job: submitted once, even when its submitter dies half-way or Batch throttles it.

Every submission — a job's first, a retry's, a continued run's (BatchDispatcher) and a resumed run's
(server/aws/batch_failures.py) — first records a `BatchSubmission` on its runs: a token naming it, the
runs of its one Batch job (an array job for two or more), since when, and a claim held by the
invocation that wrote it. The holder submits a Batch job tagged with the token and records its id on
the runs (`ID:N` for the Nth child), clearing the submission. SubmitJob takes no client token: the tag
and a look-up (ListJobs by job name, DescribeJobs for the tags) are what let a later submitter find the
job of one that died before recording it. A claim is taken with a conditional write, and only when
nobody holds it or its holder is gone (claimed longer ago than any submitter lives), so two submitters
never overlap. A refusal that may pass (throttled, a 5xx, the connection) releases the claim and
leaves the runs waiting, saying so in their step; any other refusal, or one past the deadline, fails
them `WORKER_START_FAILED`. The schedule's sweep (server/aws/batch_sweep.py) takes every submission
nobody holds, and holds the runs a dispatcher made PENDING and never reached.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import Any

from core.errors import RunErrorKind
from core.ids import new_id, utcnow
from core.models import BatchSubmission, RepositoryRun, RunError, RunStatus
from core.ports import Store
from core.services.updates import update_runs
from core.settings import Settings
from server.aws.batch_refusals import SUBMIT_ERRORS, passing, waiting_step
from server.aws.batch_request import JOB_NAME_PREFIX, child_job_ids, submit_job_request

logger = logging.getLogger(__name__)

TOKEN_TAG = "cody-batch:submission"
"""The tag naming the submission a Batch job was submitted for (its `BatchSubmission.token`)."""
CLAIM = dt.timedelta(minutes=3)
"""Longer than every submitter's timeout (the HTTP and WebSocket functions' 29 s, the Batch failures
function's minute): a claim this old has no living holder."""
DEADLINE = dt.timedelta(hours=2)
"""How long a submission Batch refuses for a while is tried again before its runs fail (EventBridge's event age)."""
SWEEP_MINUTES = 5
"""How often the schedule sweeps the pending submissions (the stack's rule and the emulator's)."""

RunChange = Callable[[RepositoryRun], RepositoryRun | None]


class SubmissionRefused(Exception):
    """Batch refused a submission; its runs wait for the sweep, or failed (the message says which)."""


def resumption_token(run: RepositoryRun) -> str:
    """The token of the run's latest resumption: its Batch job carries it as a tag."""
    return f"{run.id}/{run.attempt}/{len(run.resumptions)}"


def awaiting_submission(run: RepositoryRun, replaces: str, now: dt.datetime) -> RepositoryRun:
    """`run`, resumed after Batch job `replaces` failed, waiting for its new Batch job; the caller holds the claim."""
    submission = BatchSubmission(
        token=resumption_token(run), runs={run.index: run.attempt}, replaces=replaces, since=now, claimed_at=now
    )
    return run.model_copy(update={"batch_job_id": None, "batch_submission": submission})


def waits_for(run: RepositoryRun, token: str) -> bool:
    """Whether `run` waits for the Batch job of submission `token`."""
    return run.batch_submission is not None and run.batch_submission.token == token


def stranded(run: RepositoryRun) -> bool:
    """PENDING with neither a Batch job nor a pending submission: dispatched (the job, retry or continue write made
    it so), and no submitter has written its submission yet."""
    return run.status is RunStatus.PENDING and run.batch_job_id is None and run.batch_submission is None


class Submitter:
    """Submits a pending submission's Batch job once: hold or claim it, look for its job, submit if absent, record."""

    def __init__(self, settings: Settings, store: Store, batch: Any, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.settings = settings
        self.store = store
        self.batch = batch
        self.clock = clock

    def hold(self, job_id: str, indexes: Sequence[int]) -> BatchSubmission | None:
        """A new submission of those of runs `indexes` still `stranded`, claimed by the caller, written on them in
        one write. None when none was left (cancelled, or another submitter holds or recorded them)."""
        now = self.clock()
        held: BatchSubmission | None = None

        def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
            nonlocal held
            chosen = [run for run in runs if run.index in indexes and stranded(run)]
            held = None  # called again with fresh rows when a race is lost
            if not chosen:
                return {}
            runs_of = {run.index: run.attempt for run in chosen}
            held = BatchSubmission(token=new_id(), runs=runs_of, since=now, claimed_at=now)
            return {run.id: run.model_copy(update={"batch_submission": held}) for run in chosen}

        update_runs(self.store, job_id, mutate)
        return held

    def claim(self, job_id: str, token: str) -> BatchSubmission | None:
        """Take submission `token` if nobody holds it (or its holder is gone): the claimed one, else None."""
        now = self.clock()
        taken: BatchSubmission | None = None

        def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
            nonlocal taken
            taken = None  # called again with fresh rows when a race is lost
            group = [run for run in runs if waits_for(run, token)]
            # Cancelled meanwhile, or its child recorded itself: nothing is left to submit for that run.
            out = {
                run.id: run.model_copy(update={"batch_submission": None})
                for run in group
                if run.status.finished or run.batch_job_id is not None
            }
            waiting = [run for run in group if run.id not in out]
            pending = waiting[0].batch_submission if waiting else None
            if pending is None or (pending.claimed_at is not None and now - pending.claimed_at < CLAIM):
                return out
            taken = pending.model_copy(update={"claimed_at": now})
            return {**out, **{run.id: run.model_copy(update={"batch_submission": taken}) for run in waiting}}

        update_runs(self.store, job_id, mutate)
        return taken

    def submit(self, job_id: str, submission: BatchSubmission, *, fresh: bool = False) -> str:
        """The claimed `submission`'s Batch job, found or submitted, recorded on its runs: its id. `fresh`: written
        by this caller just now, so no earlier submitter can have submitted it (no look-up). A refusal is settled
        (the runs wait, the claim released, or fail) and raised as SubmissionRefused."""
        try:
            found = None if fresh else self._submitted(job_id, submission.token)
            batch_job_id = found or self._submit(job_id, submission)
        except SUBMIT_ERRORS as err:
            logger.warning("AWS Batch refused submission %s of job %s: %s", submission.token, job_id, err)
            raise SubmissionRefused(self._refused(job_id, submission, err)) from err
        self._record(job_id, submission, batch_job_id)
        return batch_job_id

    def attempt(self, job_id: str, submission: BatchSubmission, *, fresh: bool = False) -> str:
        """`submit`, saying what came of it instead of raising a refusal."""
        try:
            return f"submitted as Batch job {self.submit(job_id, submission, fresh=fresh)}"
        except SubmissionRefused as refused:
            return str(refused)

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

    def _members(self, job_id: str, submission: BatchSubmission) -> dict[int, int]:
        """Run index -> attempt of the submission's runs (a submission stored before it named them: its run)."""
        if submission.runs:
            return dict(submission.runs)
        runs = self.store.get_runs([job_id]).get(job_id, [])
        return {run.index: run.attempt for run in runs if waits_for(run, submission.token)}

    def _submit(self, job_id: str, submission: BatchSubmission) -> str:
        request = submit_job_request(self.settings, job_id, self._members(job_id, submission))
        request["tags"] = {**request["tags"], TOKEN_TAG: submission.token}
        return str(self.batch.submit_job(**request)["jobId"])

    def _change(self, job_id: str, token: str, change: RunChange) -> None:
        """Apply `change` to every run still waiting for submission `token`, in one write."""

        def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
            changed = {run.id: change(run) for run in runs if waits_for(run, token)}
            return {run_id: run for run_id, run in changed.items() if run is not None}

        update_runs(self.store, job_id, mutate)

    def _record(self, job_id: str, submission: BatchSubmission, batch_job_id: str) -> None:
        children = child_job_ids(batch_job_id, sorted(self._members(job_id, submission)))

        def change(run: RepositoryRun) -> RepositoryRun | None:
            own = children.get(run.index)
            if own is None or run.batch_job_id not in (None, own):
                return None  # its child recorded itself first, or the run moved on
            # The step said it waited for Batch: a PENDING run's step is only ever that.
            step = None if run.status is RunStatus.PENDING else run.step
            return run.model_copy(update={"batch_job_id": own, "batch_submission": None, "step": step})

        self._change(job_id, submission.token, change)

    def _refused(self, job_id: str, submission: BatchSubmission, err: Exception) -> str:
        """After a refused submission: its runs left to wait for the sweep, or failed; what was done."""
        if passing(err) and self.clock() - submission.since < DEADLINE:
            step = waiting_step(err, SWEEP_MINUTES)

            def release(run: RepositoryRun) -> RepositoryRun | None:
                if run.batch_submission != submission:
                    return None  # claimed by another since (this holder outlived its claim)
                unclaimed = submission.model_copy(update={"claimed_at": None})
                return run.model_copy(update={"batch_submission": unclaimed, "step": step})

            self._change(job_id, submission.token, release)
            return f"AWS Batch refused it, to be tried again: {err}"
        error = RunError(kind=RunErrorKind.WORKER_START_FAILED, message=f"AWS Batch did not accept the run: {err}")

        def fail(run: RepositoryRun) -> RepositoryRun:
            if run.status.finished:
                return run.model_copy(update={"batch_submission": None})
            return run.model_copy(update={"batch_submission": None, "status": RunStatus.FAILED, "error": error})

        self._change(job_id, submission.token, fail)
        return f"failed: {error.message}"
