"""`cody-batch aws bootstrap` and `aws put-secret` as a user runs them: against moto server, with no AWS credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from server.aws.emulator.moto_endpoint import DUMMY_CREDENTIALS, MotoEndpoint, start_endpoint

CLI = str(Path(sys.executable).parent / "cody-batch")
STACK_MADE = {
    "ANTHROPIC_API_KEY": "",
    "GITHUB_TOKEN": "",
    "CODY_BATCH_API_TOKEN": "generated-by-cloudformation",
    "CODY_BATCH_GITHUB_WEBHOOK_SECRET": "",
}


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


def test_the_printed_settings_alone_reach_what_bootstrap_made(moto: MotoEndpoint) -> None:
    # GIVEN a shell with no AWS settings but the emulator's address, as in the README
    shell = _environment(AWS_ENDPOINT_URL=moto.url)
    # WHEN bootstrap runs and its settings are all a later process is given
    done = subprocess.run(
        [CLI, "aws", "bootstrap", "--json"], env=shell, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    # THEN they name the emulator, a region and the stand-in credentials, and with them the table is found
    assert printed["AWS_ENDPOINT_URL"] == moto.url
    session = boto3.session.Session(
        aws_access_key_id=printed["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=printed["AWS_SECRET_ACCESS_KEY"],
        region_name=printed["AWS_DEFAULT_REGION"],
    )
    table = session.client("dynamodb", endpoint_url=printed["AWS_ENDPOINT_URL"]).describe_table(
        TableName=printed["CODY_BATCH_TABLE"]
    )
    assert table["Table"]["TableStatus"] == "ACTIVE"
    # AND credentials the shell has are its own business: none are printed over them
    own = subprocess.run(
        [CLI, "aws", "bootstrap", "--json"],
        env={**shell, "AWS_ACCESS_KEY_ID": "mine", "AWS_SECRET_ACCESS_KEY": "mine", "AWS_DEFAULT_REGION": "eu-west-1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert own.returncode == 0, own.stderr
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"} & set(json.loads(own.stdout))


def test_bootstrap_without_an_emulator_is_a_clear_error() -> None:
    done = subprocess.run(
        [CLI, "aws", "bootstrap"], env=_environment(), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode != 0
    assert "AWS_ENDPOINT_URL" in done.stderr and "Traceback" not in done.stderr


def _secrets(moto: MotoEndpoint) -> Any:
    return boto3.client(
        "secretsmanager",
        endpoint_url=moto.url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name="us-east-1",
    )


def _put(moto: MotoEndpoint, secret_id: str, **shell: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in _environment(AWS_ENDPOINT_URL=moto.url).items() if k not in STACK_MADE}
    return subprocess.run(
        [CLI, "aws", "put-secret", "--secret-id", secret_id],
        env={**environment, **DUMMY_CREDENTIALS, **shell},  # put-secret uses the shell's credentials
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_shell_keys_are_put_and_the_others_kept_with_no_value_in_the_output(moto: MotoEndpoint) -> None:
    # GIVEN the secret as the stack makes it
    arn = _secrets(moto).create_secret(Name="stack-secret", SecretString=json.dumps(STACK_MADE))["ARN"]
    # WHEN the user puts the Anthropic key and the GitHub token from the shell
    done = _put(moto, arn, ANTHROPIC_API_KEY="sk-ant-from-shell", GITHUB_TOKEN="ghp_from_shell")
    # THEN the secret holds them, the generated API token is kept, and only names are printed
    assert done.returncode == 0, done.stderr
    stored = json.loads(_secrets(moto).get_secret_value(SecretId=arn)["SecretString"])
    assert stored == {**STACK_MADE, "ANTHROPIC_API_KEY": "sk-ant-from-shell", "GITHUB_TOKEN": "ghp_from_shell"}
    assert "ANTHROPIC_API_KEY, GITHUB_TOKEN" in done.stdout
    assert "from-shell" not in done.stdout + done.stderr


def test_nothing_to_put_or_no_such_secret_is_a_clear_error_that_changes_nothing(moto: MotoEndpoint) -> None:
    arn = _secrets(moto).create_secret(Name="untouched", SecretString=json.dumps(STACK_MADE))["ARN"]
    empty = _put(moto, arn)
    missing = _put(moto, "no-such-secret", GITHUB_TOKEN="ghp_from_shell")
    assert empty.returncode != 0 and "nothing to put" in empty.stderr
    assert missing.returncode != 0 and "cannot be read" in missing.stderr
    assert "Traceback" not in empty.stderr + missing.stderr and "ghp_from_shell" not in missing.stderr
    assert json.loads(_secrets(moto).get_secret_value(SecretId=arn)["SecretString"]) == STACK_MADE
