"""The client commands start without loading what they do not use.

`cody-batch` runs from its console script, as a user starts it, with Python's import-time report
on: each command's report lists every module it loaded. pydantic (through typer or the settings),
httpx and the server's own stack once made up most of a command's start-up time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.import_report import imported
from tests.integration.cli.conftest import Api

SCRIPT = Path(sys.executable).with_name("cody-batch")
HEAVY = ("pydantic", "pydantic_core", "pydantic_settings", "typer", "httpx", "anyio", "websockets", "strawberry")


def run(*args: str) -> tuple[str, list[str]]:
    """Run the console script; its stdout and the top-level packages it imported."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run([str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, sorted({name.split(".")[0] for name in imported(done.stderr)})


def test_help_submit_jobs_and_show_load_no_pydantic_httpx_or_server(api: Api, make_repo: Callable[..., Path]) -> None:
    # GIVEN a live API and an allowed repository
    repo = make_repo("widgets")
    # WHEN the commands a user types most run from the console script
    _, helped = run("--help")
    created, submitted = run("submit", "add type hints", str(repo), "--json", "--url", api.url)
    job_id = json.loads(created)["id"]
    _, listed = run("jobs", "--url", api.url)
    shown, showed = run("show", job_id, "--url", api.url)
    # THEN each did its work
    assert job_id in shown
    assert api.store.get_job(job_id) is not None
    # AND none loaded pydantic, httpx, the server's stack or a WebSocket client
    for packages in (helped, submitted, listed, showed):
        assert [name for name in packages if name in HEAVY] == []
        assert "schema" not in packages and "resolvers" not in packages
