"""BatchDispatcher: the Dispatcher port on AWS — one AWS Batch job per dispatch, one child per run."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from core.errors import RunErrorKind
from core.models import RepositoryRun
from core.ports import Store
from core.services.progress import RunProgress
from core.services.updates import update_runs
from core.settings import Settings
from server.aws.batch_definitions import WORKER_COMMAND
from server.aws.batch_index import RUN_ATTEMPTS_ENV, RUN_INDEXES_ENV

logger = logging.getLogger(__name__)

CANCEL_REASON = "cancelled in Cody Batch"
JOB_NAME_PREFIX = "cody-batch-"
"""Every Batch job (and so each array child) is named this and the Cody Batch job id."""


def child_job_ids(batch_job_id: str, indexes: Sequence[int]) -> dict[int, str]:
    """Run index -> the Batch job that runs it: the job itself, or array child `ID:N` for the Nth index."""
    if len(indexes) == 1:
        return {indexes[0]: batch_job_id}
    return {index: f"{batch_job_id}:{position}" for position, index in enumerate(indexes)}


def _numbers(values: Sequence[int]) -> str:
    return ",".join(str(v) for v in values)


def submit_job_request(settings: Settings, job_id: str, attempts: dict[int, int]) -> dict[str, Any]:
    """The SubmitJob arguments for the runs `attempts` names (run index -> the attempt to run)."""
    if not settings.job_queue or not settings.job_definition:
        raise ValueError("CODY_BATCH_JOB_QUEUE and CODY_BATCH_JOB_DEFINITION must be set for the aws backend")
    indexes = sorted(attempts)
    command = [*WORKER_COMMAND, job_id]
    request: dict[str, Any] = {
        "jobName": f"{JOB_NAME_PREFIX}{job_id}",
        "jobQueue": settings.job_queue,
        "jobDefinition": settings.job_definition,
        "tags": {"cody-batch:job": job_id},
    }
    if len(indexes) == 1:
        # Batch arrays need at least two children: a single run is a plain job with its run in argv.
        (index,) = indexes
        request["containerOverrides"] = {"command": [*command, "--repo", str(index), "--attempt", str(attempts[index])]}
        return request
    # Every child gets the same command; AWS_BATCH_JOB_ARRAY_INDEX picks its entry of these lists,
    # so a retry of runs 1 and 3 is an array of two children running runs 1 and 3. The attempt
    # fences a child Batch starts again after its run moved on (it then does nothing).
    request["arrayProperties"] = {"size": len(indexes)}
    request["containerOverrides"] = {
        "command": command,
        "environment": [
            {"name": RUN_INDEXES_ENV, "value": _numbers(indexes)},
            {"name": RUN_ATTEMPTS_ENV, "value": _numbers([attempts[i] for i in indexes])},
        ],
    }
    return request


class BatchDispatcher:
    """Submits runs to AWS Batch and terminates them on cancel; the Batch job id is kept on each run."""

    def __init__(self, settings: Settings, store: Store, batch: Any) -> None:
        self.settings = settings
        self.store = store
        self.batch = batch

    def start(self) -> None:
        """Nothing runs in the background: AWS Batch does the work."""

    def close(self) -> None:
        """Nothing to stop: submitted Batch jobs run on without this process."""

    def dispatch(self, job_id: str, indexes: Sequence[int]) -> None:
        """Submit one Batch job (an array job for two or more runs) and record its id on the runs."""
        wanted = sorted(set(indexes))
        if not wanted:
            return
        runs = self.store.get_runs([job_id]).get(job_id, [])
        attempts = {run.index: run.attempt for run in runs if run.index in wanted}
        try:
            answer = self.batch.submit_job(**submit_job_request(self.settings, job_id, attempts))
        except (ClientError, BotoCoreError, ValueError) as err:
            # The job is stored already: its runs must not wait forever for a worker that never starts.
            logger.exception("AWS Batch refused the runs %s of job %s", wanted, job_id)
            self._fail(job_id, wanted, f"AWS Batch did not accept the run: {err}")
            return
        self._record(job_id, child_job_ids(answer["jobId"], sorted(attempts)))

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

    def _record(self, job_id: str, batch_ids: dict[int, str]) -> None:
        def mutate(runs: list[RepositoryRun]) -> dict[str, RepositoryRun]:
            return {
                run.id: run.model_copy(update={"batch_job_id": batch_ids[run.index]})
                for run in runs
                if run.index in batch_ids and run.batch_job_id != batch_ids[run.index]
            }

        update_runs(self.store, job_id, mutate)

    def _fail(self, job_id: str, indexes: Sequence[int], message: str) -> None:
        for run in self.store.get_runs([job_id]).get(job_id, []):
            if run.index in indexes:
                RunProgress(self.store, run.id).fail(RunErrorKind.WORKER_START_FAILED, message)
