"""Process trees and TCP connections as /proc shows them: who descends from whom, who is still alive,
who is connected to a local port."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import signal
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state first); None once the pid is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[-1].split()


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has finished: only its exit status is left)."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def stopped(pid: int) -> bool:
    """Whether `pid` is stopped (SIGSTOP)."""
    fields = _stat(pid)
    return fields is not None and fields[0] == "T"


def signal_helper_threads(pid: int, signum: int) -> set[int]:
    """Send `signum` to every thread of `pid` but its main one, each alone (tgkill: no other thread may take
    it, as the kernel may hand a signal for the process to any thread); the thread ids signalled. A thread
    that ended meanwhile (a short-lived one) is left out: it can take no signal."""
    libc = ctypes.CDLL(None, use_errno=True)
    signalled = set()
    for tid in {int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()} - {pid}:
        if libc.tgkill(pid, tid, signum) == 0:
            signalled.add(tid)
        elif ctypes.get_errno() != errno.ESRCH:
            raise OSError(ctypes.get_errno(), f"tgkill({pid}, {tid}, {signum}) failed")
    return signalled


def parent(pid: int) -> int:
    """The parent pid of a running `pid`."""
    fields = _stat(pid)
    assert fields is not None, f"process {pid} is gone"
    return int(fields[1])


def descendants(root: int) -> set[int]:
    """Every live process below `root`, however deep."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found and alive(child):
                found.add(child)
                todo.append(child)
    return found


def kill_all(pids: set[int]) -> None:
    """SIGKILL what is left of `pids`, so a failing test leaves no orphan behind."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# TCP states in /proc/net/tcp (include/net/tcp_states.h): a connection whose socket is still open.
_OPEN_STATES = {"01", "02", "03", "04", "05", "08", "09", "0B"}  # all but TIME_WAIT, CLOSE and LISTEN


def _tcp_sockets(port: int, end: int) -> set[int]:
    """Inodes of open IPv4 TCP connections whose local (`end` 1) or remote (`end` 2) port is `port`."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[end].rsplit(":", 1)[1], 16) == port and fields[3] in _OPEN_STATES:
            found.add(int(fields[9]))
    return found


def open_connections(port: int) -> int:
    """How many connections accepted on local `port` are still open on the listening side (a server
    closes one once it has read everything the client sent, up to its end)."""
    return len(_tcp_sockets(port, 1) - {0})


def hung_up(port: int) -> bool:
    """Whether a client has closed a connection accepted on local `port` that the server still holds open
    (CLOSE_WAIT): it gave up waiting for the answer."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "08":
            return True
    return False


def connected_to(port: int) -> set[int]:
    """Live processes holding an open TCP connection to local `port`."""
    sockets = {f"socket:[{inode}]" for inode in _tcp_sockets(port, 2) - {0}}
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if any(os.readlink(fd) in sockets for fd in (entry / "fd").iterdir()) and alive(int(entry.name)):
                    found.add(int(entry.name))
    return found
