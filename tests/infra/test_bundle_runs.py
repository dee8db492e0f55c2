"""The functions' bundle, built as the synth builds it, serves GraphQL under the Lambda runtime's Python."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.bundling import PYTHON_VERSION, PipBundling, function_packages, function_requirements, runtime_python
from infra.sources import ROOT

INVOKE = Path(__file__).with_name("lambda_invoke.py")
# What the stack sets, with stand-ins: answering `settings` reads no AWS resource.
LAMBDA_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "CODY_BATCH_BACKEND": "aws",
    "CODY_BATCH_TABLE": "cody-batch",
    "CODY_BATCH_BUCKET": "cody-batch-artifacts",
    "CODY_BATCH_JOB_QUEUE": "arn:aws:batch:us-east-1:123456789012:job-queue/q",
    "CODY_BATCH_JOB_DEFINITION": "arn:aws:batch:us-east-1:123456789012:job-definition/d:1",
    "CODY_BATCH_ALLOWED_REPOS": "github.com/acme/*",
}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The functions' code as `make synth` bundles it: Linux wheels for the runtime's Python, our packages."""
    out = tmp_path_factory.mktemp("lambda-bundle")
    PipBundling(source=ROOT, requirements=function_requirements(), packages=function_packages()).try_bundle(
        str(out),
        None,  # type: ignore[arg-type]
    )
    return out


@pytest.fixture(scope="module")
def lambda_python() -> str:
    """The real path of an interpreter of the Lambda runtime's version, or the test is skipped."""
    python = runtime_python()
    if python is None:
        pytest.skip(f"no python{PYTHON_VERSION} to run the Lambda bundle with")
    return python


def test_http_handler_answers_graphql_from_the_bundle_alone(bundle: Path, lambda_python: str, tmp_path: Path) -> None:
    # GIVEN the bundle and nothing else: an isolated interpreter of the Lambda's version, no site-packages
    env = {"PATH": os.defpath, "HOME": str(tmp_path), **LAMBDA_ENVIRONMENT}
    # WHEN API Gateway's event for POST /graphql reaches http_handler
    result = subprocess.run(
        [lambda_python, "-I", "-S", INVOKE, bundle, "{ settings { backend allowedRepositories } }"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,  # a guard against a hang, never a speed limit: a loaded machine is slow
    )
    assert result.returncode == 0, result.stderr
    answer_line, loaded_line = result.stdout.splitlines()[-2:]
    answer = json.loads(answer_line)
    # THEN it answers 200 with the settings the stack gives it
    assert answer["statusCode"] == 200, answer
    settings = json.loads(answer["body"])["data"]["settings"]
    assert settings == {"backend": "aws", "allowedRepositories": ["github.com/acme/*"]}
    # AND no worker, Claude, git or GitHub code was loaded (nor is it in the bundle)
    assert json.loads(loaded_line) == []
    assert not any((bundle / name).exists() for name in ("worker", "anthropic", "git", "github"))


# The time the asset's zip gives every file (CDK zips deterministically), as Lambda unpacks them.
ZIP_EPOCH = datetime.datetime(1980, 1, 1).timestamp()


def test_the_bundle_cold_start_compiles_no_module(bundle: Path, lambda_python: str, tmp_path: Path) -> None:
    # GIVEN the bundle's files all dated as the asset's zip dates them
    for path in bundle.rglob("*"):
        os.utime(path, (ZIP_EPOCH, ZIP_EPOCH))
    env = {"PATH": os.defpath, "HOME": str(tmp_path), **LAMBDA_ENVIRONMENT}
    # WHEN http_handler answers a query in a fresh interpreter that writes no bytecode (/var/task is
    # read-only) and reports where each module's code came from
    result = subprocess.run(
        [lambda_python, "-I", "-S", "-B", "-v", INVOKE, bundle, "{ settings { backend } }"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,  # a guard against a hang, never a speed limit
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.splitlines()[-2])["statusCode"] == 200
    # THEN every module of the bundle it loaded came from the bundle's bytecode, none compiled from source
    code_from = "# code object from "  # then the .pyc read (quoted), or the source compiled
    lines = result.stderr.splitlines()
    origins = [line.removeprefix(code_from).strip("'") for line in lines if line.startswith(code_from)]
    from_bundle = [origin for origin in origins if origin.startswith(str(bundle))]
    assert len(from_bundle) > 500  # the handler's whole stack: ours, Strawberry, boto3, pydantic, Starlette
    assert [origin for origin in from_bundle if not origin.endswith(".pyc")] == []


# Run inside the bundle: a valid FAILED event of another queue, answered before any AWS call.
BATCH_INVOKE = """
import json, sys
sys.path.insert(0, sys.argv[1])
import server.lambdas
detail = {"jobId": "j:0", "jobName": "cody-batch-J", "jobQueue": sys.argv[2], "status": "FAILED"}
event = {"version": "0", "id": "1", "detail-type": "Batch Job State Change", "source": "aws.batch",
         "account": "123456789012", "time": "2026-11-30T00:00:00Z", "region": "us-east-1", "resources": [],
         "detail": detail}
print(json.dumps(server.lambdas.batch_handler(event, None)))
"""


def test_batch_handler_reads_a_batch_job_state_change_from_the_bundle_alone(
    bundle: Path, lambda_python: str, tmp_path: Path
) -> None:
    # GIVEN the bundle and nothing else
    env = {"PATH": os.defpath, "HOME": str(tmp_path), **LAMBDA_ENVIRONMENT}
    other_queue = "arn:aws:batch:us-east-1:123456789012:job-queue/another"
    # WHEN EventBridge's FAILED event of another queue reaches batch_handler
    result = subprocess.run(
        [lambda_python, "-I", "-S", "-c", BATCH_INVOKE, bundle, other_queue],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,  # a guard against a hang, never a speed limit
    )
    # THEN Powertools' parser and the handler load from the bundle, and the event is ignored for its queue
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["outcome"] == "ignored" and "another" in answer["why"]
