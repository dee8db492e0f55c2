"""No process a run starts outlives it: not a command's background or escaped children, not on a
timeout, a cancel, a run killed outright, or the server stopped or killed.

Every command here names its processes with a fresh token (`exec -a TOKEN sleep ...`), so the
test finds them in /proc wherever they were reparented, inside a PID namespace or not.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from core.models import RunStatus
from core.services.jobs import cancel_job
from core.settings import Settings
from server.runtime.dispatcher import SubprocessDispatcher
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic, tool_turn, view
from tests.integration.cli.live_server import free_port
from tests.integration.worker.conftest import submit, wait_for
from tests.patience import PATIENCE
from tests.security.processes import alive, descendants, kill_all
from tests.security.serve_process import ServeProcess, start_serve
from worker.agent.command import CommandTool
from worker.agent.isolation import process_isolation_available
from worker.agent.sandbox import ToolError

PID_NAMESPACE = pytest.mark.skipif(
    not process_isolation_available(), reason="only a PID namespace can reach processes that leave the session"
)


def token_pids(token: str) -> set[int]:
    """Live processes named `token` (or `token-...`): the name `exec -a` gave them, not any argument."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.split(b"\0")[0].startswith(token.encode()) and alive(int(entry.name)):
            found.add(int(entry.name))
    return found


@pytest.fixture
def token() -> Iterator[str]:
    """A fresh name for the processes of one test; any left over are killed afterwards."""
    name = f"cody-lifetime-{uuid.uuid4().hex}"
    yield name
    kill_all(token_pids(name))


def sleeper(token: str, seconds: int = 300) -> str:
    """Shell starting a process named `token` that would live `seconds`."""
    return f"exec -a {token} sleep {seconds}"


def until_running(token: str) -> str:
    """Shell that waits until a process named `token` runs (the bracket keeps grep from finding itself)."""
    pattern = f"^{token[:-1]}[{token[-1]}]"
    return f"until grep -qsa '{pattern}' /proc/[0-9]*/cmdline; do sleep 0.05; done"


LEFT_BEHIND = {
    "background job": "({sleep}) > /dev/null 2>&1 &",
    "double fork": "( ({sleep}) > /dev/null 2>&1 & ) ; true",
    "nohup and disown": "nohup bash -c '{sleep}' > /dev/null 2>&1 & disown",
    "new session": pytest.param("setsid -f bash -c '{sleep}' > /dev/null 2>&1", marks=PID_NAMESPACE),
    "daemon-like": pytest.param("setsid -f bash -c '( {sleep} ) &' > /dev/null 2>&1", marks=PID_NAMESPACE),
}


@pytest.mark.parametrize("shape", list(LEFT_BEHIND.values()), ids=list(LEFT_BEHIND))
def test_nothing_a_command_leaves_behind_outlives_it(shape: str, token: str, tmp_path: Path) -> None:
    # GIVEN a command that starts a long-lived process and returns at once
    command = shape.format(sleep=sleeper(token)) + f"; {until_running(token)}; echo started"
    # WHEN it runs to its end
    output = CommandTool(tmp_path, timeout=60)({"command": command})
    # THEN what it started is gone too
    assert "started" in output
    wait_for(lambda: not token_pids(token), timeout=PATIENCE)


@PID_NAMESPACE
def test_a_timed_out_command_takes_children_that_left_its_session(token: str, tmp_path: Path) -> None:
    # GIVEN a command that starts a process in a session of its own, notes once it runs, then hangs
    started = tmp_path / "escaped-runs"
    escape = f"setsid -f bash -c '{sleeper(token)}' > /dev/null 2>&1"
    command = f"{escape}; {until_running(token)}; touch {started}; sleep 300"
    # WHEN it times out
    with pytest.raises(ToolError, match="timed out"):
        CommandTool(tmp_path, timeout=5)({"command": command})
    # THEN the escaped process had started before the timeout (else there was nothing to take), and is gone
    assert started.exists()
    wait_for(lambda: not token_pids(token), timeout=PATIENCE)


WORKER = """
import signal, sys
from pathlib import Path
from worker.agent.command import CommandTool
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # as a run process unwinds
CommandTool(Path(sys.argv[1]), 300)({"command": sys.argv[2]})
"""


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_command_dies_with_the_worker_that_started_it(signum: signal.Signals, token: str, tmp_path: Path) -> None:
    # GIVEN a worker process running a command, which itself started a process in a new session
    escaped = ""
    if process_isolation_available():
        escaped = f"setsid -f bash -c '{sleeper(token + '-escaped')}' > /dev/null 2>&1; "
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(tmp_path), escaped + sleeper(token)], cwd=Path(__file__).parents[2]
    )
    try:
        wait_for(lambda: len(token_pids(token)) == (2 if escaped else 1), timeout=PATIENCE)
        # WHEN the worker is killed, outright or asked to stop
        worker.send_signal(signum)
        worker.wait(timeout=PATIENCE)
        # THEN the command and everything it started are gone
        wait_for(lambda: not token_pids(token), timeout=PATIENCE)
    finally:
        worker.kill()
        worker.wait()


@pytest.fixture
def command_settings(model_settings: Settings) -> Settings:
    return model_settings.model_copy(update={"allow_commands": True})


@pytest.fixture
def dispatcher(command_settings: Settings) -> Iterator[SubprocessDispatcher]:
    made = SubprocessDispatcher(command_settings, grace_seconds=PATIENCE + 30)  # SIGKILL only after the waits below
    yield made
    made.close()


def looking_model(fake_model: FakeAnthropic) -> None:
    """Claude looks at a file first: its tool waits for the check command on the unchanged code."""
    fake_model.script([tool_turn(view("app.py"))] * 50)


def test_cancel_ends_the_check_command_and_its_children(
    command_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    dispatcher: SubprocessDispatcher,
    token: str,
) -> None:
    # GIVEN a run whose check command (with a background child) runs for two minutes
    looking_model(fake_model)
    check = f"({sleeper(token + '-child')}) > /dev/null 2>&1 & {sleeper(token, 120)}"
    job = submit(command_settings, store, [make_repo("a")], dispatcher, check_command=check)
    wait_for(lambda: len(token_pids(token)) == 2, timeout=PATIENCE)
    # WHEN the job is cancelled (the dispatcher's grace before SIGKILL is longer than this test waits)
    cancel_job(store, dispatcher, job.id)
    # THEN the check command and its child are gone, and the run is cancelled
    wait_for(lambda: not token_pids(token), timeout=PATIENCE)
    wait_for(lambda: dispatcher.running == 0, timeout=PATIENCE)
    assert store.get_runs([job.id])[job.id][0].status is RunStatus.CANCELLED


@pytest.fixture
def serve_with_commands(
    tmp_path: Path, repos_dir: Path, fake_model: FakeAnthropic
) -> Iterator[Callable[[], ServeProcess]]:
    """`serve` with commands allowed, its workers talking to the fake model; all killed afterwards."""
    started: list[ServeProcess] = []

    def start() -> ServeProcess:
        started.append(
            start_serve(
                tmp_path,
                tmp_path / "data",
                free_port(),
                ANTHROPIC_API_KEY=fake_model.api_key,
                ANTHROPIC_BASE_URL=fake_model.url,
                CODY_BATCH_ALLOWED_REPOS=f"{repos_dir}/*",
                CODY_BATCH_ALLOW_COMMANDS="true",
            )
        )
        return started[-1]

    yield start
    for served in started:
        workers = descendants(served.proc.pid)
        served.kill()
        kill_all(workers)


CREATE = """mutation($input: CreateJobInput!) {
  createJob(input: $input) { ... on Job { id } ... on InputError { message } } }"""


@pytest.mark.parametrize("how", ["stop", "kill -9"])
def test_the_server_going_away_ends_the_commands_of_its_runs(
    how: str,
    serve_with_commands: Callable[[], ServeProcess],
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    token: str,
) -> None:
    # GIVEN a server whose run has a check command (and its child) under way
    looking_model(fake_model)
    served = serve_with_commands()
    check = f"({sleeper(token + '-child')}) > /dev/null 2>&1 & {sleeper(token, 120)}"
    variables = {"input": {"prompt": "Say hello.", "repositories": [str(make_repo("a"))], "checkCommand": check}}
    created = httpx.post(served.url, json={"query": CREATE, "variables": variables}).json()["data"]["createJob"]
    assert "id" in created, created
    wait_for(lambda: len(token_pids(token)) == 2, timeout=PATIENCE)
    # WHEN the server stops, or is killed outright
    if how == "stop":
        served.stop()
    else:
        served.kill()
    # THEN no process of the run's commands is left
    wait_for(lambda: not token_pids(token), timeout=PATIENCE)
