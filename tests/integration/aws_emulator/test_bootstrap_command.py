"""`cody-batch aws bootstrap` as a user runs it: against moto server, with no AWS credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from server.aws.emulator.moto_endpoint import MotoEndpoint, start_endpoint

CLI = str(Path(sys.executable).parent / "cody-batch")


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoEndpoint]:
    endpoint = start_endpoint()
    yield endpoint
    endpoint.stop()


def _environment(**extra: str) -> dict[str, str]:
    # No AWS credentials or region: the command must bring its own dummy ones.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CODY_BATCH_"))}
    return {**base, **extra}


def test_bootstrap_creates_the_resources_and_prints_the_settings(moto: MotoEndpoint) -> None:
    # WHEN bootstrap runs against moto server with a table name of our own
    done = subprocess.run(
        [CLI, "aws", "bootstrap", "--json"],
        env=_environment(AWS_ENDPOINT_URL=moto.url, CODY_BATCH_TABLE="boot-table", GITHUB_TOKEN="ghp_from_shell"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # THEN it succeeds and says how to point the AWS backend at what it made
    assert done.returncode == 0, done.stderr
    settings = json.loads(done.stdout)
    assert settings["CODY_BATCH_BACKEND"] == "aws" and settings["CODY_BATCH_TABLE"] == "boot-table"
    # AND the table is there with its stream, and so is the queue
    client = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1").client
    table = client("dynamodb", endpoint_url=moto.url).describe_table(TableName="boot-table")["Table"]
    assert table["StreamSpecification"]["StreamEnabled"] is True
    queues = client("batch", endpoint_url=moto.url).describe_job_queues(jobQueues=[settings["CODY_BATCH_JOB_QUEUE"]])
    assert len(queues["jobQueues"]) == 1
    # AND the shell's token is in the secret the worker's definition names, not in the definition
    secret = client("secretsmanager", endpoint_url=moto.url).get_secret_value(SecretId="cody-batch")
    assert json.loads(secret["SecretString"])["GITHUB_TOKEN"] == "ghp_from_shell"
    (definition,) = client("batch", endpoint_url=moto.url).describe_job_definitions(
        jobDefinitionName=settings["CODY_BATCH_JOB_DEFINITION"], status="ACTIVE"
    )["jobDefinitions"]
    assert {"name": "GITHUB_TOKEN", "valueFrom": f"{secret['ARN']}:GITHUB_TOKEN::"} in definition[
        "containerProperties"
    ]["secrets"]
    assert "ghp_from_shell" not in json.dumps(definition)


def test_bootstrap_without_an_emulator_is_a_clear_error() -> None:
    done = subprocess.run(
        [CLI, "aws", "bootstrap"], env=_environment(), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0
    assert "AWS_ENDPOINT_URL" in done.stderr and "Traceback" not in done.stderr
