"""The emulator's EventBridge for Batch: a local child that exits non-zero or is killed is reported as AWS
Batch reports a FAILED job, and the stack's rule delivers it to its function; other events go nowhere."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from core.settings import Settings
from server.aws.batch_failures import BatchJobStateChange, failed_jobs_pattern
from server.aws.emulator.batch_events import EventRule, failed_child_event
from server.aws.emulator.gateway import LambdaFunction
from server.aws.emulator.local_batch import LocalBatch
from server.aws.emulator.moto_endpoint import MOTO_CONFIG
from server.aws.provision import provision
from tests.fakes import moto_aws
from tests.integration.aws_emulator.test_local_batch import _run_all

QUEUE = "cody-batch-workers"
# The container's "program": ends with the exit code it is given, or kills itself with the signal.
PROGRAM = "import os, signal, sys; code = int(sys.argv[1]); os.kill(os.getpid(), -code) if code < 0 else sys.exit(code)"


@pytest.fixture
def batch() -> Iterator[Any]:
    with mock_aws(config=MOTO_CONFIG):
        provision(Settings(table="t-one", bucket="bucket-one"), moto_aws.client, "http://moto")
        yield moto_aws.client("batch")


def _queue_arn(batch: Any) -> str:
    (queue,) = batch.describe_job_queues(jobQueues=[QUEUE])["jobQueues"]
    return str(queue["jobQueueArn"])


def _submit(batch: Any, codes: list[int]) -> str:
    request: dict[str, Any] = {"jobName": "cody-batch-J1", "jobQueue": QUEUE, "jobDefinition": "cody-batch-worker"}
    if len(codes) == 1:
        request["containerOverrides"] = {"command": [sys.executable, "-c", PROGRAM, str(codes[0])]}
    else:
        # Each child picks its code by its array index.
        pick = PROGRAM.replace(
            "int(sys.argv[1])", "int(sys.argv[1].split(',')[int(os.environ['AWS_BATCH_JOB_ARRAY_INDEX'])])"
        )
        request["arrayProperties"] = {"size": len(codes)}
        request["containerOverrides"] = {"command": [sys.executable, "-c", pick, ",".join(map(str, codes))]}
    return str(batch.submit_job(**request)["jobId"])


def test_children_that_exit_non_zero_or_are_killed_are_reported_failed_as_aws_batch_reports_them(batch: Any) -> None:
    # GIVEN an array job of three children: one succeeds, one exits 3, one is killed with SIGKILL
    array = _submit(batch, [0, 3, -9])
    events: list[dict[str, Any]] = []
    secrets = moto_aws.client("secretsmanager")
    local = LocalBatch(batch, QUEUE, 3, {"PATH": "/usr/bin:/bin"}, secrets, events=events.append)
    # WHEN they run
    _run_all(local, 3)
    # THEN two FAILED "Batch Job State Change" events came, one per failed child, in the shape AWS sends
    by_job = {event["detail"]["jobId"]: event for event in events}
    assert sorted(by_job) == [f"{array}:1", f"{array}:2"]
    for index, code in ((1, 3), (2, 137)):
        event = by_job[f"{array}:{index}"]
        assert (event["source"], event["detail-type"]) == ("aws.batch", "Batch Job State Change")
        detail = event["detail"]
        assert detail["status"] == "FAILED" and detail["jobQueue"] == _queue_arn(batch)
        assert detail["jobName"] == "cody-batch-J1" and detail["arrayProperties"] == {"index": index}
        assert detail["container"]["exitCode"] == code == detail["attempts"][0]["container"]["exitCode"]
        assert detail["statusReason"] == "Essential container in task exited"
        assert event["resources"] == [detail["jobArn"]]
        # AND the handler's model (Powertools' EventBridge model) reads it
        assert BatchJobStateChange.model_validate(event).detail.container.exit_code == code  # type: ignore[union-attr]
    assert by_job[f"{array}:2"]["detail"]["container"]["reason"] == "killed by SIGKILL"


def test_the_rule_delivers_the_queues_failed_jobs_to_its_function_and_nothing_else(batch: Any) -> None:
    # GIVEN the stack's rule for this queue, aimed at a function that records its events
    delivered: list[dict[str, Any]] = []

    def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
        delivered.append(event)
        return {}

    function = LambdaFunction("batch", record)
    rule = EventRule("failed-worker-jobs", failed_jobs_pattern(_queue_arn(batch)), function)
    plain = _submit(batch, [1])
    (job,) = batch.describe_jobs(jobs=[plain])["jobs"]
    failed = failed_child_event(job, 1)
    other_queue = {**failed, "detail": {**failed["detail"], "jobQueue": _queue_arn(batch) + "-other"}}
    succeeded = {**failed, "detail": {**failed["detail"], "status": "SUCCEEDED"}}
    # WHEN Batch's events are put
    matched = [rule.put(event) for event in (failed, other_queue, succeeded, {"source": "aws.ec2"})]
    rule.drain()
    # THEN only the queue's FAILED job reached the function
    assert matched == [True, False, False, False]
    assert [event["detail"]["jobId"] for event in delivered] == [plain]
