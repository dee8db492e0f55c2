"""`cody-batch serve --demo` as a real process, then `submit --wait` on the sample it created."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from server.cli import app
from server.cli_serve import DEMO_NOTICE
from server.samples import SAMPLE_NAME
from tests.integration.cli.live_server import free_port

PATIENCE = 60


@dataclass
class Served:
    proc: subprocess.Popen[str]
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def stop(self) -> tuple[int, str]:
        """Interrupt the server like Ctrl-C; its exit code and stdout."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=PATIENCE)
        assert self.proc.stdout is not None
        return code, self.proc.stdout.read()


def _wait_until_healthy(served: Served) -> None:
    # Polling for readiness only; the test fails if the server never comes up.
    for _ in range(PATIENCE * 10):
        if served.proc.poll() is not None:
            break
        try:
            if httpx.get(f"http://127.0.0.1:{served.port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"serve did not start: {served.stop()}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {**os.environ, "CODY_BATCH_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", "COLUMNS": "250"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from server.cli import main; main()", "serve", "--demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    server = Served(proc, port, data_dir)
    try:
        _wait_until_healthy(server)
        yield server
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_demo_runs_a_first_job_on_the_sample_end_to_end(served: Served) -> None:
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
