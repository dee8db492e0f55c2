"""`cody-batch serve --demo` as a real process, then `submit --wait` on the sample it created."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from server.cli.main import app
from server.cli.serve import DEMO_NOTICE
from server.demo.samples import SAMPLE_NAME
from tests.integration.cli.live_server import free_port
from tests.security.serve_process import ServeProcess, start_serve


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
