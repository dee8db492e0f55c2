"""Run inside a new PID namespace (`unshare --user --pid --fork --mount-proc`): a run process's group
signalled once its leader is reaped and its number taken by a new group leader. Prints what happened as JSON.

Only in a namespace of its own can a test choose the next pid (`ns_last_pid`) without touching anyone else's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from server.runtime.process_group import RunProcessGroup

# A process that makes itself a process group, as a run process does, then waits for a line and exits 0.
GROUP_LEADER = "import os, sys; os.setpgid(0, 0); sys.stdin.readline()"


def _leader() -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", GROUP_LEADER], stdin=subprocess.PIPE, text=True)
    while os.getpgid(process.pid) != process.pid:  # its first act; nothing else can be waited on
        time.sleep(0.01)
    return process


def main(group_flag: bool) -> None:
    """Reap a group leader, start a new one under its number, signal the old group: did it reach the new one?"""
    first = _leader()
    group = RunProcessGroup(first.pid, group_flag)
    assert first.stdin is not None
    first.stdin.close()
    first.wait()
    Path("/proc/sys/kernel/ns_last_pid").write_text(str(first.pid - 1))
    newcomer = _leader()
    id_taken = newcomer.pid == first.pid and os.getpgid(newcomer.pid) == first.pid
    group.signal(signal.SIGKILL)
    group.release()
    assert newcomer.stdin is not None
    newcomer.stdin.close()
    print(json.dumps({"id_taken": id_taken, "newcomer_exit": newcomer.wait()}))


if __name__ == "__main__":
    main(group_flag=sys.argv[1:] != ["--by-number"])
