"""`cody-batch smoke` against `cody-batch serve --demo` running as a real process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.cli.main import app
from server.demo.samples import SAMPLE_NAME
from tests.integration.cli.live_server import free_port
from tests.patience import PATIENCE
from tests.security.serve_process import ServeProcess, start_serve


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    home = tmp_path_factory.mktemp("smoke")
    server = start_serve(home, home / "data", free_port(), "--demo")
    try:
        yield server
    finally:
        server.kill()


def smoke(*args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr (its lines joined: the console folds long messages)."""
    # Each check's time limit is a guard here, not the 30 s a deploy pipeline wants (a later --timeout wins).
    result = CliRunner().invoke(app, ["smoke", "--timeout", str(PATIENCE), *args])
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def ws(served: ServeProcess) -> str:
    return f"ws://127.0.0.1:{served.port}/graphql"


def test_a_fresh_server_answers_a_query_and_a_subscription_then_runs_a_job(served: ServeProcess) -> None:
    # GIVEN a server with no job yet
    # WHEN the smoke check runs without a job
    code, out, err = smoke("--url", served.url, "--ws", ws(served))
    # THEN the query and the subscription round trip pass (the server says NOT_FOUND for the probe)
    assert code == 0, out + err
    assert "ok  query:" in out and "backend local" in out and "demo" in out
    assert "ok  subscription:" in out and "NOT_FOUND" in out
    assert out.rstrip().endswith("smoke check passed")

    # WHEN it also runs a job: on the server's own sample repository
    code, out, err = smoke("--url", served.url, "--ws", ws(served), "--job")
    # THEN the job is followed to SUCCEEDED over the subscription
    assert code == 0, out + err
    sample = str((served.data_dir / "samples" / SAMPLE_NAME).resolve())
    (job_line,) = [line for line in out.splitlines() if line.startswith("ok  job:")]
    assert sample in job_line and "SUCCEEDED" in job_line
    job_id = job_line.split()[3]

    # WHEN it runs again, now that a job exists
    code, out, err = smoke("--url", served.url)
    # THEN the subscription gets a `next` with that job (the WebSocket URL defaults to --url's)
    assert code == 0, out + err
    assert f"next (job {job_id} SUCCEEDED)" in out
    assert f"ws://127.0.0.1:{served.port}/graphql" in out


def test_a_wrong_websocket_url_fails_at_the_subscription_with_a_clear_message(served: ServeProcess) -> None:
    code, out, err = smoke("--url", served.url, "--ws", f"ws://127.0.0.1:{served.port}/not-graphql")
    assert code == 1
    assert "ok  query:" in out
    assert "smoke check passed" not in out
    assert "smoke check failed at subscription" in err
    assert "not-graphql" in err


def test_a_repository_the_server_refuses_fails_the_job_step(served: ServeProcess, tmp_path: Path) -> None:
    code, _, err = smoke("--url", served.url, "--job", "--repository", str(tmp_path))
    assert code == 1
    assert "smoke check failed at job: the server refused it" in err
    assert "not allowed" in err


def test_nothing_listening_fails_at_the_query() -> None:
    code, out, err = smoke("--url", f"http://127.0.0.1:{free_port()}/graphql", "--timeout", "5")
    assert code == 1
    assert out == ""
    assert "smoke check failed at query: cannot reach" in err
