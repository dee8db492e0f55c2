"""Browser end-to-end fixtures: the real `cody-batch serve` on a free port, the SPA build, Chromium."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.patience import PATIENCE

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
OUTPUT = ROOT / "test-output" / "e2e"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# `make test` sets this: there a missing browser or SPA build is a failure, not a skip.
REQUIRED = os.environ.get("E2E_REQUIRED") == "1"
JOB_STATUS = "query($id: ID!) { job(id: $id) { status } }"


def browser_prerequisites() -> str | None:
    """Why the browser tests cannot run here, or None when they can (`make test` provides all)."""
    if not (FRONTEND / "dist" / "index.html").is_file():
        return "the SPA is not built (make frontend)"
    if not (FRONTEND / "node_modules" / "playwright-core").is_dir():
        return "frontend dependencies are not installed (make frontend)"
    if shutil.which("node") is None or not Path(CHROMIUM).exists():
        return "node or Debian's chromium is missing (make browser)"
    return None


@pytest.fixture(autouse=True)
def _browser_ready() -> None:
    """Skip (or, under `make test`, fail) when the browser tests cannot run here."""
    missing = browser_prerequisites()
    if missing is not None:
        if REQUIRED:
            pytest.fail(f"the browser tests must run, but {missing}")
        pytest.skip(missing)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PORT_ATTEMPTS = 3


@dataclass
class Server:
    url: str
    log: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a query; the `data` of the answer (fails the test on errors)."""
        answer = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
        body = answer.json()
        assert "errors" not in body, body
        return dict(body["data"])

    def finished_job(self, job_id: str, query: str = JOB_STATUS) -> dict[str, Any]:
        """`query`'s job once it is no longer QUEUED or RUNNING (fails the test if it never gets there)."""
        # Waiting for an outcome, not timing it: the guard only keeps a broken run from hanging the suite.
        deadline = time.monotonic() + PATIENCE
        while True:
            job = dict(self.graphql(query, {"id": job_id})["job"])
            if job["status"] not in {"QUEUED", "RUNNING"}:
                return job
            if time.monotonic() > deadline:
                pytest.fail(f"job {job_id} is still {job['status']}:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)


def run_browser(
    script: str,
    args: list[str],
    on_line: Callable[[str], None] = lambda line: None,
    node_flags: Sequence[str] = (),
) -> dict[str, Any]:
    """Run a node flow of this folder, calling `on_line` for each progress line; its RESULT."""
    process = subprocess.Popen(
        ["node", *node_flags, str(Path(__file__).parent / script), *args],
        cwd=ROOT,
        env={**os.environ, "E2E_PATIENCE_SECONDS": str(PATIENCE)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    result: dict[str, Any] | None = None
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
        else:
            on_line(line.strip())
    stderr = process.stderr.read() if process.stderr else ""
    process.wait(timeout=60)
    assert result is not None, f"the browser flow printed no result; stderr:\n{stderr}"
    return result


@pytest.fixture
def output_dir() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT


@pytest.fixture
def serve(tmp_path: Path, repos_dir: Path) -> Iterator[Callable[..., Server]]:
    """Start `cody-batch serve` (or `command`) with extra environment; stopped (with its workers) after the test."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(env: dict[str, str], *args: str, command: Sequence[str] = ("serve",)) -> Server:
        environment = {
            **os.environ,
            "CODY_BATCH_DATA_DIR": str(tmp_path / "data"),
            "CODY_BATCH_ALLOWED_REPOS": f"{repos_dir}/*",
            **env,
        }
        # A port found free may be taken by another process before the server binds it: then another port.
        for _ in range(PORT_ATTEMPTS):
            port = free_port()
            log = tmp_path / "server.log"
            argv = [str(Path(sys.executable).parent / "cody-batch"), *command, "--port", str(port), *args]
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    argv, cwd=ROOT, env=environment, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
                )
            processes.append(process)
            server = Server(f"http://127.0.0.1:{port}", log)
            if _listening(process, server, port):
                return server
        pytest.fail(f"the server found no free port in {PORT_ATTEMPTS} tries:\n{log.read_text()}")

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _listening(process: subprocess.Popen[bytes], server: Server, port: int) -> bool:
    """Whether the started server listens on `port` and answers there (False: the port was taken first)."""
    # Its own log line, not only an answer on the port: another process that took the port may answer too.
    own = f"Uvicorn running on http://127.0.0.1:{port}"
    deadline = time.monotonic() + PATIENCE  # waiting for readiness, not timing it
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = server.log.read_text()
            if "in use" in log:
                return False
            pytest.fail(f"the server exited:\n{log}")
        if own in server.log.read_text():
            try:
                if httpx.get(f"{server.url}/healthz", timeout=PATIENCE).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
        time.sleep(0.05)
    pytest.fail(f"the server did not start:\n{server.log.read_text()}")
