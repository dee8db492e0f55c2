"""BatchDispatcher: the Dispatcher port on AWS — one AWS Batch job per dispatch, one child per run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from core.ports import Store
from core.settings import Settings
from server.aws.batch_submission import Submitter

logger = logging.getLogger(__name__)

CANCEL_REASON = "cancelled in Cody Batch"


class BatchDispatcher:
    """Submits runs to AWS Batch and terminates them on cancel; the Batch job id is kept on each run."""

    def __init__(self, settings: Settings, store: Store, batch: Any, submitter: Submitter | None = None) -> None:
        self.settings = settings
        self.store = store
        self.batch = batch
        self.submitter = submitter or Submitter(settings, store, batch)

    def start(self) -> None:
        """Nothing runs in the background: AWS Batch does the work."""

    def close(self) -> None:
        """Nothing to stop: submitted Batch jobs run on without this process."""

    def dispatch(self, job_id: str, indexes: Sequence[int]) -> None:
        """Submit one Batch job (an array job for two or more runs) and record its id on the runs.

        The pending submission is written first, so a process that dies before SubmitJob or before
        the record leaves it to the schedule's sweep; a throttled SubmitJob leaves it too."""
        wanted = sorted(set(indexes))
        if not wanted:
            return
        held = self.submitter.hold(job_id, wanted)
        if held is None:
            return  # cancelled meanwhile, or the sweep took the runs over: it submits them
        what = self.submitter.attempt(job_id, held, fresh=True)
        logger.info("runs %s of job %s: %s", wanted, job_id, what)

    def cancel(self, job_id: str, indexes: Sequence[int]) -> None:
        """TerminateJob for each run's Batch job; the runs are already CANCELLED in the store."""
        wanted = set(indexes)
        runs = self.store.get_runs([job_id]).get(job_id, [])
        for run in runs:
            if run.index in wanted and run.batch_job_id:
                try:
                    self.batch.terminate_job(jobId=run.batch_job_id, reason=CANCEL_REASON)
                except (ClientError, BotoCoreError):
                    # The store says CANCELLED, so the worker stops at its next check anyway.
                    logger.exception("could not terminate Batch job %s of run %s", run.batch_job_id, run.id)
