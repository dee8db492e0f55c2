"""RunProcessGroup: a run process's group, signalled through a pidfd of its leader, never a process reusing its id.

A run process makes itself a process group (server/runtime/run_process.py); cancel and shutdown
signal the whole group, so commands it started stop too, and SIGKILL it again after a grace period,
even once the leader is gone, for those that linger. Signalling by number (`killpg(pid)`) is unsafe
then: once the leader is reaped and its group empty, the number can belong to a new, unrelated
process, even the leader of a new group of that number. A pidfd names the leader's `struct pid`,
not its number, and Linux (6.9 and later) signals the group of that very `struct pid`: members of
the group still alive get the signal; a new process of the same number does not.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import threading
from collections.abc import Callable

PIDFD_SIGNAL_PROCESS_GROUP = 1 << 2
"""From <linux/pidfd.h> (Linux 6.9): `pidfd_send_signal` signals the process group of the pidfd's process."""


class RunProcessGroup:
    """The group of one run process, through a pidfd opened while the process was known to be alive."""

    def __init__(self, pid: int, group_flag: bool = True) -> None:
        # ProcessLookupError when no process has this id: the caller knows the process is alive.
        self._fd: int | None = _pidfd(pid)
        self._pid = pid
        self._group_flag = group_flag  # False: the kernel has no PIDFD_SIGNAL_PROCESS_GROUP (before 6.9)
        self._lock = threading.Lock()  # the scheduler thread and the kill timer share the descriptor
        self._kill_pending = False
        self._released = False

    def signal(self, signum: int) -> None:
        """Send `signum` to the group's members; to the leader alone while it has no group of its own yet."""
        with self._lock:
            if self._released:
                return
            if self._fd is None:
                _signal_by_number_only(self._pid, signum)
            else:
                self._signal(self._fd, signum)

    def terminate(self, grace_seconds: float) -> None:
        """SIGTERM the group now and SIGKILL it after `grace_seconds`, then let the descriptor go."""
        with self._lock:
            self._kill_pending = True
        self.signal(signal.SIGTERM)
        timer = threading.Timer(grace_seconds, self._kill_and_close)
        timer.daemon = True
        timer.start()

    def release(self) -> None:
        """The leader was reaped: let the descriptor go, unless a SIGKILL of the group is still to come."""
        with self._lock:
            if not self._kill_pending:
                self._close()

    def _kill_and_close(self) -> None:
        self.signal(signal.SIGKILL)
        with self._lock:
            self._close()

    def _close(self) -> None:
        self._released = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _signal(self, fd: int, signum: int) -> None:
        if not self._group_flag:
            self._signal_by_number(fd, signum)
            return
        try:
            signal.pidfd_send_signal(fd, signum, None, PIDFD_SIGNAL_PROCESS_GROUP)
        except ProcessLookupError:
            # No member left, or the leader has not made its group yet (its first act): the leader itself,
            # if it is still there; its pidfd cannot reach another process.
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(fd, signum)
        except OSError as err:
            if err.errno != errno.EINVAL:
                raise
            self._group_flag = False
            self._signal_by_number(fd, signum)

    def _signal_by_number(self, fd: int, signum: int) -> None:
        """Before Linux 6.9 (no group flag): the group by its number, while the number is still the group's.

        It is while the leader is not yet reaped. Once it is, Linux keeps the number from reuse while any
        member of the group lives; when none does it may go to a new process, and a new group of that number
        needs a leader of that number. So a number no process holds as its own (no `/proc/N`) names the old
        group or nothing, and a number some process holds means the members are gone.
        """
        try:
            signal.pidfd_send_signal(fd, 0)  # raises once the leader has been reaped
        except ProcessLookupError:
            if os.path.exists(f"/proc/{self._pid}"):
                return  # the number is a new process's: the group it named has no member left
        # No group of that number (the leader has not made its own yet): the leader itself, through its pidfd.
        _signal_group_else_leader(self._pid, signum, lambda: signal.pidfd_send_signal(fd, signum))


def _pidfd(pid: int) -> int | None:
    """A pidfd of `pid`; None where the system has none (not Linux, or Linux before 5.3)."""
    try:
        return os.pidfd_open(pid)
    except AttributeError:
        return None
    except OSError as err:
        if err.errno != errno.ENOSYS:
            raise
        return None


def _signal_by_number_only(pid: int, signum: int) -> None:
    """Without pidfds: the group by number, else the process by number, as cancel always did there (a process
    that took the number after the leader was reaped is not told apart)."""
    _signal_group_else_leader(pid, signum, lambda: os.kill(pid, signum))


def _signal_group_else_leader(pid: int, signum: int, signal_leader: Callable[[], None]) -> None:
    """`killpg(pid)`; when no group has that number (the leader has not made its own yet), `signal_leader`."""
    try:
        os.killpg(pid, signum)
    except ProcessLookupError:
        with contextlib.suppress(ProcessLookupError):
            signal_leader()
