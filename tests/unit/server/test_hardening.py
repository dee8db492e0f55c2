"""Worker and server processes become non-dumpable, so commands cannot read their keys."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import pytest

from tests.integration.worker.conftest import wait_for
from tests.patience import PATIENCE

PROBE = (
    "from server.runtime.hardening import make_undumpable, is_dumpable\n"
    "before = is_dumpable()\n"
    "took = make_undumpable()\n"
    "print(before, took, is_dumpable())\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_a_process_that_hardens_itself_is_no_longer_dumpable() -> None:
    # GIVEN a fresh Python process WHEN it calls make_undumpable
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    # THEN it was dumpable before and is not after
    assert out.split() == ["True", "True", "False"]


PARENT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", '''
import signal, sys, time
from server.runtime.hardening import die_with_parent
assert die_with_parent(signal.SIGTERM)
print("armed", flush=True)
time.sleep(3600)  # far past the test's patience: only the death signal can end it in time
'''], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "armed"
print(child.pid, flush=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_a_process_that_dies_with_its_parent_does_not_outlive_it() -> None:
    # GIVEN a parent whose child asked to die with it
    parent = subprocess.run(
        [sys.executable, "-c", PARENT], capture_output=True, text=True, check=True, timeout=PATIENCE
    )
    child_pid = int(parent.stdout.split()[-1])
    # WHEN the parent has exited THEN the child is gone soon after (waiting on an outcome, not timing it)
    try:
        wait_for(lambda: not _alive(child_pid))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child_pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
