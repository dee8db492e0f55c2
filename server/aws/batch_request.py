"""The SubmitJob request of a Batch submission: one job for one run, an array job for two or more."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.settings import Settings
from server.aws.batch_definitions import WORKER_COMMAND
from server.aws.batch_index import RUN_ATTEMPTS_ENV, RUN_INDEXES_ENV

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
