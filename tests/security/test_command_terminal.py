"""A run's commands cannot reach the terminal the server or worker was started from.

Commands run in a process group, not a session of their own (so they keep the run's autogroup);
without more, they shared the run's controlling terminal, and through it a command could push
input into the user's shell (TIOCSTI) from inside any sandbox. The worker here is started by a
shell on a real pseudo-terminal, as `cody-batch serve` or `worker run` typed at a prompt would be.
"""

from __future__ import annotations

import os
import pty
import select
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from core.settings import Settings
from store.sqlite import SqliteStore
from tests.fakes.anthropic_server import FakeAnthropic
from tests.integration.worker.conftest import greeting_edit, submit

CLI = str(Path(sys.executable).parent / "cody-batch")
TIOCSTI = 0x5412  # Linux: push one byte into a terminal's input queue, as if typed
# Opens the controlling terminal and types a command line into it, as a hostile check command could.
INJECT = (
    'perl -e \'if (open(my $t, "+<", "/dev/tty")) {'
    f' ioctl($t, {TIOCSTI}, $_) for split //, "echo PWNED\\n"; print "reached the terminal\\n" }}'
    ' else { print "no terminal: $!\\n" }\''
)


def in_terminal(script: str, env: dict[str, str]) -> str:
    """Run `script` in bash as a login shell would, on a new pseudo-terminal it controls; all it printed."""
    master, slave = pty.openpty()
    # setsid --ctty: bash leads a new session whose controlling terminal is the pseudo-terminal.
    process = subprocess.Popen(
        ["setsid", "--ctty", "bash", "-c", script], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every process holding the terminal has gone
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
        process.wait(timeout=60)
    return output.decode(errors="replace")


def test_a_check_command_cannot_type_into_the_terminal_the_worker_was_started_from(
    model_settings: Settings,
    store: SqliteStore,
    fake_model: FakeAnthropic,
    make_repo: Callable[..., Path],
) -> None:
    # GIVEN a job whose check command types a command line into its controlling terminal
    fake_model.script(greeting_edit())
    settings = model_settings.model_copy(update={"allow_commands": True})
    job = submit(settings, store, [make_repo("a")], check_command=INJECT)
    env = {
        **os.environ,
        "CODY_BATCH_DATA_DIR": str(settings.data_dir),
        "CODY_BATCH_ALLOW_COMMANDS": "true",
        "ANTHROPIC_API_KEY": fake_model.api_key,
        "ANTHROPIC_BASE_URL": fake_model.url,
    }
    # WHEN a shell on a terminal runs the run's worker, then reads the next line typed there
    worker = shlex.join([CLI, "worker", "run", job.id, "--repo", "0"])
    shown = in_terminal(f'{worker} >/dev/null 2>&1; read -r -t 2 line; echo "typed:[$line]"', env)
    # THEN the check command ran (before and after the change) without a terminal, and nothing was typed
    [run] = store.get_runs([job.id])[job.id]
    assert run.validation is not None
    outputs = [check.output for check in run.validation.checks if not check.name.startswith("syntax ")]
    assert outputs and all(output.startswith("no terminal") for output in outputs), outputs
    assert "typed:[]" in shown, shown
