"""A run process starts with nothing left to import.

`cody-batch serve` runs from its console script, as a user starts it, with Python's import-time
report on (PYTHONPROFILEIMPORTTIME): every process it starts, forked or not, writes one stderr
line per module it imports, so the report shows what the forkserver and the run processes
imported after the server was up, without touching their code.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.fakes.anthropic_server import FakeAnthropic
from tests.import_report import imported
from tests.integration.cli.live_server import free_port
from tests.integration.worker.conftest import greeting_edit, wait_for
from tests.security.processes import descendants
from tests.security.serve_process import ServeProcess, start_serve

CREATE = """mutation($input: CreateJobInput!) {
  createJob(input: $input) { ... on Job { id } ... on InputError { message } } }"""
STATUS = "query($id: ID!) { job(id: $id) { status } }"
# What the command line loads and no run needs.
CLI_MODULES = re.compile(r"^(typer|click|rich|httpx|server\.cli\.\w+)(\.|$)")


def forkserver_children(server_pid: int) -> set[int]:
    """Live processes forked by the server's worker forkserver: its run processes."""
    for pid in descendants(server_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"multiprocessing.forkserver" in command:
            return descendants(pid)
    return set()


def working_run_processes(served: ServeProcess) -> set[int]:
    """Forkserver children with the server's database open: those working a run, not those waiting for one."""
    working = set()
    for pid in forkserver_children(served.proc.pid):
        try:
            targets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if any(t.startswith(str(served.data_dir)) for t in targets):
            working.add(pid)
    return working


def run_job(served: ServeProcess, fake: FakeAnthropic, repos: list[Path]) -> None:
    """Create a job over `repos`, wait until it has succeeded and its run processes have exited."""
    fake.script(greeting_edit() * len(repos))
    variables = {"input": {"prompt": "Say hello instead of hi.", "repositories": [str(r) for r in repos]}}
    job = httpx.post(served.url, json={"query": CREATE, "variables": variables}).json()["data"]["createJob"]
    assert "id" in job, job

    def status() -> str:
        answer = httpx.post(served.url, json={"query": STATUS, "variables": {"id": job["id"]}}).json()
        return str(answer["data"]["job"]["status"])

    wait_for(lambda: status() in ("SUCCEEDED", "FAILED", "CANCELLED"))
    assert status() == "SUCCEEDED"
    wait_for(lambda: not working_run_processes(served))


def test_run_processes_import_nothing_once_the_server_is_up(
    tmp_path: Path, repos_dir: Path, make_repo: Callable[..., Path], fake_model: FakeAnthropic
) -> None:
    # GIVEN `cody-batch serve`, started by its console script, reporting every import on stderr
    script = Path(sys.executable).with_name("cody-batch")
    report = tmp_path / "imports.txt"
    repos = [make_repo("a"), make_repo("b")]
    with report.open("w") as stderr:
        served = start_serve(
            tmp_path,
            tmp_path / "data",
            free_port(),
            command=[str(script), "serve"],
            stderr=stderr,
            PYTHONPROFILEIMPORTTIME="1",
            ANTHROPIC_API_KEY=fake_model.api_key,
            ANTHROPIC_BASE_URL=fake_model.url,
            CODY_BATCH_ALLOWED_REPOS=f"{repos_dir}/*",
        )
        try:
            up = report.stat().st_size
            # WHEN a first job runs (the forkserver warms up; the server loads what a job needs)
            run_job(served, fake_model, repos)
            warm = report.stat().st_size
            # AND a second job runs on the warm server
            run_job(served, fake_model, repos)
            done = report.stat().st_size
        finally:
            served.stop()
    text = report.read_text()
    # THEN the server imported the command line before it was up, and no process it started since did
    assert any(CLI_MODULES.match(name) for name in imported(text[:up]))
    assert [name for name in imported(text[up:]) if CLI_MODULES.match(name)] == []
    # AND the second job's run processes imported nothing at all: everything was loaded before the fork
    assert imported(text[warm:done]) == []
