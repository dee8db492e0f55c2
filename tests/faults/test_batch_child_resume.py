"""A Batch child killed outright (`kill -9`) in its second turn, then started again by Batch: the run is
resumed from its thread and its checkpoint in S3 as the same attempt, and ends SUCCEEDED without asking
the model for turn 1 again. On moto server (DynamoDB, S3, Batch), the child run as Batch would run it."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from core.models import ResumeReason, RunStatus
from core.services.jobs import JobRequest, create_job
from core.settings import Settings
from server.aws.batch_dispatcher import BatchDispatcher
from server.aws.emulator.local_batch import Child, children, local_command
from server.aws.emulator.moto_endpoint import DUMMY_CREDENTIALS, MotoEndpoint, start_endpoint
from server.aws.provision import provision
from store.dynamodb import DynamoStore
from tests.fakes.anthropic_server import FakeAnthropic, tool_results
from tests.fakes.held_turn import PATIENCE, SecondTurnHeld
from tests.fakes.holding_proxy import HoldingProxy
from tests.integration.worker.conftest import applies_to_fresh_clone, greeting_edit, wait_for

TABLE, BUCKET = "resume-table", "resume-bucket"
AWS = Settings(table=TABLE, bucket=BUCKET, job_queue="resume-queue", job_definition="resume-worker")


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MotoEndpoint]:
    started = start_endpoint()
    provision(AWS, lambda service: _client(started, service), started.url)
    yield started
    started.stop()


def _client(endpoint: MotoEndpoint, service: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    return session.client(service, endpoint_url=endpoint.url)


def _child_environment(endpoint: MotoEndpoint, settings: Settings, fake: FakeAnthropic, child: Child) -> dict[str, str]:
    """What the container would have: the job definition's and Batch's variables, the model, the endpoint."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CODY_BATCH_", "ANTHROPIC_"))}
    return {
        **base,
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint.url,
        "CODY_BATCH_BACKEND": "aws",
        "CODY_BATCH_TABLE": TABLE,
        "CODY_BATCH_BUCKET": BUCKET,
        "CODY_BATCH_DATA_DIR": str(settings.data_dir),
        "CODY_BATCH_ALLOWED_REPOS": ",".join(settings.allowed_repos),
        "ANTHROPIC_API_KEY": fake.api_key,
        "ANTHROPIC_BASE_URL": fake.url,
        **child.environment,
    }


def test_a_batch_child_killed_in_turn_two_is_resumed_by_batchs_retry_to_succeeded(
    endpoint: MotoEndpoint,
    settings: Settings,
    fake_model: FakeAnthropic,
    second_turn: SecondTurnHeld,
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a job submitted to Batch on the AWS backend, and its child running, held in its second turn
    fake_model.script([second_turn.step] * 4)
    aws = settings.model_copy(update=AWS.model_dump(include={"table", "bucket", "job_queue", "job_definition"}))
    store = DynamoStore(_client(endpoint, "dynamodb"), _client(endpoint, "s3"), TABLE, BUCKET)
    batch = _client(endpoint, "batch")
    request = JobRequest(prompt="Say hello instead of hi.", repositories=[str(make_repo("greeter"))])
    job = create_job(store, BatchDispatcher(aws, store, batch), aws, request)
    (run,) = store.get_runs([job.id])[job.id]
    [described] = batch.describe_jobs(jobs=[str(run.batch_job_id)])["jobs"]
    [child] = children(described)
    environment = _child_environment(endpoint, settings, fake_model, child)
    first = subprocess.Popen(local_command(child.command), env=environment, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: any(tool_results(r) for r in fake_model.requests) or first.poll() is not None, PATIENCE)
        assert first.poll() is None, f"the child ended early with {first.returncode}"
        # WHEN the child is killed outright (no SIGTERM, nothing recorded) and Batch starts it again
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=PATIENCE)
    finally:
        if first.poll() is None:
            first.kill()
    second_turn.released.set()
    again = {**environment, "AWS_BATCH_JOB_ATTEMPT": "2"}
    retried = subprocess.run(local_command(child.command), env=again, stdin=subprocess.DEVNULL, timeout=2 * PATIENCE)
    # THEN the retried child resumed the run as the same attempt, from turn 1, and it SUCCEEDED
    assert retried.returncode == 0
    (after,) = store.get_runs([job.id])[job.id]
    assert after.status is RunStatus.SUCCEEDED, after.error
    assert after.attempt == 1 and after.attempts == []
    [resumption] = after.resumptions
    assert (resumption.reason, resumption.from_turn) == (ResumeReason.RESUMED, 1)
    assert resumption.cause is not None and "Batch" in resumption.cause
    # AND the patch holds turn 1's edit, which only the checkpoint in S3 carried over
    assert after.patch is not None and [f.path for f in after.patch.files] == ["app.py"]
    diff = store.get_artifact(after.patch.artifact_key)
    assert diff is not None and b"+print('hello')" in diff
    # AND turn 1 was asked once; the cut-off turn 2 was sent again, once
    assert sum(1 for r in fake_model.requests if not tool_results(r)) == 1
    assert sum(1 for r in fake_model.requests if tool_results(r)) == 2


def test_a_batch_child_killed_while_storing_its_patch_is_resumed_to_succeeded(
    endpoint: MotoEndpoint,
    settings: Settings,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    tmp_path: Path,
) -> None:
    # GIVEN a job's Batch child whose DynamoDB is reached through a proxy that keeps back the patch's write
    fake_model.script(greeting_edit())
    aws = settings.model_copy(update=AWS.model_dump(include={"table", "bucket", "job_queue", "job_definition"}))
    store = DynamoStore(_client(endpoint, "dynamodb"), _client(endpoint, "s3"), TABLE, BUCKET)
    origin = make_repo("patched")
    request = JobRequest(prompt="Say hello instead of hi.", repositories=[str(origin)])
    job = create_job(store, BatchDispatcher(aws, store, _client(endpoint, "batch")), aws, request)
    (run,) = store.get_runs([job.id])[job.id]
    [described] = _client(endpoint, "batch").describe_jobs(jobs=[str(run.batch_job_id)])["jobs"]
    [child] = children(described)
    environment = _child_environment(endpoint, settings, fake_model, child)
    patch_write: Callable[[dict[str, str], bytes], bool] = lambda headers, body: (  # noqa: E731
        headers.get("x-amz-target", "").endswith(".PutItem") and b'"ARTIFACT#patches/' in body
    )
    with HoldingProxy(endpoint.url, patch_write) as proxy:
        first = subprocess.Popen(
            local_command(child.command),
            env={**environment, "AWS_ENDPOINT_URL_DYNAMODB": proxy.url},
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: proxy.arrived.is_set() or first.poll() is not None, PATIENCE)
            assert first.poll() is None, f"the child ended early with {first.returncode}"
            # WHEN the child is killed outright while its patch step waits on that write
            (stored,) = store.get_runs([job.id])[job.id]
            assert stored.step == "patch" and stored.patch is None
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=PATIENCE)
        finally:
            if first.poll() is None:
                first.kill()
    # AND Batch starts it again
    again = {**environment, "AWS_BATCH_JOB_ATTEMPT": "2"}
    retried = subprocess.run(local_command(child.command), env=again, stdin=subprocess.DEVNULL, timeout=2 * PATIENCE)
    # THEN the run was resumed as the same attempt from its last turn and SUCCEEDED with a patch that applies
    assert retried.returncode == 0
    (after,) = store.get_runs([job.id])[job.id]
    assert after.status is RunStatus.SUCCEEDED, after.error
    assert after.attempt == 1 and [(r.reason, r.from_turn) for r in after.resumptions] == [(ResumeReason.RESUMED, 2)]
    assert after.patch is not None
    diff = store.get_artifact(after.patch.artifact_key)
    assert diff is not None
    assert (applies_to_fresh_clone(origin, diff, tmp_path) / "app.py").read_text() == "print('hello')\n"
    # AND Claude was not asked again: its thread had ended
    assert len(fake_model.requests) == 2
