"""A run process's group, signalled through its leader's pidfd: the members it left are killed after the leader
is gone, and a new process that took the leader's number (and made it its own group) gets nothing."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from server.runtime.process_group import RunProcessGroup
from tests.integration.worker.conftest import wait_for
from tests.patience import PATIENCE
from tests.security.processes import alive

ROOT = Path(__file__).resolve().parents[3]
# A group leader, as a run process is, that starts a command in its group, says its pid, and exits when told.
LEAVES_A_MEMBER = """
import os, subprocess, sys
os.setpgid(0, 0)
member = subprocess.Popen(["sleep", "300"])
print(member.pid, flush=True)
sys.stdin.readline()
"""
NAMESPACE = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount-proc"]


# Linux 6.9 and later signal a pidfd's group; before, the group is signalled by number, guarded (both paths run
# on any kernel: the second is the one an older kernel takes).
KERNELS = pytest.mark.parametrize("group_flag", [True, False], ids=["pidfd-group", "by-number"])


@KERNELS
def test_the_members_a_reaped_leader_left_in_its_group_are_killed(group_flag: bool) -> None:
    # GIVEN a run process's group, and a command it started still running after the leader was reaped
    leader = subprocess.Popen([sys.executable, "-c", LEAVES_A_MEMBER], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert leader.stdin is not None and leader.stdout is not None
    member = int(leader.stdout.readline())
    group = RunProcessGroup(leader.pid, group_flag)
    leader.stdin.close()
    assert leader.wait(timeout=PATIENCE) == 0
    assert alive(member)
    # WHEN the group is sent SIGKILL, as the dispatcher does once the grace period after a cancel is over
    group.signal(signal.SIGKILL)
    # THEN the member is gone; and a group with no member left takes a signal quietly
    wait_for(lambda: not alive(member))
    group.signal(signal.SIGKILL)
    group.release()


@KERNELS
def test_a_signal_for_a_reaped_leaders_group_never_reaches_a_new_group_of_the_same_number(group_flag: bool) -> None:
    # GIVEN a PID namespace of the test's own, where the next pid can be chosen
    if shutil.which("unshare") is None or subprocess.run([*NAMESPACE, "true"], check=False).returncode != 0:
        pytest.skip("no unprivileged PID namespace here (util-linux unshare, user namespaces)")
    # WHEN a group's leader is reaped, a new process takes its number as its own group's, and the old group is
    # sent SIGKILL (tests/integration/worker/pid_reuse.py)
    done = subprocess.run(
        [
            *NAMESPACE,
            sys.executable,
            "-m",
            "tests.integration.worker.pid_reuse",
            *([] if group_flag else ["--by-number"]),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=True,
    )
    outcome = json.loads(done.stdout)
    # THEN the number was indeed taken (a signal by number would have reached it), and the newcomer got
    # nothing: it ended on its own, exit 0, not killed
    assert outcome == {"id_taken": True, "newcomer_exit": 0}
