"""The composition root with CODY_BATCH_BACKEND=aws: DynamoDB + S3 store, AWS Batch dispatcher."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigurationError
from core.services.jobs import JobRequest, create_job
from core.settings import Settings
from server.aws.batch_dispatcher import BatchDispatcher
from server.aws.clients import aws_client
from server.runtime.bootstrap import bootstrap
from store.dynamodb import DynamoStore
from tests.fakes.connections_server import FakeConnections
from tests.integration.aws.conftest import BUCKET, TABLE, make_runtime


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a Lambda or Batch container has: a region (credentials come from moto's mock)."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aws_client.cache_clear()


def test_bootstrap_builds_the_aws_adapters_and_a_job_reaches_batch(
    aws_settings: Settings,
    connections: FakeConnections,
    batch: Any,
    aws_environment: None,
    make_repo: Callable[..., Path],
) -> None:
    make_runtime(aws_settings, connections)  # the table and bucket
    # GIVEN the aws backend's settings WHEN bootstrapped
    container = bootstrap(aws_settings)
    # THEN the store is DynamoDB and the dispatcher AWS Batch, and a job created through them reaches Batch
    assert isinstance(container.store, DynamoStore) and isinstance(container.dispatcher, BatchDispatcher)
    assert (container.store.table_name, container.store.artifacts.bucket) == (TABLE, BUCKET)
    request = JobRequest(prompt="fix", repositories=[str(make_repo())])
    job = create_job(container.store, container.dispatcher, aws_settings, request)
    (run,) = container.store.get_runs([job.id])[job.id]
    assert run.batch_job_id is not None
    assert batch.describe_jobs(jobs=[run.batch_job_id])["jobs"][0]["jobName"] == f"cody-batch-{job.id}"


def test_bootstrap_needs_the_batch_queue_on_aws(aws_settings: Settings, aws_environment: None) -> None:
    # GIVEN aws settings without a job queue WHEN bootstrapped THEN the error names it
    with pytest.raises(ConfigurationError, match="CODY_BATCH_JOB_QUEUE"):
        bootstrap(aws_settings.model_copy(update={"job_queue": None}))
