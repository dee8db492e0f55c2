"""AWS fixtures on moto in-process: Batch, the table and bucket, the `@connections` stand-in, a runtime."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from core.settings import Settings
from server import lambdas
from server.aws.lambda_runtime import AwsRuntime
from store.dynamo_table import create_table
from tests.fakes.connections_server import FakeConnections

REGION = "us-east-1"
TABLE = "cody-batch"
BUCKET = "cody-batch-artifacts"


def aws_client(service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client with dummy credentials (moto accepts any)."""
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=endpoint_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def make_batch_resources(client: Any) -> None:
    """A compute environment, the queue and the worker's job definition."""
    role = aws_client("iam").create_role(RoleName="batch-service", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    env = client.create_compute_environment(
        computeEnvironmentName="cody-batch", type="UNMANAGED", state="ENABLED", serviceRole=role
    )
    client.create_job_queue(
        jobQueueName="cody-batch",
        state="ENABLED",
        priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}],
    )
    client.register_job_definition(
        jobDefinitionName="cody-batch-worker",
        type="container",
        containerProperties={"image": "cody-batch:latest", "vcpus": 1, "memory": 2048, "command": ["true"]},
    )


@pytest.fixture
def mocked_aws() -> Iterator[None]:
    """moto in-process for the test; Batch records jobs without Docker."""
    with mock_aws(config={"batch": {"use_docker": False}}):
        yield


@pytest.fixture
def batch(mocked_aws: None) -> Any:
    client = aws_client("batch")
    make_batch_resources(client)
    return client


@pytest.fixture
def connections() -> Iterator[FakeConnections]:
    with FakeConnections() as fake:
        yield fake


@pytest.fixture
def aws_settings(settings: Settings, connections: FakeConnections) -> Settings:
    return settings.model_copy(
        update={
            "backend": "aws",
            "table": TABLE,
            "bucket": BUCKET,
            "job_queue": "cody-batch",
            "job_definition": "cody-batch-worker",
            "ws_endpoint": connections.url,
        }
    )


def make_runtime(
    settings: Settings,
    connections: FakeConnections | None = None,
    connections_url: str = "",
    batch: Any = None,
    **options: Any,
) -> AwsRuntime:
    """A runtime on the moto table and bucket (made if missing) and a `@connections` API (the
    stand-in, or the one at `connections_url`); `batch`: its Batch client (default: moto's)."""
    dynamodb, s3 = aws_client("dynamodb"), aws_client("s3")
    create_table(dynamodb, TABLE)
    if BUCKET not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=BUCKET)
    return AwsRuntime.from_clients(
        settings,
        dynamodb=dynamodb,
        s3=s3,
        batch=batch or aws_client("batch"),
        connections=aws_client("apigatewaymanagementapi", connections.url if connections else connections_url),
        **options,
    )


@pytest.fixture
def runtime(aws_settings: Settings, connections: FakeConnections, batch: Any) -> AwsRuntime:
    return make_runtime(aws_settings, connections)


@pytest.fixture
def lambda_environment(
    aws_settings: Settings, monkeypatch: pytest.MonkeyPatch, connections: FakeConnections, batch: Any
) -> Iterator[None]:
    """What the stack sets on the functions; the module's process-wide runtime built afresh."""
    make_runtime(aws_settings, connections)  # the table and bucket
    environment = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "CODY_BATCH_TABLE": TABLE,
        "CODY_BATCH_BUCKET": BUCKET,
        "CODY_BATCH_WS_ENDPOINT": connections.url,
        "CODY_BATCH_DATA_DIR": str(aws_settings.data_dir),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    lambdas.reset()
    yield
    lambdas.reset()
