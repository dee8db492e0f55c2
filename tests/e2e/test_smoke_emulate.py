"""`cody-batch smoke` against `cody-batch aws emulate`: the deploy pipeline's check on the AWS code path."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import CliRunner

from server.cli.main import app
from tests.e2e.conftest import Server
from tests.patience import PATIENCE


def test_smoke_passes_on_the_aws_code_path_with_a_job_pushed_through_the_stream(serve: Callable[..., Server]) -> None:
    # GIVEN the Lambda handlers behind the API Gateway stand-in, on moto server, replaying the demo session;
    # the allowlist left at its default, the server's own sample repository
    server = serve({"CODY_BATCH_ALLOWED_REPOS": ""}, "--demo", command=("aws", "emulate"))
    http_url = f"{server.url}/graphql"
    ws_url = http_url.replace("http://", "ws://")
    # WHEN the smoke check runs with a job, as the deploy workflow points it at a stack's outputs
    # (each check's time limit a guard: the Lambda handlers' first imports are slow on a loaded machine)
    arguments = ["--url", http_url, "--ws", ws_url, "--timeout", str(PATIENCE), "--job", "--job-timeout", "300"]
    result = CliRunner().invoke(app, ["smoke", *arguments])
    # THEN every step passes: the query is answered by the AWS backend, and the job is followed to its end
    # over the WebSocket handler, fed by the table's stream
    assert result.exit_code == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("ok  query:") and "backend aws" in line for line in lines)
    assert any(line.startswith("ok  subscription:") and ws_url in line for line in lines)
    assert any(line.startswith("ok  job:") and "SUCCEEDED" in line for line in lines)
    assert lines[-1] == "smoke check passed"
