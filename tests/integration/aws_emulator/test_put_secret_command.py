"""`cody-batch aws put-secret` as a user runs it after a deploy: the shell's keys into the stack's secret."""

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


def _secrets(moto: MotoEndpoint) -> Any:
    return boto3.client(
        "secretsmanager",
        endpoint_url=moto.url,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        region_name=DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"],
    )


def _put(moto: MotoEndpoint, secret_id: str, **shell: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CODY_BATCH_"))}
    for name in STACK_MADE:
        base.pop(name, None)
    environment = {**base, **DUMMY_CREDENTIALS, "AWS_ENDPOINT_URL": moto.url, **shell}
    return subprocess.run(
        [CLI, "aws", "put-secret", "--secret-id", secret_id],
        env=environment,
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
