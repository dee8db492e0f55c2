"""A FAILED Batch child reported by EventBridge, on moto's Batch and DynamoDB: its run resumed on a new
Batch job (once per event), failed past its resumptions, or left alone (cancelled, finished, foreign)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.errors import RunErrorKind
from core.models import Budget, Message, ResumeReason, RunStatus, Thread
from core.services.continuation import continue_run
from core.services.jobs import JobRequest, cancel_job, create_job
from core.services.progress import RunProgress
from server.aws.batch_failures import BatchFailures
from server.aws.batch_owner import owns_run
from server.aws.lambda_runtime import AwsRuntime
from tests.fakes.dispatcher import RecordingDispatcher
from tests.integration.aws.conftest import aws_client

MakeRepo = Callable[..., Path]
QUEUE_ARN = "arn:aws:batch:us-east-1:123456789012:job-queue/cody-batch"

# A "Batch Job State Change" as AWS sends it (the shape of AWS Batch's EventBridge documentation),
# for a container killed out of memory; jobId, jobName and jobQueue are filled in per test.
FAILED_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "c8f9c4b5-76e5-d76a-f980-7011e206042b",
    "detail-type": "Batch Job State Change",
    "source": "aws.batch",
    "account": "123456789012",
    "time": "2026-01-11T23:36:40Z",
    "region": "us-east-1",
    "resources": [],
    "detail": {
        "jobArn": "",
        "jobName": "",
        "jobId": "",
        "jobQueue": QUEUE_ARN,
        "status": "FAILED",
        "statusReason": "Essential container in task exited",
        "attempts": [
            {
                "container": {
                    "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/cody-batch/0f1e2d3c",
                    "exitCode": 137,
                    "reason": "OutOfMemoryError: Container killed due to memory usage",
                    "logStreamName": "cody-batch-worker/default/0f1e2d3c",
                    "networkInterfaces": [],
                },
                "startedAt": 1641944210000,
                "stoppedAt": 1641944260000,
                "statusReason": "Essential container in task exited",
            }
        ],
        "createdAt": 1641944200058,
        "retryStrategy": {"attempts": 3, "evaluateOnExit": []},
        "startedAt": 1641944210000,
        "stoppedAt": 1641944260000,
        "dependsOn": [],
        "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/cody-batch-worker:1",
        "parameters": {},
        "container": {
            "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/cody-batch:latest",
            "command": ["cody-batch", "worker", "run"],
            "exitCode": 137,
            "reason": "OutOfMemoryError: Container killed due to memory usage",
            "environment": [],
            "resourceRequirements": [{"value": "1", "type": "VCPU"}, {"value": "4096", "type": "MEMORY"}],
        },
        "tags": {},
        "propagateTags": True,
        "platformCapabilities": ["FARGATE"],
    },
}


def failed_event(job_id: str, batch_job_id: str, **detail: Any) -> dict[str, Any]:
    """FAILED_EVENT for Batch job `batch_job_id` of Cody Batch job `job_id`, with `detail` fields over it."""
    event = copy.deepcopy(FAILED_EVENT)
    arn = f"arn:aws:batch:us-east-1:123456789012:job/{batch_job_id}"
    event["resources"] = [arn]
    event["detail"].update({"jobArn": arn, "jobName": f"cody-batch-{job_id}", "jobId": batch_job_id, **detail})
    return event


@pytest.fixture
def failures(runtime: AwsRuntime) -> BatchFailures:
    return BatchFailures.from_clients(
        runtime.settings, dynamodb=aws_client("dynamodb"), s3=aws_client("s3"), batch=aws_client("batch")
    )


def _job_in_its_agent_step(runtime: AwsRuntime, make_repo: MakeRepo, repos: int = 1) -> tuple[str, list[str]]:
    """A job submitted to Batch whose runs are in their agent step: (job id, the runs' Batch job ids)."""
    request = JobRequest(prompt="fix", repositories=[str(make_repo(f"r{i}")) for i in range(repos)])
    job = create_job(runtime.store, runtime.dispatcher, runtime.settings, request)
    runs = runtime.store.get_runs([job.id])[job.id]
    for run in runs:
        RunProgress(runtime.store, run.id).advance(RunStatus.RUNNING_AGENT)
    return job.id, [str(run.batch_job_id) for run in runs]


def _submitted(batch: Any) -> list[dict[str, Any]]:
    ids = [s["jobId"] for s in batch.list_jobs(jobQueue="cody-batch")["jobSummaryList"] if ":" not in s["jobId"]]
    return batch.describe_jobs(jobs=ids)["jobs"] if ids else []


def test_a_child_killed_out_of_memory_is_resumed_on_a_new_batch_job_once_for_a_redelivered_event(
    runtime: AwsRuntime, failures: BatchFailures, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run in its agent step whose Batch child was killed out of memory
    job_id, (batch_job_id,) = _job_in_its_agent_step(runtime, make_repo)
    event = failed_event(job_id, batch_job_id)
    # WHEN EventBridge delivers the FAILED event, and then delivers it again
    first = failures.handle(event, None)
    second = failures.handle(event, None)
    # THEN the run was resumed once as the same attempt, its cause quoting Batch's reason and exit code
    assert first["outcome"] == "resumed" and second["outcome"] == "ignored"
    (run,) = runtime.store.get_runs([job_id])[job_id]
    assert run.status is RunStatus.PENDING and run.attempt == 1
    (resumption,) = run.resumptions
    assert resumption.reason is ResumeReason.RESUMED and resumption.from_turn == 0
    assert resumption.cause is not None
    assert "OutOfMemoryError" in resumption.cause and "exit code 137" in resumption.cause
    # AND one new Batch job runs that attempt of that run; the run names it
    new = [job for job in _submitted(batch) if job["jobId"] != batch_job_id]
    assert len(new) == 1 and run.batch_job_id == new[0]["jobId"]
    assert new[0]["container"]["command"] == ["cody-batch", "worker", "run", job_id, "--repo", "0", "--attempt", "1"]


def test_the_child_of_an_array_job_resumes_only_its_own_run(
    runtime: AwsRuntime, failures: BatchFailures, make_repo: MakeRepo
) -> None:
    # GIVEN a job of three runs on one array job
    job_id, batch_job_ids = _job_in_its_agent_step(runtime, make_repo, repos=3)
    parent = batch_job_ids[0].split(":")[0]
    # WHEN child 1 fails, and then the array job itself (Batch reports the parent FAILED too)
    answers = [failures.handle(failed_event(job_id, job), None) for job in (batch_job_ids[1], parent)]
    # THEN run 1 alone was resumed; the parent's event matched no run
    assert [a["outcome"] for a in answers] == ["resumed", "ignored"]
    runs = runtime.store.get_runs([job_id])[job_id]
    assert [len(r.resumptions) for r in runs] == [0, 1, 0]
    assert [r.status for r in runs] == [RunStatus.RUNNING_AGENT, RunStatus.PENDING, RunStatus.RUNNING_AGENT]


def test_past_its_resumptions_an_unfinished_run_fails_as_worker_died_with_batchs_reason(
    runtime: AwsRuntime, make_repo: MakeRepo
) -> None:
    # GIVEN resumption off, and a run in its agent step whose child hit the job's time limit
    settings = runtime.settings.model_copy(update={"max_resumes": 0})
    failures = BatchFailures(settings, runtime.store, aws_client("batch"))
    job_id, (batch_job_id,) = _job_in_its_agent_step(runtime, make_repo)
    event = failed_event(job_id, batch_job_id, statusReason="Job attempt duration exceeded timeout")
    # WHEN the FAILED event arrives
    answer = failures.handle(event, None)
    # THEN the run failed as today's WORKER_DIED, the message naming Batch's reason
    assert answer["outcome"] == "failed"
    (run,) = runtime.store.get_runs([job_id])[job_id]
    assert run.status is RunStatus.FAILED and run.resumptions == []
    assert run.error is not None and run.error.kind == RunErrorKind.WORKER_DIED
    assert "Job attempt duration exceeded timeout" in run.error.message


def test_a_run_its_worker_recorded_as_terminated_is_resumed_and_kept_as_it_was_past_its_resumptions(
    runtime: AwsRuntime, failures: BatchFailures, make_repo: MakeRepo
) -> None:
    # GIVEN two runs whose workers recorded a SIGTERM (an operator's TerminateJob), one with resumption off
    job_id, batch_job_ids = _job_in_its_agent_step(runtime, make_repo, repos=2)
    for run in runtime.store.get_runs([job_id])[job_id]:
        RunProgress(runtime.store, run.id).fail(RunErrorKind.TERMINATED, "the worker was stopped (SIGTERM)")
    event = failed_event(job_id, batch_job_ids[0], statusReason="terminated by an operator")
    none_left = BatchFailures(
        runtime.settings.model_copy(update={"max_resumes": 0}), runtime.store, aws_client("batch")
    )
    # WHEN their FAILED events arrive
    resumed = failures.handle(event, None)
    kept = none_left.handle(failed_event(job_id, batch_job_ids[1]), None)
    # THEN the first is resumed; the second keeps the error its worker recorded
    assert (resumed["outcome"], kept["outcome"]) == ("resumed", "failed")
    first, second = runtime.store.get_runs([job_id])[job_id]
    assert first.status is RunStatus.PENDING and len(first.resumptions) == 1
    assert second.status is RunStatus.FAILED and second.error is not None
    assert second.error.message == "the worker was stopped (SIGTERM)"


def test_a_cancelled_jobs_terminated_children_stay_cancelled(
    runtime: AwsRuntime, failures: BatchFailures, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a job of two runs cancelled by its user (TerminateJob on each child)
    job_id, batch_job_ids = _job_in_its_agent_step(runtime, make_repo, repos=2)
    cancel_job(runtime.store, runtime.dispatcher, job_id)
    submitted = len(_submitted(batch))
    # WHEN Batch reports both children FAILED with the cancel's reason
    answers = [
        failures.handle(failed_event(job_id, job, statusReason="cancelled in Cody Batch"), None)
        for job in batch_job_ids
    ]
    # THEN nothing is resumed or submitted: both runs stay CANCELLED
    assert [a["outcome"] for a in answers] == ["ignored", "ignored"]
    assert [r.status for r in runtime.store.get_runs([job_id])[job_id]] == [RunStatus.CANCELLED] * 2
    assert len(_submitted(batch)) == submitted


def test_a_run_that_failed_for_its_own_reasons_is_left_alone(
    runtime: AwsRuntime, failures: BatchFailures, make_repo: MakeRepo
) -> None:
    # GIVEN a run that failed for its own reasons before its child exited non-zero
    job_id, (batch_job_id,) = _job_in_its_agent_step(runtime, make_repo)
    (run,) = runtime.store.get_runs([job_id])[job_id]
    RunProgress(runtime.store, run.id).fail(RunErrorKind.MODEL_ERROR, "overloaded")
    # WHEN the FAILED event arrives THEN the run keeps its own error
    assert failures.handle(failed_event(job_id, batch_job_id), None)["outcome"] == "ignored"
    (after,) = runtime.store.get_runs([job_id])[job_id]
    assert after.error is not None and after.error.message == "overloaded" and after.resumptions == []


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"source": "aws.batch"},
        {**FAILED_EVENT, "source": "aws.ec2"},
        {**FAILED_EVENT, "detail-type": "Batch Job Queue Blocked"},
        {**FAILED_EVENT, "detail": "FAILED"},
        {**FAILED_EVENT, "detail": {**FAILED_EVENT["detail"], "jobId": 7}},
        {**FAILED_EVENT, "detail": {**FAILED_EVENT["detail"], "container": {"exitCode": "killed"}}},
        {**FAILED_EVENT, "time": "yesterday"},
        ["not", "an object"],
    ],
    ids=["empty", "no detail", "other source", "other detail type", "detail not an object", "job id a number",
         "exit code not a number", "bad time", "not an object"],
)  # fmt: skip
def test_a_malformed_or_foreign_event_is_ignored_with_a_log_line(
    failures: BatchFailures, event: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # WHEN an event that is not a Batch job state change arrives THEN it is ignored, said in the log
    with caplog.at_level(logging.INFO, logger="server.aws.batch_failures"):
        answer = failures.handle(event, None)
    assert answer["outcome"] == "ignored"
    assert "not a Batch Job State Change" in caplog.text


@pytest.mark.parametrize(
    ("job_name", "update"),
    [
        ("someone-elses-job", {}),
        ("cody-batch-", {}),
        ("cody-batch-{job}", {"jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/another"}),
        ("cody-batch-{job}", {"status": "SUCCEEDED"}),
        ("cody-batch-{job}", {"jobId": "not-this-runs-batch-job"}),
        ("cody-batch-no-such-job", {}),
    ],
    ids=["foreign job name", "empty job id", "other queue", "not failed", "other Batch job", "unknown job"],
)
def test_an_event_of_another_job_changes_nothing(
    runtime: AwsRuntime,
    failures: BatchFailures,
    make_repo: MakeRepo,
    job_name: str,
    update: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a run in its agent step
    job_id, (batch_job_id,) = _job_in_its_agent_step(runtime, make_repo)
    event = failed_event(job_id, batch_job_id, jobName=job_name.format(job=job_id), **update)
    # WHEN a FAILED event of some other job (or queue, or state) arrives
    with caplog.at_level(logging.INFO, logger="server.aws.batch_failures"):
        answer = failures.handle(event, None)
    # THEN it is ignored, with a log line, and the run is as it was
    assert answer["outcome"] == "ignored" and "ignored" in caplog.text
    (run,) = runtime.store.get_runs([job_id])[job_id]
    assert run.status is RunStatus.RUNNING_AGENT and run.resumptions == [] and run.batch_job_id == batch_job_id


def _died_after_a_turn(runtime: AwsRuntime, make_repo: MakeRepo) -> tuple[str, str, dict[str, Any]]:
    """A run that saved a turn, then whose Batch child was killed with resumption off, so it failed
    WORKER_DIED: (job id, its run's id, the FAILED event of that child)."""
    job_id, (batch_job_id,) = _job_in_its_agent_step(runtime, make_repo)
    (run,) = runtime.store.get_runs([job_id])[job_id]
    thread = Thread(run_id=run.id, model="claude-test")
    thread.messages = [
        Message(index=0, role="user", content=[{"type": "text", "text": "fix"}]),
        Message(index=1, role="assistant", content=[], stop_reason="tool_use"),
        Message(index=2, role="user", content=[], stop_reason="tool_use"),
    ]
    RunProgress(runtime.store, run.id).save_thread(thread)
    event = failed_event(job_id, batch_job_id)
    none_left = BatchFailures(
        runtime.settings.model_copy(update={"max_resumes": 0}), runtime.store, aws_client("batch")
    )
    assert none_left.handle(event, None)["outcome"] == "failed"
    return job_id, run.id, event


def test_a_late_failed_event_of_a_continued_runs_old_batch_job_changes_nothing(
    runtime: AwsRuntime, failures: BatchFailures, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run failed WORKER_DIED past its resumptions, continued by its user on a new Batch job
    job_id, run_id, event = _died_after_a_turn(runtime, make_repo)
    continue_run(runtime.store, runtime.dispatcher, run_id, Budget())
    (continued,) = runtime.store.get_runs([job_id])[job_id]
    submitted = _submitted(batch)
    assert continued.batch_job_id in {job["jobId"] for job in submitted}
    # WHEN EventBridge delivers the old child's FAILED event again, late, resumptions now allowed
    answer = failures.handle(event, None)
    # THEN it changes nothing: the run names the continuation's Batch job, and nothing more is submitted
    assert answer["outcome"] == "ignored"
    (after,) = runtime.store.get_runs([job_id])[job_id]
    assert after == continued and [r.reason for r in after.resumptions] == [ResumeReason.CONTINUED]
    assert len(_submitted(batch)) == len(submitted)


def test_a_late_failed_event_before_the_continuations_batch_job_is_recorded_changes_nothing(
    runtime: AwsRuntime, failures: BatchFailures, batch: Any, make_repo: MakeRepo
) -> None:
    # GIVEN a run failed WORKER_DIED past its resumptions, continued by its user, its new Batch job not yet
    # recorded (its submitter slow, or gone)
    job_id, run_id, event = _died_after_a_turn(runtime, make_repo)
    continue_run(runtime.store, RecordingDispatcher(), run_id, Budget())
    (continued,) = runtime.store.get_runs([job_id])[job_id]
    submitted = len(_submitted(batch))
    # WHEN EventBridge delivers the old child's FAILED event again, late, resumptions now allowed
    answer = failures.handle(event, None)
    # THEN it changes nothing: the continued run names no Batch job, so none of its events can touch it
    assert answer["outcome"] == "ignored"
    (after,) = runtime.store.get_runs([job_id])[job_id]
    assert after == continued and after.batch_job_id is None and after.batch_submission is None
    assert [r.reason for r in after.resumptions] == [ResumeReason.CONTINUED] and len(_submitted(batch)) == submitted
    # AND the continuation's child, once it starts, takes the run as its own
    assert owns_run(runtime.store, {"AWS_BATCH_JOB_ID": "continuation-child"}, job_id, 0) is True
    (taken,) = runtime.store.get_runs([job_id])[job_id]
    assert taken.batch_job_id == "continuation-child"
