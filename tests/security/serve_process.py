"""`cody-batch serve` as a real child process, for tests of what happens to it and its workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from core.models import JobStatus, RepositoryRun
from core.settings import Settings
from store.sqlite import SqliteStore
from tests.integration.cli.live_server import free_port
from tests.patience import PATIENCE
from tests.security.processes import descendants, kill_all

SERVE = [sys.executable, "-c", "from server.cli.main import main; main()", "serve"]
CREATE = """mutation($input: CreateJobInput!) {
  createJob(input: $input) { ... on Job { id } ... on InputError { message } } }"""


@dataclass
class ServeProcess:
    """A `serve` child process on a port, over a data dir."""

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

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to clean up."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=PATIENCE)


def serve_env(data_dir: Path, **variables: str) -> dict[str, str]:
    """This environment with the data dir and `variables` set, for a `serve` child."""
    return {**os.environ, "CODY_BATCH_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1", "COLUMNS": "250", **variables}


def start_serve(
    cwd: Path,
    data_dir: Path,
    port: int,
    *args: str,
    command: Sequence[str] = SERVE,
    stderr: IO[str] | int = subprocess.DEVNULL,
    **variables: str,
) -> ServeProcess:
    """Start `serve --port PORT ARGS...` (by `command`) and wait until it answers /healthz."""
    proc = subprocess.Popen(
        [*command, "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=serve_env(data_dir, **variables),
        cwd=cwd,
    )
    served = ServeProcess(proc, port, data_dir)
    try:
        _wait_until_healthy(served)
    except BaseException:
        served.kill()
        raise
    return served


def _wait_until_healthy(served: ServeProcess) -> None:
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


@contextmanager
def serves_with_model(
    cwd: Path, repos_dir: Path, model_url: str, **variables: str
) -> Iterator[Callable[[], ServeProcess]]:
    """A way to start `serve` (again and again) on one data dir under `cwd`, its workers talking to the
    model at `model_url`; every server and every process it started is killed at the end."""
    started: list[ServeProcess] = []

    def start() -> ServeProcess:
        served = start_serve(
            cwd,
            cwd / "data",
            free_port(),
            ANTHROPIC_API_KEY="test-key",
            ANTHROPIC_BASE_URL=model_url,
            CODY_BATCH_ALLOWED_REPOS=f"{repos_dir}/*",
            stderr=subprocess.DEVNULL,
            **variables,
        )
        started.append(served)
        return served

    try:
        yield start
    finally:
        workers: set[int] = set()
        for served in started:
            workers |= descendants(served.proc.pid)
            served.kill()
        kill_all(workers)


def create_job(served: ServeProcess, repos: Sequence[Path | str]) -> str:
    """createJob over HTTP, as the UI sends it; the job id."""
    variables = {"input": {"prompt": "Say hello instead of hi.", "repositories": [str(r) for r in repos]}}
    job = httpx.post(served.url, json={"query": CREATE, "variables": variables}).json()["data"]["createJob"]
    assert "id" in job, job
    return str(job["id"])


def stored_runs(data_dir: Path, job_id: str) -> list[RepositoryRun]:
    """The job's runs as stored in the data dir, read by a store of this process."""
    store = SqliteStore(Settings(data_dir=data_dir).database_path)
    try:
        return store.get_runs([job_id])[job_id]
    finally:
        store.close()


def stored_job_status(data_dir: Path, job_id: str) -> JobStatus | None:
    """The job's status as stored in the data dir (None: no such job)."""
    store = SqliteStore(Settings(data_dir=data_dir).database_path)
    try:
        job = store.get_job(job_id)
        return None if job is None else job.status
    finally:
        store.close()
