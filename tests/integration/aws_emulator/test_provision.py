"""`aws bootstrap`'s provisioning on a real moto server: every resource the stack has, idempotently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from core.errors import ConfigurationError
from core.settings import Settings
from server.aws.emulator.moto_endpoint import DUMMY_CREDENTIALS, MotoEndpoint, start_endpoint
from server.aws.provision import provision
from store.dynamo_table import STREAM_VIEW


@pytest.fixture(scope="module")
def endpoint() -> Iterator[MotoEndpoint]:
    started = start_endpoint()
    yield started
    started.stop()


def _client_factory(endpoint: MotoEndpoint) -> Any:
    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint.url,
            region_name=DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"],
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )

    return client


def test_bootstrap_creates_table_with_stream_bucket_and_batch_queue(endpoint: MotoEndpoint) -> None:
    client = _client_factory(endpoint)
    # WHEN bootstrap runs twice against moto server
    settings = Settings(table="table-one", bucket="bucket-one", job_queue="q1", job_definition="d1")
    made = provision(settings, client, endpoint.url)
    provision(settings, client, endpoint.url)
    # THEN the table streams new and old images and the stream is readable through DynamoDB Streams
    table = client("dynamodb").describe_table(TableName=made.table)["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == STREAM_VIEW
    stream = client("dynamodbstreams").describe_stream(StreamArn=table["LatestStreamArn"])
    assert stream["StreamDescription"]["TableName"] == "table-one"
    # AND the bucket, queue and one active worker definition exist
    client("s3").head_bucket(Bucket="bucket-one")
    queues = client("batch").describe_job_queues(jobQueues=["q1"])["jobQueues"]
    assert [q["state"] for q in queues] == ["ENABLED"]
    definitions = client("batch").describe_job_definitions(jobDefinitionName="d1", status="ACTIVE")["jobDefinitions"]
    assert len(definitions) == 1
    container = definitions[0]["containerProperties"]
    assert container["command"] == ["cody-batch", "worker", "run"]
    assert {"name": "CODY_BATCH_TABLE", "value": "table-one"} in container["environment"]


def test_bootstrap_without_an_emulator_endpoint_is_refused(endpoint: MotoEndpoint) -> None:
    with pytest.raises(ConfigurationError, match="AWS_ENDPOINT_URL"):
        provision(Settings(), _client_factory(endpoint), None)


def test_bootstrap_puts_the_shell_secrets_in_one_secret_that_the_worker_definition_names_by_key(
    endpoint: MotoEndpoint,
) -> None:
    client = _client_factory(endpoint)
    settings = Settings(table="table-two", bucket="bucket-two", job_queue="q2", job_definition="d2")
    # WHEN bootstrap runs with a key in the shell, then again with another one
    provision(settings, client, endpoint.url, secrets={"ANTHROPIC_API_KEY": "sk-ant-first", "PATH": "/bin"})
    made = provision(settings, client, endpoint.url, secrets={"GITHUB_TOKEN": "ghp_second"})
    # THEN the secret holds every key, the latest shell's values (unset ones empty), nothing else
    assert made.secret_arn is not None
    stored = json.loads(client("secretsmanager").get_secret_value(SecretId=made.secret_arn)["SecretString"])
    assert stored == {
        "ANTHROPIC_API_KEY": "",
        "GITHUB_TOKEN": "ghp_second",
        "CODY_BATCH_API_TOKEN": "",
        "CODY_BATCH_GITHUB_WEBHOOK_SECRET": "",
    }
    # AND the worker's definition names the worker's keys of it, with no value in its environment
    (definition,) = client("batch").describe_job_definitions(jobDefinitionName="d2", status="ACTIVE")["jobDefinitions"]
    container = definition["containerProperties"]
    assert container["secrets"] == [
        {"name": "ANTHROPIC_API_KEY", "valueFrom": f"{made.secret_arn}:ANTHROPIC_API_KEY::"},
        {"name": "GITHUB_TOKEN", "valueFrom": f"{made.secret_arn}:GITHUB_TOKEN::"},
    ]
    assert "ghp_second" not in json.dumps(definition)
