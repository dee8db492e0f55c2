"""Local Batch: every child of a job submitted to moto's Batch runs as a local process, with Batch's environment."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from core.settings import Settings
from server.aws import batch_definitions as batch_defs
from server.aws.emulator.local_batch import LocalBatch, local_command
from server.aws.emulator.moto_endpoint import MOTO_CONFIG
from server.aws.provision import provision
from tests.fakes import moto_aws
from tests.integration.worker.conftest import wait_for

# The container's "program": records what it was started with.
RECORD = (
    "import json, os, sys; "
    "open(os.path.join(sys.argv[1], os.environ['AWS_BATCH_JOB_ID'].replace(':', '_')), 'w')"
    ".write(json.dumps({'argv': sys.argv[2:], 'index': os.environ.get('AWS_BATCH_JOB_ARRAY_INDEX'),"
    " 'indexes': os.environ.get('RUNS'), 'table': os.environ.get('CODY_BATCH_TABLE')}))"
)


@pytest.fixture
def batch() -> Iterator[Any]:
    with mock_aws(config=MOTO_CONFIG):
        provision(Settings(table="t-one", bucket="bucket-one"), moto_aws.client, "http://moto")
        yield moto_aws.client("batch")


def _run_all(local: LocalBatch, expected: int) -> None:
    # Waiting for processes to end, not timing them: the test fails if they never do.
    def finished() -> bool:
        local.poll_once()
        return len(local.finished) >= expected and not local.running

    wait_for(finished)


def test_each_child_of_an_array_job_runs_once_with_its_index_and_the_definition_environment(
    batch: Any, tmp_path: Path
) -> None:
    # GIVEN an array job of three children and a plain job
    command = [sys.executable, "-c", RECORD, str(tmp_path), "worker", "run", "J1"]
    array = batch.submit_job(
        jobName="j1",
        jobQueue="cody-batch-workers",
        jobDefinition="cody-batch-worker",
        arrayProperties={"size": 3},
        containerOverrides={"command": command, "environment": [{"name": "RUNS", "value": "0,2,4"}]},
    )["jobId"]
    plain = batch.submit_job(
        jobName="j2",
        jobQueue="cody-batch-workers",
        jobDefinition="cody-batch-worker",
        containerOverrides={"command": [*command[:-1], "J2", "--repo", "1"]},
    )["jobId"]
    # WHEN local Batch picks them up, two at a time
    local = LocalBatch(
        batch, "cody-batch-workers", 2, {"PATH": "/usr/bin:/bin"}, secretsmanager=moto_aws.client("secretsmanager")
    )
    _run_all(local, 4)
    local.poll_once()
    # THEN four processes ran, each once, with its array index, the overrides and the definition's environment
    assert sorted(local.finished) == sorted([f"{array}:0", f"{array}:1", f"{array}:2", plain])
    assert set(local.finished.values()) == {0}
    seen = {p.name: json.loads(p.read_text()) for p in tmp_path.iterdir()}
    assert [seen[f"{array}_{i}"]["index"] for i in range(3)] == ["0", "1", "2"]
    assert {seen[f"{array}_{i}"]["indexes"] for i in range(3)} == {"0,2,4"}
    assert seen[plain] == {
        "argv": ["worker", "run", "J2", "--repo", "1"],
        "index": None,
        "indexes": None,
        "table": "t-one",
    }


def test_the_image_program_is_the_cody_batch_beside_this_python() -> None:
    assert local_command(["cody-batch", "worker", "run", "J"])[0] == str(Path(sys.executable).with_name("cody-batch"))
    assert local_command(["echo", "x"]) == ["echo", "x"]


def test_a_child_gets_its_definition_secrets_from_secrets_manager_and_not_from_the_emulator_environment(
    tmp_path: Path,
) -> None:
    # GIVEN the secret and worker definition bootstrap makes, holding an Anthropic key
    record = "import json, os, sys; open(sys.argv[1], 'w').write(json.dumps(dict(os.environ)))"
    with mock_aws(config=MOTO_CONFIG):
        made = provision(Settings(), moto_aws.client, "http://moto", secrets={"ANTHROPIC_API_KEY": "sk-ant-in-secret"})
        batch = moto_aws.client("batch")
        job = batch.submit_job(
            jobName="j1",
            jobQueue=made.job_queue,
            jobDefinition=made.job_definition,
            containerOverrides={"command": [sys.executable, "-c", record, str(tmp_path / "env.json")]},
        )["jobId"]
        # WHEN local Batch runs it from an environment without the key
        local = LocalBatch(batch, made.job_queue, 1, {"PATH": "/usr/bin:/bin"}, moto_aws.client("secretsmanager"))
        _run_all(local, 1)
    # THEN the child had each key the definition names, as ECS sets them (an unset one empty)
    environment = json.loads((tmp_path / "env.json").read_text())
    assert local.finished == {job: 0}
    assert environment["ANTHROPIC_API_KEY"] == "sk-ant-in-secret"
    assert environment["GITHUB_TOKEN"] == ""
    assert "CODY_BATCH_API_TOKEN" not in environment


def test_a_job_whose_secret_lacks_a_key_does_not_start(batch: Any, tmp_path: Path) -> None:
    # GIVEN a definition naming a key its secret does not have
    secrets = moto_aws.client("secretsmanager")
    arn = secrets.create_secret(Name="other", SecretString=json.dumps({"GITHUB_TOKEN": "t"}))["ARN"]
    role = "arn:aws:iam::123456789012:role/worker"
    batch.register_job_definition(**batch_defs.job_definition_kwargs("needs-a-key", "x", {}, role, secret_arn=arn))
    batch.submit_job(
        jobName="j1",
        jobQueue="cody-batch-workers",
        jobDefinition="needs-a-key",
        containerOverrides={"command": [sys.executable, "-c", f"open({str(tmp_path / 'ran')!r}, 'w')"]},
    )
    # WHEN local Batch picks it up
    local = LocalBatch(batch, "cody-batch-workers", 1, {"PATH": "/usr/bin:/bin"}, secrets)
    local.poll_once()
    # THEN nothing runs, as ECS starts no task whose secrets it cannot resolve
    assert local.running == {} and not local.waiting
    assert not (tmp_path / "ran").exists()
