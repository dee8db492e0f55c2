"""The agent's command tool (`bash_20250124`): one fresh, time-limited, scrubbed subprocess per call."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from worker.agent.isolation import (
    command_prefix,
    filesystem_isolation_available,
    network_isolation_available,
)
from worker.agent.redaction import is_secret_name
from worker.agent.sandbox import ToolError
from worker.run_config import CommandSandbox

MAX_OUTPUT_CHARS = 30_000
# Only these variables reach commands; everything else (API keys, tokens, cloud credentials,
# our own settings) stays in the worker.
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")


def scrubbed_environment(home: Path) -> dict[str, str]:
    """The minimal environment a command sees: the allowlist, a private HOME, no secrets."""
    env = {name: os.environ[name] for name in ENV_ALLOWLIST if name in os.environ and not is_secret_name(name)}
    env.setdefault("PATH", os.defpath)
    env.update(HOME=str(home), TMPDIR=str(home), TERM="dumb", GIT_TERMINAL_PROMPT="0", PAGER="cat")
    return env


# Commands under way in this process, whichever thread started them (the check command runs
# beside the agent's first model call), so that a run unwinding can end them all at once.
_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()


def kill_running_commands() -> None:
    """Kill every command this process has under way (and what each started)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        kill_group(process)


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL a command's process group: the command and every child that stayed in it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def cap_output(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """`text` cut to `limit` characters, keeping its head and tail."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n\n[... {len(text) - 2 * half} characters omitted ...]\n\n{text[-half:]}"


# The exit code of a command killed at its time limit, as timeout(1) reports it.
TIMED_OUT = 124


@dataclass(frozen=True)
class CommandResult:
    """What one command did: its exit code, its (capped) output, and whether it was killed at the time limit."""

    exit_code: int
    output: str
    timed_out: bool = False


class CommandTool:
    """Runs `bash -c` in the workspace; nothing it starts outlives the call.

    The command's process group is killed when the call ends, whatever the outcome: done, timed
    out, or the worker unwinding (a cancelled run). Where PID namespaces are allowed, that
    takes even processes that left the group or the session; a worker killed outright takes the
    command with it through the parent-death signal.
    """

    name = "bash"
    definition: dict[str, Any] = {"type": "bash_20250124", "name": name}

    def __init__(self, cwd: Path, timeout: float, sandbox: CommandSandbox | None = None) -> None:
        self.cwd = cwd
        self.timeout = timeout
        self.sandbox = sandbox or CommandSandbox()
        self.network_isolated = network_isolation_available()
        self.filesystem_isolated = filesystem_isolation_available()

    def __call__(self, tool_input: dict[str, Any], timeout: float | None = None) -> str:
        """Run `command` and say what happened in words for Claude; `restart` is a no-op since every
        call is a fresh shell."""
        if tool_input.get("restart"):
            return "The shell has been restarted (every command runs in a fresh shell anyway)."
        command = tool_input.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ToolError("`command` is required.")
        result = self.run(command, timeout)
        if result.timed_out:
            raise ToolError(result.output)
        if result.exit_code != 0:
            return f"{result.output}\n[exit code {result.exit_code}]"
        return result.output or "(no output)"

    def run(self, command: str, timeout: float | None = None) -> CommandResult:
        """Run `command` in a fresh shell, within the tool's time limit (or `timeout` when shorter)."""
        limit = min(self.timeout, timeout) if timeout is not None else self.timeout
        with tempfile.TemporaryDirectory(prefix="cody-batch-home-") as home:
            return self._run(command, limit, Path(home))

    def _run(self, command: str, limit: float, home: Path) -> CommandResult:
        process = subprocess.Popen(
            [*command_prefix(self.cwd, home, self.sandbox), "bash", "-c", command],
            cwd=self.cwd,
            env=scrubbed_environment(home),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # A process group, not a session: a new session is a new scheduling autogroup, which
            # would escape the run's nice value and weigh against the server at full weight.
            process_group=0,
        )
        with _RUNNING_LOCK:
            _RUNNING.add(process)
        try:
            output, _ = process.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            kill_group(process)
            try:
                output, _ = process.communicate(timeout=5)
            except subprocess.TimeoutExpired:  # a child left the group and holds the pipe open
                output = b""
            text = cap_output(output.decode("utf-8", errors="replace"))
            killed = f"The command timed out after {limit:g} seconds and was killed.\n{text}"
            return CommandResult(TIMED_OUT, killed, timed_out=True)
        finally:
            # Background jobs the command left in its group end with it, and so does the
            # command itself when the worker unwinds mid-call (SIGTERM of a cancelled run).
            kill_group(process)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
            with _RUNNING_LOCK:
                _RUNNING.discard(process)
        return CommandResult(process.returncode, cap_output(output.decode("utf-8", errors="replace")))
