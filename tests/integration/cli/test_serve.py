"""`cody-batch serve --demo` as a real process, then `submit --wait` on the sample it created."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from server.cli.main import app
from server.cli.serve import DEMO_NOTICE
from server.demo.samples import SAMPLE_NAME
from tests.integration.cli.live_server import free_port
from tests.patience import PATIENCE
from tests.security.serve_process import ServeProcess, serve_env, start_serve

CLI = [sys.executable, "-c", "from server.cli.main import main; main()"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServeProcess]:
    server = start_serve(tmp_path, tmp_path / "data", free_port(), "--demo")
    try:
        yield server
    finally:
        server.kill()


def test_serve_demo_runs_a_first_job_on_the_sample_end_to_end(served: ServeProcess) -> None:
    # GIVEN `serve --demo` on a fresh data dir
    sample = (served.data_dir / "samples" / SAMPLE_NAME).resolve()
    assert (sample / ".git").is_dir()
    # WHEN the sample gets a job through the CLI, followed to its end
    result = CliRunner().invoke(app, ["submit", "Add type hints", str(sample), "--wait", "--json", "--url", served.url])
    # THEN the recorded session changed the code: the job succeeded with a patch
    assert result.exit_code == 0, result.stdout + result.stderr
    job = json.loads(result.stdout)
    assert job["status"] == "SUCCEEDED"
    assert job["repositories"][0]["patch"]["filesChanged"] >= 1
    # AND the server reports demo mode
    settings = httpx.post(served.url, json={"query": "{ settings { demo } }"}).json()
    assert settings["data"]["settings"]["demo"] is True
    # AND Ctrl-C stops it cleanly after a banner naming the URLs, the allowlist and the demo model
    code, banner = served.stop()
    assert code == 0
    assert f"http://127.0.0.1:{served.port}/graphql" in banner
    assert f"{served.data_dir.resolve()}/samples/*" in banner
    assert DEMO_NOTICE in banner


@pytest.mark.parametrize("command", [["serve"], ["aws", "emulate"]], ids=" ".join)
def test_a_server_whose_port_is_taken_says_so_before_it_starts_anything(tmp_path: Path, command: list[str]) -> None:
    # GIVEN another process listening on the port (as `make run` does when `make run-aws` starts)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # WHEN a server is started on that port
        started = subprocess.run(
            [*CLI, *command, "--port", str(port)],
            env=serve_env(tmp_path / "data"),
            capture_output=True,
            text=True,
            timeout=PATIENCE,
        )
    # THEN it exits 1 saying which port is taken and what to do, before its banner or anything else
    assert started.returncode == 1, started.stdout + started.stderr
    said = " ".join(started.stderr.split())
    assert f"port {port} on 127.0.0.1 is in use" in said
    assert "--port or CODY_BATCH_PORT" in said and started.stderr.count("\n") == 1
    assert "Traceback" not in started.stderr
    assert "Cody Batch on" not in started.stdout
    assert not (tmp_path / "data" / "samples").exists()


def test_serve_with_the_aws_backend_points_to_aws_emulate(tmp_path: Path) -> None:
    # GIVEN the settings `aws bootstrap` prints, the AWS backend among them
    env = serve_env(tmp_path / "data", CODY_BATCH_BACKEND="aws", CODY_BATCH_TABLE="t", CODY_BATCH_BUCKET="b")
    # WHEN `serve` is started with them
    started = subprocess.run([*CLI, "serve"], env=env, capture_output=True, text=True, timeout=PATIENCE)
    # THEN it says it serves the local backend and which command runs the AWS code path here, before anything starts
    assert started.returncode == 1, started.stdout + started.stderr
    assert "serve runs the local backend" in started.stderr and "cody-batch aws emulate" in started.stderr
    assert "Traceback" not in started.stderr and "Cody Batch on" not in started.stdout
