"""Local Batch: every child of a job submitted to moto's Batch runs as a local process, with Batch's environment."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from core.settings import Settings
from server.aws.emulator.local_batch import LocalBatch, local_command
from server.aws.emulator.moto_endpoint import MOTO_CONFIG
from server.aws.provision import provision
from tests.fakes import moto_aws

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
    for _ in range(600):
        local.poll_once()
        if len(local.finished) >= expected and not local.running:
            return
        time.sleep(0.05)
    pytest.fail(f"children did not finish: {local.finished}")


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
    local = LocalBatch(batch, "cody-batch-workers", slots=2, base_environment={"PATH": "/usr/bin:/bin"})
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
