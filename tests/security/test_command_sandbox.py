"""What a command (the agent's tool or a check command) can reach: the run's priority, the workspace and
nothing private of the machine, no secret. Each case runs real commands in a fresh worker process.

The worker processes here get their own temp dir and home under the test's directory, so the test's
directory itself stays visible to commands: a control file there shows a command could read what was
not hidden, and only the hidden places are out of its sight.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.errors import RunErrorKind
from core.models import RunStatus
from core.settings import Settings
from server.runtime.dispatcher import SubprocessDispatcher
from server.runtime.run_process import RUN_NICENESS
from server.runtime.worker_config import command_sandbox
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.integration.worker.conftest import greeting_edit, submit, wait_for
from tests.unit.agent.test_command_tool import (
    KERNEL_BWRAP,
    KERNEL_PID_NAMESPACE,
    PARENT_SECRETS,
    refusing_path,
    require_isolation,
)
from worker.agent.command import CommandTool
from worker.workspace import clone

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, os, sys
from pathlib import Path
from core.errors import RunFailure
from worker.agent.command import CommandTool
from worker.run_config import CommandSandbox
from worker.validation import sandboxed_runner

workspace, command = Path(sys.argv[1]), sys.argv[2].replace("{worker_pid}", str(os.getpid()))
sandbox = CommandSandbox(hidden=tuple(Path(p) for p in json.loads(sys.argv[3])), required=sys.argv[4] == "1")
os.setpgid(0, 0)  # as a run process does (server/runtime/run_process.py)
os.nice(int(sys.argv[5]))
try:
    tool = CommandTool(workspace, 60, sandbox)
    check = sandboxed_runner(60, sandbox)(command, workspace)
    report = {"tool": tool.run(command).output, "check": check.output, "filesystem_isolated": tool.filesystem_isolated}
except RunFailure as failure:
    report = {"refused": str(failure), "kind": failure.kind}
report["nice"] = os.nice(0)
report["autogroup"] = Path("/proc/self/autogroup").read_text() if Path("/proc/self/autogroup").exists() else None
print(json.dumps(report))
"""


def run_worker(
    tmp_path: Path,
    command: str,
    *,
    hidden: tuple[Path, ...] = (),
    required: bool = False,
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run `command` as the agent's tool and as a check command, in a worker process whose home and
    temp dir are under `tmp_path`, with the secrets in its environment; what the worker saw."""
    workspace = tmp_path / "work" / "repo"
    workspace.mkdir(parents=True, exist_ok=True)
    for name in ("home", "scratch"):
        (tmp_path / name).mkdir(exist_ok=True)
    environment = {
        **(env or os.environ),
        **PARENT_SECRETS,
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "scratch"),
    }
    args = [str(workspace), command, json.dumps([str(p) for p in hidden]), "1" if required else "0", str(RUN_NICENESS)]
    out = subprocess.run(
        [sys.executable, "-c", WORKER, *args], env=environment, cwd=ROOT, capture_output=True, text=True, check=True
    )
    report: dict[str, Any] = json.loads(out.stdout)
    return report


@pytest.fixture
def bwrap_works() -> None:
    """Filesystem isolation needs bubblewrap; under ISOLATION_REQUIRED=1 its absence fails the test."""
    if not require_isolation(KERNEL_BWRAP):
        pytest.skip("bubblewrap cannot isolate commands here (`make test` requires it)")


def plant(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def reads(paths: dict[str, Path]) -> str:
    """Shell printing `name=content` for each path, or `name=DENIED` when it cannot be read."""
    return "; ".join(f'echo "{name}=$(cat {path} 2>/dev/null || echo DENIED)"' for name, path in paths.items())


def test_a_command_keeps_the_runs_priority_and_autogroup(tmp_path: Path) -> None:
    # GIVEN a run process at its nice value, in a process group of its own (not a session)
    # WHEN its command reads its own scheduling state from /proc
    report = run_worker(tmp_path, "cat /proc/self/stat; cat /proc/self/autogroup 2>/dev/null || true")
    # THEN the command has the run's nice value and shares its autogroup (a new session would start a new one)
    for output in (report["tool"], report["check"]):
        stat, _, autogroup = output.partition("\n")
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        assert int(fields[16]) == report["nice"] > 0  # field 19 of proc_pid_stat(5): nice
        assert (autogroup or None) == (report["autogroup"] or None)  # a kernel may show none, or an empty file


def test_a_command_sees_only_the_workspace_of_the_private_places(tmp_path: Path, bwrap_works: None) -> None:
    # GIVEN secrets planted in the worker's home, in the data dir, and in another run's workspace,
    # and a control file in a place nobody hid
    data_dir = tmp_path / "data"
    private = {
        "netrc": plant(tmp_path / "home" / ".netrc", "machine github.com password ghp_home"),
        "store": plant(data_dir / "cody-batch.sqlite3", "every job's threads"),
        "other": plant(tmp_path / "scratch" / "cody-batch-other" / "repo" / "secret.txt", "another run"),
        "tmp": plant(Path("/var/tmp") / f"cody-batch-test-{os.getpid()}", "shared scratch"),
    }
    control = plant(tmp_path / "control.txt", "visible")
    try:
        # WHEN a command tries to uncover them (unmounting what hides them, in a user namespace of its own),
        # then reads each of them
        places = sorted({str(path.parent) for path in private.values()})
        uncover = "; ".join(f"umount -l {place}; unshare -Urm umount -l {place}" for place in places)
        command = f"{{ {uncover}; }} 2>/dev/null; {reads({**private, 'control': control})}"
        report = run_worker(tmp_path, command, hidden=(data_dir,))
    finally:
        private["tmp"].unlink()
    # THEN the agent's command and the check command read the control file and none of the private ones
    assert report["filesystem_isolated"] is True
    for output in (report["tool"], report["check"]):
        assert "control=visible" in output
        for name in private:
            assert f"{name}=DENIED" in output


def test_a_command_writes_only_in_its_workspace(tmp_path: Path, bwrap_works: None) -> None:
    # GIVEN a workspace with a file, and places outside it the worker's user may write
    workspace = tmp_path / "work" / "repo"
    plant(workspace / "app.py", "print('hi')\n")
    outside = {"beside": tmp_path / "planted.txt", "home": tmp_path / "home" / ".bashrc"}
    # WHEN a command writes into the workspace and into each of them
    writes = "; ".join(f"echo hostile > {path}" for path in outside.values())
    report = run_worker(tmp_path, f"cat app.py; echo changed >> app.py; {writes}; true")
    # THEN it read and changed the workspace (both the agent's command and the check), and nothing outside exists
    assert report["tool"].startswith("print('hi')\n")
    assert (workspace / "app.py").read_text() == "print('hi')\nchanged\nchanged\n"
    assert not [name for name, path in outside.items() if path.exists()]


def test_a_command_holds_no_secret_and_cannot_read_the_workers_environment(tmp_path: Path) -> None:
    # GIVEN a worker with the API key, GitHub token and API token in its environment
    # WHEN its command prints its environment, then reads the worker's from /proc by the worker's pid,
    # its parent's, and every one it can see
    report = run_worker(tmp_path, "env; echo END; cat /proc/{worker_pid}/environ /proc/$PPID/environ /proc/*/environ")
    # THEN no secret's name or value is in its environment, nor, where the kernel gives commands a PID
    # namespace, anywhere it looked
    for output in (report["tool"], report["check"]):
        environment, _, procs = output.partition("END\n")
        assert "HOME=" in environment
        for name, value in PARENT_SECRETS.items():
            assert name not in environment and value not in environment
            if require_isolation(KERNEL_PID_NAMESPACE):
                assert value not in procs


def test_commands_are_refused_where_isolation_is_required_and_missing(tmp_path: Path) -> None:
    # GIVEN a server that requires isolated commands, on a machine where bubblewrap is refused
    env = refusing_path(tmp_path, "bwrap")
    # WHEN a command is asked for
    report = run_worker(tmp_path, "touch ran.txt", required=True, env=env)
    # THEN it is refused with a configuration error naming the setting and the reason, and nothing ran
    assert report["kind"] == RunErrorKind.CONFIGURATION
    assert "CODY_BATCH_REQUIRE_COMMAND_ISOLATION" in report["refused"]
    assert "Operation not permitted" in report["refused"]
    assert not (tmp_path / "work" / "repo" / "ran.txt").exists()


def test_the_data_dir_and_the_workspace_dir_are_hidden_from_a_runs_commands(tmp_path: Path) -> None:
    # GIVEN a server's settings with a data dir and a workspace dir, commands required to be isolated
    settings = Settings(data_dir=tmp_path / "data", workspace_dir=tmp_path / "clones", require_command_isolation=True)
    # WHEN a run's command rules are made from them
    sandbox = command_sandbox(settings)
    # THEN both directories are hidden, and isolation is required
    assert sandbox.hidden == ((tmp_path / "data").resolve(), (tmp_path / "clones").resolve())
    assert sandbox.required is True


def test_a_run_whose_commands_cannot_be_isolated_fails_as_a_configuration_error(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a server requiring isolated commands, whose runs find a refusing bubblewrap first on their PATH
    monkeypatch.setenv("PATH", refusing_path(tmp_path, "bwrap")["PATH"])
    settings = model_settings.model_copy(update={"allow_commands": True, "require_command_isolation": True})
    dispatcher = SubprocessDispatcher(settings, grace_seconds=60)
    fake_model.script(greeting_edit())
    try:
        # WHEN a job with a check command runs
        job = submit(settings, store, [make_repo("a")], dispatcher, check_command=f"touch {tmp_path / 'ran.txt'}")
        wait_for(lambda: store.get_runs([job.id])[job.id][0].status.finished)
    finally:
        dispatcher.close()
    # THEN its run failed as a configuration error that says why, and the check command never ran
    [run] = store.get_runs([job.id])[job.id]
    assert run.status is RunStatus.FAILED and run.error is not None
    assert run.error.kind == RunErrorKind.CONFIGURATION
    assert "CODY_BATCH_REQUIRE_COMMAND_ISOLATION" in run.error.message
    assert not (tmp_path / "ran.txt").exists()  # unisolated, it could have written there


def test_a_commands_git_reads_the_borrowed_objects_of_its_clone_and_no_others(
    make_repo: Callable[..., Path], tmp_path: Path, bwrap_works: None
) -> None:
    # GIVEN a workspace cloned from a local repository (which lends it its objects), and another
    # local repository holding a secret
    workspace = clone(str(make_repo("lender")), tmp_path / "scratch" / "repo")
    private = make_repo("private", {"secret.txt": "private code\n"})
    secret = subprocess.run(
        ["git", "-C", str(private), "rev-parse", "HEAD:secret.txt"], capture_output=True, text=True, check=True
    ).stdout.strip()
    tool = CommandTool(workspace.path, 30)
    # WHEN a command uses git, and then points the clone's alternates at the other repository's objects
    log = tool.run("git log --format=%s -1 && git status --short").output
    tool.run(f"echo {private / '.git' / 'objects'} >> $(sed 's/^gitdir: //' .git)/objects/info/alternates")
    stolen = tool.run(f"git cat-file -p {secret}")
    # THEN its git saw the clone's history, and the next command cannot read the other repository's objects
    assert log == "initial commit\n"
    assert stolen.exit_code != 0 and "private code" not in stolen.output
